#pragma once

#include "gatewayd/config/ip_network.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace gw {

// Whom a rate-limit rule counts: each client by its address, each value of a request header
// (an API key, say), or everyone together.
struct limit_key {
    enum class kind { client_ip, header, global };
    kind of = kind::client_ip;
    std::string header;  // the header's name, for kind::header
    friend bool operator==(const limit_key&, const limit_key&) = default;
};

// "client_ip", "global" or "header:<Name>" with a header name (a token); nothing otherwise.
std::optional<limit_key> parse_limit_key(std::string_view text);

// The client's part of a rule's key: its address (IPv6 by /64), "all", or the lower-case hex
// SHA-256 of the header's value — an API key is a secret and never reaches Redis or a log as it
// is — or "ip:<address>" for a request without the header.
std::string limit_key_part(const limit_key& key, const ip_address& client, std::optional<std::string_view> header_value);

}  // namespace gw
