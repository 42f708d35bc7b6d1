#pragma once

#include "gatewayd/io/net.hpp"
#include <boost/asio/ip/tcp.hpp>

#include <vector>

namespace gw {

class event_loop;

// The admin listener: /healthz, /readyz and /backends, answered from the state of the event
// loop it runs on (`owner`), and /metrics, summed over every loop (each sampled on its own
// thread). Ends when the acceptor is closed.
net::awaitable<void> run_admin(net::acceptor& acceptor, event_loop& loop,
                                       std::vector<event_loop*> loops);

}  // namespace gw
