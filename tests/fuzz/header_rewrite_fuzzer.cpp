// Header rewriting on fields built from arbitrary bytes. Input: byte 1 flags (peer trusted,
// request or response), then one "Name: value" per line. Only what Beast's parser could have
// produced is kept (token names, values without CR, LF or NUL), since that is all the rewrite
// ever sees.
#include "fuzz_check.hpp"

#include "gatewayd/http/header_rewrite.hpp"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/fields.hpp>

#include <algorithm>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

namespace beast = boost::beast;
namespace http = beast::http;

using header_list = std::vector<std::pair<std::string, std::string>>;

bool is_token_char(unsigned char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           std::string_view{"!#$%&'*+-.^_`|~"}.find(static_cast<char>(c)) != std::string_view::npos;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

header_list parse_headers(std::string_view rest) {
    header_list headers;
    while (!rest.empty() && headers.size() < 64) {
        const auto end = rest.find('\n');
        const std::string_view line = rest.substr(0, end);
        rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 1);
        const auto colon = line.find(':');
        if (colon == std::string_view::npos || colon == 0) continue;
        const std::string_view name = line.substr(0, colon);
        if (!std::all_of(name.begin(), name.end(), [](unsigned char c) { return is_token_char(c); })) continue;
        std::string value;
        for (const char c : trim(line.substr(colon + 1))) {
            if (c != '\r' && c != '\0') value += c;
        }
        headers.emplace_back(std::string{name}, std::string{trim(value)});
    }
    return headers;
}

// Every name the Connection headers list, as the contract makes them hop-by-hop too.
std::vector<std::string> connection_tokens(const header_list& headers) {
    std::vector<std::string> tokens;
    for (const auto& [name, value] : headers) {
        if (!beast::iequals(name, "Connection")) continue;
        std::string_view rest = value;
        while (true) {
            const auto comma = rest.find(',');
            const std::string_view token = trim(rest.substr(0, comma));
            if (!token.empty()) tokens.emplace_back(token);
            if (comma == std::string_view::npos) break;
            rest.remove_prefix(comma + 1);
        }
    }
    return tokens;
}

bool named_in(std::string_view name, const std::vector<std::string>& names) {
    return std::any_of(names.begin(), names.end(), [&](const std::string& n) { return beast::iequals(n, name); });
}

const std::vector<std::string> hop_by_hop{"Connection", "Keep-Alive", "Proxy-Connection", "TE",
                                          "Trailer",    "Transfer-Encoding", "Upgrade"};

// The fields as a list, without the ones the rewrite sets itself.
header_list end_to_end(const gw::header_fields& fields, const std::vector<std::string>& set_by_us) {
    header_list out;
    for (const auto& field : fields) {
        if (!named_in(field.name_string(), set_by_us)) out.emplace_back(field.name_string(), field.value());
    }
    return out;
}

std::vector<std::string_view> values_of(const gw::header_fields& fields, std::string_view name) {
    std::vector<std::string_view> values;
    auto [first, last] = fields.equal_range(name);
    for (auto it = first; it != last; ++it) values.push_back(it->value());
    return values;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const bool peer_trusted = (data[0] & 1) != 0;
    const bool response = (data[0] & 2) != 0;
    const header_list headers =
        parse_headers(std::string_view{reinterpret_cast<const char*>(data) + 1, size - 1});

    gw::header_fields fields;
    for (const auto& [name, value] : headers) fields.insert(name, value);
    // Beast files a repeated name after its last occurrence, so the order to keep is the fields'.
    const header_list before = end_to_end(fields, {});

    const std::string_view peer_ip = "10.1.2.3";
    const std::string_view request_id = "0123456789abcdef0123456789abcdef";
    const std::vector<std::string> tokens = connection_tokens(headers);

    std::vector<std::string> set_by_us{"X-Request-Id"};
    if (response) {
        gw::rewrite_response_headers(fields, request_id);
    } else {
        set_by_us.insert(set_by_us.end(), {"X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host"});
        gw::rewrite_request_headers(fields, {peer_ip, peer_trusted, request_id});
    }

    // Hop-by-hop headers, and every header Connection names, never pass.
    for (const auto& field : fields) {
        FUZZ_CHECK(!named_in(field.name_string(), hop_by_hop));
        if (!named_in(field.name_string(), set_by_us)) FUZZ_CHECK(!named_in(field.name_string(), tokens));
    }
    // End-to-end headers pass unchanged and in order.
    header_list expected;
    for (const auto& [name, value] : before) {
        if (named_in(name, hop_by_hop) || named_in(name, tokens) || named_in(name, set_by_us)) continue;
        expected.emplace_back(name, value);
    }
    const header_list passed = end_to_end(fields, set_by_us);
    if (passed != expected) {
        for (const auto& [name, value] : expected) std::fprintf(stderr, "expected %s: %s\n", name.c_str(), value.c_str());
        for (const auto& [name, value] : passed) std::fprintf(stderr, "passed   %s: %s\n", name.c_str(), value.c_str());
    }
    FUZZ_CHECK(passed == expected);

    const auto ids = values_of(fields, "X-Request-Id");
    FUZZ_CHECK(ids.size() == 1 && ids.front() == request_id);
    if (response) return 0;

    const auto forwarded = values_of(fields, "X-Forwarded-For");
    FUZZ_CHECK(forwarded.size() == 1);
    FUZZ_CHECK(forwarded.front().ends_with(peer_ip));
    // Only a trusted peer's chain is kept; anyone else's claim is dropped.
    if (!peer_trusted) FUZZ_CHECK(forwarded.front() == peer_ip);

    const auto proto = values_of(fields, "X-Forwarded-Proto");
    // A trusted proxy's own value passes as it came; anyone else gets ours, once.
    FUZZ_CHECK(!proto.empty());
    if (!peer_trusted) FUZZ_CHECK(proto.size() == 1 && proto.front() == "http");

    const auto hosts = values_of(fields, "Host");
    const auto forwarded_hosts = values_of(fields, "X-Forwarded-Host");
    if (!peer_trusted) {
        // Ours: the Host the backend gets, or nothing when there is none.
        FUZZ_CHECK(forwarded_hosts.size() == (hosts.empty() ? 0u : 1u));
        if (!hosts.empty()) FUZZ_CHECK(forwarded_hosts.front() == hosts.front());
    }
    return 0;
}
