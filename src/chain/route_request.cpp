#include "gatewayd/chain/phases.hpp"

#include "gatewayd/upstream/backend.hpp"

namespace gw {

namespace http = boost::beast::http;

// The first matching route and its pool, or the default pool. A request with no route and no
// default pool still goes on to the limiter, which counts it before it gets its 404.
phase_result route_request(request_context& context) {
    auto& request = context.head();
    auto& routing = context.routing;
    const auto index = routing.routes.match(request.target(), request[http::field::host], request.method_string());
    if (index) {
        context.route = &context.settings.routes[*index];
        context.facts.route = context.route->name;
        context.pool = &routing.route_pools[*index];
        context.limits = &routing.route_limits[*index];
        return std::nullopt;
    }
    if (!routing.default_pool.members.empty()) context.pool = &routing.default_pool;
    context.limits = &routing.default_limits;
    return std::nullopt;
}

}  // namespace gw
