#include "gatewayd/chain/phases.hpp"

#include "gatewayd/app/event_loop.hpp"
#include "gatewayd/limit/limit_check.hpp"

namespace gw {

namespace http = boost::beast::http;

bool has_limits(const request_context& context) {
    return context.limits->settings.enabled && !context.limits->rules.empty();
}

// Every rule of the request's plan, decided in one step (one Redis round trip): over an
// enforcing rule, 429; Redis unreachable under on_store_error: deny, 503. What the rules said
// goes into the facts for the headers, the 429 body and the access log.
net::awaitable<phase_result> limit_request(request_context& context) {
    const rate_limit_plan& plan = *context.limits;
    limit_checks checks;
    for (const auto& rule : plan.rules) {
        std::optional<std::string_view> header;
        if (rule.key.of == limit_key::kind::header) {
            const auto found = context.head().find(rule.key.header);
            if (found != context.head().end()) header = found->value();
        }
        checks.push_back({&rule, rule.key_prefix + limit_key_part(rule.key, context.who, header)});
    }
    const auto outcome = co_await context.loop.limiter().check(checks, plan.settings, context.settings.redis);
    auto& facts = context.facts;
    facts.rate = outcome.decision;
    facts.rate_headers = plan.settings.headers;
    if (plan.settings.standard_headers) facts.rate_policy = plan.policy_header;
    for (std::size_t i = 0; i < checks.size() && i < outcome.verdicts.size(); ++i) {
        if (!checks[i].rule->shadow || outcome.verdicts[i].allowed) continue;
        if (!facts.shadow_limited.empty()) facts.shadow_limited += ',';
        facts.shadow_limited += checks[i].rule->name;
    }
    if (outcome.result == limit_outcome::verdict::limited) co_return gateway_error::rate_limited;
    if (outcome.result == limit_outcome::verdict::unavailable) co_return gateway_error::rate_limit_unavailable;
    co_return std::nullopt;
}

}  // namespace gw
