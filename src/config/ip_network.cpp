#include "gatewayd/config/ip_network.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstring>

namespace gw {

namespace {

constexpr std::array<std::uint8_t, 12> mapped_prefix{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

bool is_mapped(const std::array<std::uint8_t, 16>& bytes) {
    return std::equal(mapped_prefix.begin(), mapped_prefix.end(), bytes.begin());
}

// Zeroes every bit after the first `prefix_length` bits.
void mask(std::array<std::uint8_t, 16>& bytes, unsigned prefix_length) {
    for (unsigned i = 0; i < 16; ++i) {
        unsigned first_bit = i * 8;
        if (prefix_length >= first_bit + 8) continue;
        unsigned kept = prefix_length > first_bit ? prefix_length - first_bit : 0;
        bytes[i] &= static_cast<std::uint8_t>(0xff00u >> kept);
    }
}

}  // namespace

std::optional<ip_address> parse_ip_address(std::string_view text) {
    // inet_pton needs a terminated string; an embedded NUL must not cut the text short.
    if (text.empty() || text.size() > INET6_ADDRSTRLEN || text.find('\0') != text.npos) {
        return std::nullopt;
    }
    std::string terminated{text};
    ip_address address;
    // glibc's inet_pton is strict: no "1.2.3", no "01.2.3.4", no zone, port or brackets.
    if (text.find(':') == text.npos) {
        std::array<std::uint8_t, 4> v4{};
        if (inet_pton(AF_INET, terminated.c_str(), v4.data()) != 1) return std::nullopt;
        std::copy(mapped_prefix.begin(), mapped_prefix.end(), address.bytes.begin());
        std::copy(v4.begin(), v4.end(), address.bytes.begin() + 12);
    } else if (inet_pton(AF_INET6, terminated.c_str(), address.bytes.data()) != 1) {
        return std::nullopt;
    }
    // "::ffff:10.0.0.1" is the same peer as "10.0.0.1", so it must compare equal.
    address.v4 = is_mapped(address.bytes);
    return address;
}

std::string to_string(const ip_address& address) {
    char text[INET6_ADDRSTRLEN] = {};
    if (address.v4) {
        // By hand: inet_ntop formats IPv4 with sprintf, and this runs for every limited request.
        char* at = text;
        for (std::size_t i = 12; i < 16; ++i) {
            const unsigned octet = address.bytes[i];
            if (octet >= 100) *at++ = static_cast<char>('0' + octet / 100);
            if (octet >= 10) *at++ = static_cast<char>('0' + octet / 10 % 10);
            *at++ = static_cast<char>('0' + octet % 10);
            if (i != 15) *at++ = '.';
        }
        return std::string(text, at);
    } else {
        inet_ntop(AF_INET6, address.bytes.data(), text, sizeof text);
    }
    return text;
}

bool ip_network::contains(const ip_address& address) const {
    auto masked = address.bytes;
    mask(masked, prefix_length);
    return masked == base.bytes;
}

std::optional<ip_network> parse_ip_network(std::string_view text) {
    auto slash = text.find('/');
    auto address = parse_ip_address(text.substr(0, slash));
    if (!address) return std::nullopt;
    unsigned written_max = address->v4 && text.find(':') == text.npos ? 32 : 128;
    unsigned offset = 128 - written_max;  // an IPv4 prefix counts from the mapped form's bit 96
    unsigned prefix = written_max;
    if (slash != text.npos) {
        auto digits = text.substr(slash + 1);
        // Digits only, no sign, no leading zero: "/08" is more likely a typo than a prefix.
        if (digits.empty() || digits.size() > 3 || (digits.size() > 1 && digits.front() == '0') ||
            !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
            return std::nullopt;
        }
        std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
        if (prefix > written_max) return std::nullopt;
    }
    ip_network network{.base = *address, .prefix_length = prefix + offset};
    // Host bits are dropped, as Go's net.ParseCIDR does: "10.1.2.3/8" is the block 10.0.0.0/8.
    mask(network.base.bytes, network.prefix_length);
    network.base.v4 = is_mapped(network.base.bytes);
    return network;
}

}  // namespace gw
