#include "gatewayd/limit/limit_key.hpp"

#include "gatewayd/chain/client_identity.hpp"

#include <openssl/evp.h>

#include <algorithm>

namespace gw {

namespace {

bool is_tchar(char c) {
    constexpr std::string_view others = "!#$%&'*+-.^_`|~";
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           others.find(c) != std::string_view::npos;
}

std::string sha256_hex(std::string_view value) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    EVP_Digest(value.data(), value.size(), digest, &size, EVP_sha256(), nullptr);
    constexpr char hex[] = "0123456789abcdef";
    std::string out(2 * size, '0');
    for (unsigned int i = 0; i < size; ++i) {
        out[2 * i] = hex[digest[i] >> 4];
        out[2 * i + 1] = hex[digest[i] & 0xf];
    }
    return out;
}

}  // namespace

std::optional<limit_key> parse_limit_key(std::string_view text) {
    if (text == "client_ip") return limit_key{limit_key::kind::client_ip, {}};
    if (text == "global") return limit_key{limit_key::kind::global, {}};
    constexpr std::string_view header = "header:";
    if (!text.starts_with(header)) return std::nullopt;
    const std::string_view name = text.substr(header.size());
    if (name.empty() || !std::all_of(name.begin(), name.end(), is_tchar)) return std::nullopt;
    return limit_key{limit_key::kind::header, std::string(name)};
}

std::string limit_key_part(const limit_key& key, const ip_address& client, std::optional<std::string_view> header_value) {
    switch (key.of) {
    case limit_key::kind::client_ip: return client_key(client);
    case limit_key::kind::global: return "all";
    case limit_key::kind::header:
        if (header_value) return sha256_hex(*header_value);
        return "ip:" + client_key(client);
    }
    return client_key(client);
}

}  // namespace gw
