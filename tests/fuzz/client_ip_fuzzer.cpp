// IP address and CIDR parsing, the client behind X-Forwarded-For, and the X-Forwarded-For value
// sent on. Input: line 1 the peer, line 2 the trusted networks (comma separated), the rest the
// X-Forwarded-For value as the client sent it.
#include "fuzz_check.hpp"

#include "gatewayd/chain/client_identity.hpp"
#include "gatewayd/http/header_rewrite.hpp"
#include "gatewayd/config/ip_network.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace {

std::string_view take_line(std::string_view& rest) {
    const auto end = rest.find('\n');
    const std::string_view line = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 1);
    return line;
}

void check_address_text(std::string_view text) {
    const auto address = gw::parse_ip_address(text);
    if (!address) return;
    const std::string written = gw::to_string(*address);
    FUZZ_CHECK(!written.empty());
    FUZZ_CHECK(gw::parse_ip_address(written) == address);
}

void check_network(const gw::ip_network& network) {
    FUZZ_CHECK(network.prefix_length <= 128);
    FUZZ_CHECK(network.contains(network.base));
    // An IPv4 block is the IPv4-mapped part of the IPv6 space: its prefix counts from bit 96.
    if (network.base.v4) FUZZ_CHECK(network.prefix_length >= 96);
    const unsigned written_prefix = network.base.v4 ? network.prefix_length - 96 : network.prefix_length;
    const auto again = gw::parse_ip_network(gw::to_string(network.base) + "/" + std::to_string(written_prefix));
    FUZZ_CHECK(again == network);
}

bool is_listed(const gw::ip_address& address, std::string_view forwarded_for) {
    while (true) {
        const auto comma = forwarded_for.find(',');
        std::string_view entry = forwarded_for.substr(0, comma);
        while (!entry.empty() && (entry.front() == ' ' || entry.front() == '\t')) entry.remove_prefix(1);
        while (!entry.empty() && (entry.back() == ' ' || entry.back() == '\t')) entry.remove_suffix(1);
        if (gw::parse_ip_address(entry) == address) return true;
        if (comma == std::string_view::npos) return false;
        forwarded_for.remove_prefix(comma + 1);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view rest{reinterpret_cast<const char*>(data), size};
    const std::string_view peer_text = take_line(rest);
    std::string_view networks_text = take_line(rest);
    const std::string_view forwarded = rest;

    check_address_text(peer_text);
    const gw::ip_address peer = gw::parse_ip_address(peer_text).value_or(*gw::parse_ip_address("192.0.2.1"));

    std::vector<gw::ip_network> trusted;
    while (!networks_text.empty()) {
        const auto comma = networks_text.find(',');
        const std::string_view item = networks_text.substr(0, comma);
        networks_text = comma == std::string_view::npos ? std::string_view{} : networks_text.substr(comma + 1);
        check_address_text(item);
        if (const auto network = gw::parse_ip_network(item)) {
            check_network(*network);
            trusted.push_back(*network);
        }
    }

    const gw::ip_address client = gw::client_identity(peer, forwarded, trusted);
    const bool peer_trusted = gw::is_trusted_proxy(peer, trusted);
    // Headers from a peer we do not trust cannot change who the client is.
    if (!peer_trusted) FUZZ_CHECK(client == peer);
    // The client is the peer or an address someone in the chain wrote, never garbage.
    FUZZ_CHECK(client == peer || is_listed(client, forwarded));
    // The walk goes from the right and stops at the first untrusted address: what the client
    // wrote further left cannot change it.
    if (peer_trusted && !gw::is_trusted_proxy(client, trusted)) {
        const std::string forged = "203.0.113.9, garbage, " + std::string{forwarded};
        FUZZ_CHECK(gw::client_identity(peer, forged, trusted) == client);
    }

    const std::string key = gw::client_key(client);
    FUZZ_CHECK(!key.empty());
    FUZZ_CHECK(key.ends_with("/64") != client.v4);

    const std::string peer_ip = gw::to_string(peer);
    const std::string sent_on = gw::forwarded_for(forwarded, peer_trusted, peer_ip);
    if (!peer_trusted) FUZZ_CHECK(sent_on == peer_ip);
    FUZZ_CHECK(sent_on.ends_with(peer_ip));
    return 0;
}
