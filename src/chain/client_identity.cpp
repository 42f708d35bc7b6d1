#include "gatewayd/chain/client_identity.hpp"

#include "gatewayd/http/optional_whitespace.hpp"

#include <algorithm>

namespace gw {

bool is_trusted_proxy(const ip_address& peer, const std::vector<ip_network>& trusted_proxies) {
    return std::any_of(trusted_proxies.begin(), trusted_proxies.end(),
                       [&](const ip_network& n) { return n.contains(peer); });
}

ip_address client_identity(const ip_address& peer, std::string_view forwarded_for,
                           const std::vector<ip_network>& trusted_proxies) {
    if (!is_trusted_proxy(peer, trusted_proxies)) return peer;
    ip_address current = peer;
    std::string_view rest = forwarded_for;
    while (!rest.empty()) {
        const auto comma = rest.rfind(',');
        const std::string_view entry = trim_ows(comma == std::string_view::npos ? rest : rest.substr(comma + 1));
        rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(0, comma);
        if (entry.empty()) continue;
        const auto address = parse_ip_address(entry);
        if (!address) return current;
        current = *address;
        if (!is_trusted_proxy(current, trusted_proxies)) return current;
    }
    return current;
}

std::string client_key(const ip_address& client) {
    if (client.v4) return to_string(client);
    ip_address network = client;
    std::fill(network.bytes.begin() + 8, network.bytes.end(), 0);
    return to_string(network) + "/64";
}

}  // namespace gw
