#include "gatewayd/limit/limit_rule.hpp"

#include "gatewayd/limit/route_limits.hpp"

namespace gw {

limit_rule make_limit_rule(std::string name, const limit_algorithm* algorithm, limit_params params, bool shadow,
                           std::string key_prefix) {
    limit_rule rule{std::move(name), algorithm, params, shadow, std::move(key_prefix), {}};
    rule.script_args = {std::string(algorithm->name()), std::to_string(params.requests),
                        std::to_string(params.window.count()), std::to_string(params.burst), shadow ? "1" : "0"};
    return rule;
}

rate_limit_plan plan_rate_limits(const config& settings, const route_config* route) {
    std::optional<rate_limit_config> storage;
    rate_limit_plan plan{limits_for(settings, route, storage), {}};
    if (plan.settings.enabled) {
        const limit_params params{plan.settings.requests, plan.settings.window, 0};
        plan.rules.push_back(
            make_limit_rule("default", find_limit_algorithm("fixed_window"), params, false, plan.settings.key_prefix));
    }
    return plan;
}

}  // namespace gw
