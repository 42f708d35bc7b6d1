#pragma once

#include "gatewayd/config.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <chrono>
#include <vector>

namespace gw {

using steady_clock = std::chrono::steady_clock;

struct idle_connection {
    boost::beast::tcp_stream stream;
    steady_clock::time_point idle_since;
};

// One backend as one event loop sees it: where it is, whether it is up, its idle connections.
struct backend {
    backend_config config;
    boost::asio::ip::tcp::endpoint endpoint;
    bool healthy = true;
    std::vector<idle_connection> idle;  // most recently used last
};

}  // namespace gw
