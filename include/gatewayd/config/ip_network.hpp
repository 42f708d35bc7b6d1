#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gw {

// An IPv4 or IPv6 address as 16 bytes; IPv4 is kept in its IPv4-mapped IPv6 form so that a
// peer seen on a dual-stack socket compares equal to the same address written as IPv4.
struct ip_address {
    std::array<std::uint8_t, 16> bytes{};
    bool v4 = false;
    friend bool operator==(const ip_address&, const ip_address&) = default;
};

// Strict: dotted quad or RFC 4291 text, nothing around it (no port, no brackets, no zone).
std::optional<ip_address> parse_ip_address(std::string_view text);
std::string to_string(const ip_address& address);

// A CIDR block; a bare address is a block of one.
struct ip_network {
    ip_address base;
    unsigned prefix_length = 0;  // over the 128-bit form: IPv4 /8 is stored as /104
    bool contains(const ip_address& address) const;
    friend bool operator==(const ip_network&, const ip_network&) = default;
};

std::optional<ip_network> parse_ip_network(std::string_view text);

}  // namespace gw
