#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gw {

// "host:port" as written in `listen` and `redis.address`; an IPv6 host is written in brackets.
struct host_port {
    std::string host;
    std::uint16_t port = 0;
    friend bool operator==(const host_port&, const host_port&) = default;
};

// "0.0.0.0:8080", "[::1]:9901", "localhost:6379"; an empty host (":8080") means every address.
std::optional<host_port> parse_host_port(std::string_view text);

}  // namespace gw
