#include "gatewayd/redis/redis_node.hpp"

#include <algorithm>
#include <charconv>

namespace gw {

std::string node_name(const host_port& node) {
    const bool v6 = node.host.find(':') != std::string::npos;
    return (v6 ? "[" + node.host + "]" : node.host) + ":" + std::to_string(node.port);
}

std::optional<host_port> parse_node_address(std::string_view text, std::string_view asked_host) {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    std::string_view host = text.substr(0, colon);
    const std::string_view port_text = text.substr(colon + 1);
    unsigned port = 0;
    const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (port_text.empty() || ec != std::errc{} || end != port_text.data() + port_text.size() || port == 0 ||
        port > 65535) {
        return std::nullopt;
    }
    if (host.starts_with('[') && host.ends_with(']') && host.size() >= 2) host = host.substr(1, host.size() - 2);
    if (host.empty()) host = asked_host;
    // Bytes that could end a log line or a metric label have no place in a host name.
    const bool printable = std::all_of(host.begin(), host.end(), [](char c) { return c > ' ' && c < 127 && c != '"'; });
    if (host.empty() || !printable) return std::nullopt;
    return host_port{std::string(host), static_cast<std::uint16_t>(port)};
}

}  // namespace gw
