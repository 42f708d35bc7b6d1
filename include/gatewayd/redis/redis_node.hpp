#pragma once

#include "gatewayd/config/host_port.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace gw {

// How a Redis node is named in logs and in the gatewayd_redis_up{node} label: "host:port", with an
// IPv6 host in brackets.
std::string node_name(const host_port& node);

// "host:port" as Redis writes it in MOVED and ASK (an IPv6 host without brackets, the port after
// the last colon); an empty host means `asked_host`, the host the command was sent to. Nothing
// when it is not an address.
std::optional<host_port> parse_node_address(std::string_view text, std::string_view asked_host);

}  // namespace gw
