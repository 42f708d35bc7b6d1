#include "gatewayd/http/request_framing.hpp"

#include "gatewayd/http/optional_whitespace.hpp"

#include <algorithm>
#include <cctype>

namespace gw {

namespace {

bool iequal(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

bool istarts_with(std::string_view text, std::string_view prefix) {
    return text.size() >= prefix.size() && iequal(text.substr(0, prefix.size()), prefix);
}

}  // namespace

bool acceptable_transfer_encoding(const std::vector<std::string_view>& values, unsigned version) {
    if (values.empty()) return true;
    if (version < 11) return false;
    std::size_t chunked = 0;
    for (std::string_view rest : values) {
        for (;;) {
            const auto comma = rest.find(',');
            const std::string_view token = trim_ows(rest.substr(0, comma));
            if (!token.empty()) {
                if (!iequal(token, "chunked")) return false;
                ++chunked;
            }
            if (comma == std::string_view::npos) break;
            rest.remove_prefix(comma + 1);
        }
    }
    return chunked == 1;
}

std::optional<forward_target> normalize_target(std::string_view target, bool is_options) {
    if (!target.empty() && target.front() == '/') return forward_target{};
    if (target == "*") return is_options ? std::optional<forward_target>(forward_target{}) : std::nullopt;
    std::string_view rest;
    if (istarts_with(target, "http://")) {
        rest = target.substr(7);
    } else if (istarts_with(target, "https://")) {
        rest = target.substr(8);
    } else {
        return std::nullopt;
    }
    const auto authority_end = rest.find_first_of("/?#");
    const std::string_view authority = rest.substr(0, authority_end);
    // userinfo ("user@host") is not allowed in http(s) URIs sent to a server (RFC 9110 4.2.4).
    if (authority.empty() || authority.find('@') != std::string_view::npos) return std::nullopt;
    std::string_view path = authority_end == std::string_view::npos ? std::string_view{} : rest.substr(authority_end);
    if (!path.empty() && path.front() == '#') return std::nullopt;
    forward_target out;
    out.authority.assign(authority);
    if (path.empty() || path.front() != '/') out.path = "/";
    out.path.append(path);
    return out;
}

}  // namespace gw
