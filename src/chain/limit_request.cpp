#include "gatewayd/chain/phases.hpp"

#include "gatewayd/app/event_loop.hpp"
#include "gatewayd/chain/client_identity.hpp"
#include "gatewayd/limit/limit_check.hpp"

namespace gw {

// The client's limits, in Redis or memory: over one, 429; Redis unreachable under
// on_store_error: deny, 503. The decision goes into the facts for the X-RateLimit-* headers.
bool has_limits(const request_context& context) {
    return context.limits->settings.enabled && !context.limits->rules.empty();
}

net::awaitable<phase_result> limit_request(request_context& context) {
    const rate_limit_plan& plan = *context.limits;
    limit_checks checks;
    const std::string client = client_key(context.who);
    for (const auto& rule : plan.rules) checks.push_back({&rule, rule.key_prefix + client});
    const auto outcome = co_await context.loop.limiter().check(checks, plan.settings, context.settings.redis);
    if (!outcome.verdicts.empty()) {
        context.facts.rate = to_rate_decision(outcome.verdicts.front(), checks.front().rule->params);
    }
    context.facts.rate_headers = plan.settings.headers;
    if (outcome.result == limit_outcome::verdict::limited) co_return gateway_error::rate_limited;
    if (outcome.result == limit_outcome::verdict::unavailable) co_return gateway_error::rate_limit_unavailable;
    co_return std::nullopt;
}

}  // namespace gw
