#pragma once

#include "gatewayd/config/config.hpp"
#include "gatewayd/upstream/backend.hpp"

#include <boost/asio/ip/tcp.hpp>

#include <optional>
#include <string>

namespace gw {

// host:port as an address to bind or connect to (the resolver, blocking: only at start and on
// reload), or the reason in `error`. An empty host is every address.
std::optional<boost::asio::ip::tcp::endpoint> resolve(const std::string& host, std::uint16_t port, std::string& error);

// The address of every backend URL a config names (top level and routes), or the reason one
// cannot be resolved.
std::optional<endpoint_map> resolve_backends(const config& settings, std::string& error);

}  // namespace gw
