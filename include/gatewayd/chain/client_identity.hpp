#pragma once

#include "gatewayd/config/ip_network.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace gw {

// The peer is inside one of the trusted proxy networks.
bool is_trusted_proxy(const ip_address& peer, const std::vector<ip_network>& trusted_proxies);

// Who the rate limiter counts. The TCP peer, unless the peer is a trusted proxy: then
// X-Forwarded-For is walked from the right and the first address that is not a trusted proxy
// is the client. A malformed entry ends the walk at the last address a trusted hop vouched for,
// so garbage never becomes the client; if every entry is trusted the left-most one is taken.
ip_address client_identity(const ip_address& peer, std::string_view forwarded_for,
                           const std::vector<ip_network>& trusted_proxies);

// The rate-limit key for a client: IPv4 as dotted quad, IPv6 as its /64 ("2001:db8:1:2::/64"),
// since one IPv6 host usually owns a whole /64.
std::string client_key(const ip_address& client);

}  // namespace gw
