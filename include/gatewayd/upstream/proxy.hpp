#pragma once

#include "gatewayd/chain/request_context.hpp"
#include "gatewayd/io/net.hpp"

namespace gw {

// The end of the chain: the pool's balancer offers backends, health and the circuit breakers
// decide which may take the request, a pooled or new connection carries it (exchange), and a
// try that failed before any response byte is retried as try_outcome says. Each backend tried
// takes a breaker admission, reported once: success, failure or, when the client went away,
// neither.
net::awaitable<request_outcome> proxy_request(request_context& context);

}  // namespace gw
