#pragma once

#include "gatewayd/chain/request_context.hpp"
#include "gatewayd/io/net.hpp"

namespace gw {

// After a 101: bytes both ways between the client and the backend connection of `context`
// until either side closes, nothing moves for tunnel_idle_timeout, or the end of a drain closes
// it. Each direction reads into a bounded buffer and writes it out whole before reading again,
// so a slow reader on one side stops the reading on the other. What the client sent after its
// request head goes to the backend first.
net::awaitable<void> run_tunnel(request_context& context);

}  // namespace gw
