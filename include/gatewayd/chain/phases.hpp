#pragma once

#include "gatewayd/chain/chain.hpp"

#include <array>

namespace gw {

// One file each in src/chain/. To add a phase (an API-key check, say): write its file,
// declare it here and give it its place in `request_phases`.
phase_result validate_request(request_context& context);   // framing, Host, target, path
phase_result identify_client(request_context& context);    // the client a trusted proxy names
phase_result route_request(request_context& context);      // the route and its pool
net::awaitable<phase_result> limit_request(request_context& context);  // the rate limiter
bool has_limits(const request_context& context);
phase_result prepare_forwarding(request_context& context);  // the head as the backend gets it

// The order every request takes; the proxy (upstream/proxy.hpp) comes after the last.
inline const std::array request_phases{
    phase{"validate", &validate_request},
    phase{"identify_client", &identify_client},
    phase{"route", &route_request},
    phase{"rate_limit", &limit_request, &has_limits},
    phase{"prepare_forwarding", &prepare_forwarding},
};

}  // namespace gw
