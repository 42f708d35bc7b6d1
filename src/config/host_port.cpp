#include "gatewayd/config/host_port.hpp"

#include "gatewayd/config/ip_network.hpp"

#include <algorithm>
#include <charconv>

namespace gw {

namespace {

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

bool is_label_char(char c) {
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '_';
}

// A DNS name of 1-63 character labels, or a strict dotted quad when it looks numeric: the
// resolver would otherwise read "1.2.3" or "010.0.0.1" in inet_aton's surprising ways.
bool is_host_name(std::string_view host) {
    if (host.empty() || host.size() > 253) return false;
    std::string_view last_label;
    for (std::string_view rest = host;;) {
        auto dot = rest.find('.');
        auto label = rest.substr(0, dot);
        if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-' ||
            !std::all_of(label.begin(), label.end(), is_label_char)) {
            return false;
        }
        last_label = label;
        if (dot == rest.npos) break;
        rest.remove_prefix(dot + 1);
    }
    if (std::all_of(last_label.begin(), last_label.end(), is_digit)) {
        return parse_ip_address(host).has_value();
    }
    return true;
}

std::optional<std::uint16_t> parse_port(std::string_view text) {
    if (text.empty() || text.size() > 5 || !std::all_of(text.begin(), text.end(), is_digit)) {
        return std::nullopt;
    }
    unsigned value = 0;
    std::from_chars(text.data(), text.data() + text.size(), value);
    if (value < 1 || value > 65535) return std::nullopt;
    return static_cast<std::uint16_t>(value);
}

}  // namespace

std::optional<host_port> parse_host_port(std::string_view text) {
    auto colon = text.rfind(':');
    if (colon == text.npos) return std::nullopt;
    auto port = parse_port(text.substr(colon + 1));
    if (!port) return std::nullopt;
    auto host = text.substr(0, colon);

    // IPv6 needs brackets so that its colons are not mistaken for the port separator.
    if (host.starts_with('[')) {
        if (!host.ends_with(']')) return std::nullopt;
        auto inside = host.substr(1, host.size() - 2);
        auto address = parse_ip_address(inside);
        if (!address || inside.find(':') == inside.npos) return std::nullopt;
        return host_port{std::string{inside}, *port};
    }
    if (!host.empty() && !is_host_name(host)) return std::nullopt;
    return host_port{std::string{host}, *port};
}

}  // namespace gw
