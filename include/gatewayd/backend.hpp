#pragma once

#include "gatewayd/config.hpp"
#include "gatewayd/health_state.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <chrono>
#include <vector>

namespace gw {

using steady_clock = std::chrono::steady_clock;

// Kept as a bare socket: a pooled connection needs no timer until it is used again.
struct idle_connection {
    boost::asio::ip::tcp::socket socket;
    steady_clock::time_point idle_since;
};

// One backend as one event loop sees it: where it is, whether it is up, its idle connections.
struct backend {
    backend_config config;
    boost::asio::ip::tcp::endpoint endpoint;
    health_state health{2, 3};
    std::vector<idle_connection> idle;  // most recently used last
};

}  // namespace gw
