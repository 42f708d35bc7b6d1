#pragma once

#include "gatewayd/io/net.hpp"
#include <boost/asio/ip/tcp.hpp>

namespace gw {

class event_loop;

// One client connection, from accept to close: read a request, pass it through the chain,
// relay it to a backend and the answer back, and loop while keep-alive lasts. `secure`: it came
// to the TLS listener, and the TLS handshake comes first.
net::awaitable<void> run_session(net::socket socket, event_loop& loop, bool secure = false);

}  // namespace gw
