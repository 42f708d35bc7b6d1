#include "gatewayd/limit/limit_rule.hpp"

#include "gatewayd/limit/route_limits.hpp"

namespace gw {

namespace {

std::uint64_t whole_seconds_up(std::chrono::milliseconds window) {
    return std::max<std::uint64_t>(static_cast<std::uint64_t>((window.count() + 999) / 1000), 1);
}

// A rule of `rules` with what it leaves unset taken from the block.
limit_rule rule_from(const rate_limit_config& block, const rate_limit_rule_config& own, const std::string& prefix) {
    const std::string algorithm = own.algorithm.value_or(block.algorithm);
    // A burst means something to gcra only; one inherited by another algorithm is dropped.
    const std::uint64_t burst = algorithm == "gcra" ? own.burst.value_or(block.burst) : 0;
    const limit_params params{own.requests.value_or(block.requests), own.window.value_or(block.window), burst};
    return make_limit_rule(own.name, find_limit_algorithm(algorithm), params, own.shadow.value_or(block.shadow),
                           prefix + own.name + ":", parse_limit_key(own.key.value_or(block.key)).value_or(limit_key{}));
}

}  // namespace

limit_rule make_limit_rule(std::string name, const limit_algorithm* algorithm, limit_params params, bool shadow,
                           std::string key_prefix, limit_key key) {
    limit_rule rule{std::move(name), algorithm, params, shadow, std::move(key), std::move(key_prefix), {}};
    rule.script_args = {std::string(algorithm->name()), std::to_string(params.requests),
                        std::to_string(params.window.count()), std::to_string(params.burst), shadow ? "1" : "0"};
    return rule;
}

rate_limit_plan plan_rate_limits(const config& settings, const route_config* route) {
    std::optional<rate_limit_config> storage;
    rate_limit_plan plan{limits_for(settings, route, storage), {}, {}};
    const rate_limit_config& block = plan.settings;
    if (!block.enabled) return plan;
    const std::uint64_t burst = block.algorithm == "gcra" ? block.burst : 0;
    plan.rules.push_back(make_limit_rule("default", find_limit_algorithm(block.algorithm),
                                         {block.requests, block.window, burst}, block.shadow, block.key_prefix,
                                         parse_limit_key(block.key).value_or(limit_key{})));
    for (const auto& own : block.rules) plan.rules.push_back(rule_from(block, own, block.key_prefix));
    for (const auto& rule : plan.rules) {
        if (rule.shadow) continue;
        if (!plan.policy_header.empty()) plan.policy_header += ", ";
        plan.policy_header += "\"" + rule.name + "\";q=" + std::to_string(rule.params.requests) +
                              ";w=" + std::to_string(whole_seconds_up(rule.params.window));
    }
    return plan;
}

}  // namespace gw
