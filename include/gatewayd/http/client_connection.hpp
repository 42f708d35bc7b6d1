#pragma once

#include "gatewayd/config/ip_network.hpp"
#include "gatewayd/io/timed_stream.hpp"

#include <boost/beast/core/flat_buffer.hpp>

#include <string>

namespace gw {

// One client connection, for as long as it lives: its socket (with TLS when it came to the TLS
// listener), what arrived and was not used yet, who the peer is, and the backend connection of
// the current request.
struct client_connection {
    explicit client_connection(net::socket socket) : stream(std::move(socket)), upstream(stream.get_executor()) {}

    timed_stream stream;
    // Pooled connections are moved in and out of this one, which keeps its deadline timer for
    // the whole session.
    timed_stream upstream;
    boost::beast::flat_buffer buffer;
    std::string peer_ip;
    ip_address peer_address;
    bool peer_trusted = false;
    bool secure = false;  // came over TLS: X-Forwarded-Proto is https
};

}  // namespace gw
