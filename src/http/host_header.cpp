#include "gatewayd/http/host_header.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <charconv>

namespace gw {

namespace {

constexpr std::size_t max_host_bytes = 255;

bool is_hex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool is_reg_name_char(char c) {
    constexpr std::string_view others = "-._~!$&'()*+,;=";
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           others.find(c) != std::string_view::npos;
}

bool valid_reg_name(std::string_view host) {
    for (std::size_t i = 0; i < host.size(); ++i) {
        if (host[i] == '%') {
            if (i + 2 >= host.size() || !is_hex(host[i + 1]) || !is_hex(host[i + 2])) return false;
            i += 2;
        } else if (!is_reg_name_char(host[i])) {
            return false;
        }
    }
    return true;
}

bool valid_ipv6(std::string_view inside) {
    std::array<char, 64> text{};
    if (inside.empty() || inside.size() >= text.size()) return false;
    // inet_pton reads up to a NUL: "::1\0junk" would pass as "::1" (found by the fuzzer).
    if (inside.find_first_not_of("0123456789abcdefABCDEF:.") != std::string_view::npos) return false;
    std::copy(inside.begin(), inside.end(), text.begin());
    in6_addr address{};
    return inet_pton(AF_INET6, text.data(), &address) == 1;
}

bool valid_port(std::string_view port) {
    // An empty port is allowed by the grammar (port = *DIGIT) and means the default.
    if (port.empty()) return true;
    if (port.size() > 5 || !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        return false;
    }
    unsigned value = 0;
    std::from_chars(port.data(), port.data() + port.size(), value);
    return value <= 65535;
}

}  // namespace

bool valid_host(std::string_view value) {
    std::string_view host = value;
    std::string_view port;
    if (value.starts_with('[')) {
        const auto close = value.find(']');
        if (close == std::string_view::npos || !valid_ipv6(value.substr(1, close - 1))) return false;
        const std::string_view after = value.substr(close + 1);
        if (!after.empty() && after.front() != ':') return false;
        return after.empty() || valid_port(after.substr(1));
    }
    if (const auto colon = value.find(':'); colon != std::string_view::npos) {
        host = value.substr(0, colon);
        port = value.substr(colon + 1);
        if (!valid_port(port)) return false;
    }
    return !host.empty() && host.size() <= max_host_bytes && valid_reg_name(host);
}

}  // namespace gw
