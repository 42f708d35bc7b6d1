#include "gatewayd/limit/route_limits.hpp"

namespace gw {

const rate_limit_config& limits_for(const config& settings, const route_config* route,
                                    std::optional<rate_limit_config>& storage) {
    if (route == nullptr || !route->rate_limit) return settings.rate_limit;
    rate_limit_config& limits = storage.emplace(settings.rate_limit);
    const auto& own = *route->rate_limit;
    if (own.enabled) limits.enabled = *own.enabled;
    if (own.requests) limits.requests = *own.requests;
    if (own.window) limits.window = *own.window;
    if (own.algorithm) limits.algorithm = *own.algorithm;
    if (own.burst) limits.burst = *own.burst;
    if (own.key) limits.key = *own.key;
    if (own.shadow) limits.shadow = *own.shadow;
    if (own.rules) limits.rules = *own.rules;
    limits.key_prefix += route->name + ":";
    return limits;
}

}  // namespace gw
