#include "gatewayd/upstream/backend_set.hpp"

#include <algorithm>

namespace gw {

std::shared_ptr<backend_set> build_backend_set(const config& settings, const endpoint_map& endpoints,
                                               const backend_set* previous, backend_registry& registry) {
    auto next = std::make_shared<backend_set>();
    auto obtain = [&](const backend_config& wanted, const std::string& route) {
        for (const auto& have : next->members) {
            if (have->settings.url == wanted.url) {
                if (std::find(have->routes.begin(), have->routes.end(), route) == have->routes.end()) {
                    have->routes.push_back(route);
                }
                return have;
            }
        }
        std::shared_ptr<backend> found;
        if (previous != nullptr) {
            for (const auto& old : previous->members) {
                if (old->settings.url == wanted.url) found = old;
            }
        }
        if (found) {
            found->endpoint = endpoints.at(wanted.url);
            found->state->reconfigure(settings);
            found->routes.clear();
        } else {
            found = std::make_shared<backend>(wanted, endpoints.at(wanted.url), registry.obtain(wanted.url, settings));
        }
        found->routes.push_back(route);
        next->members.push_back(found);
        return found;
    };
    for (const auto& wanted : settings.backends) next->default_pool.members.push_back(obtain(wanted, "default"));
    for (const auto& route : settings.routes) {
        auto& pool = next->route_pools.emplace_back();
        for (const auto& wanted : route.backends.value_or(settings.backends)) {
            pool.members.push_back(obtain(wanted, route.name));
        }
    }
    next->default_limits = plan_rate_limits(settings, nullptr);
    for (const auto& route : settings.routes) next->route_limits.push_back(plan_rate_limits(settings, &route));
    next->routes = route_table(settings.routes);
    return next;
}

}  // namespace gw
