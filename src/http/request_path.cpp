#include "gatewayd/http/request_path.hpp"

#include <boost/container/small_vector.hpp>

#include <algorithm>

namespace gw {

namespace {

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

bool is_unreserved(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

// Nothing to do for most paths: no escape, no dot segment, no doubled slash, nothing refused.
bool already_normal(std::string_view path, const path_rules& rules) {
    for (std::size_t i = 0; i < path.size(); ++i) {
        const char c = path[i];
        if (c == '%' || c == '\\' || c == '#') return false;
        if (c != '/') continue;
        const std::string_view rest = path.substr(i + 1);
        if (rest.starts_with('/') && rules.merge_slashes) return false;
        if (rest == "." || rest == ".." || rest.starts_with("./") || rest.starts_with("../")) return false;
    }
    return true;
}

constexpr char upper_hex[] = "0123456789ABCDEF";

}  // namespace

normalized_path normalize_path(std::string_view target, const path_rules& rules) {
    const std::string_view path = target.substr(0, target.find('?'));
    const std::string_view query = target.substr(path.size());
    // A request target never carries a fragment (RFC 9112 3.2).
    if (!path.starts_with('/') || query.find('#') != std::string_view::npos) return {std::nullopt, path_problem::malformed};
    if (already_normal(path, rules)) return {};

    // Decode what may be decoded; an escaped slash stays escaped so it cannot become a separator.
    std::string decoded;
    decoded.reserve(path.size());
    for (std::size_t i = 0; i < path.size(); ++i) {
        const char c = path[i];
        if (c == '\\' || c == '#') return {std::nullopt, path_problem::malformed};
        if (c != '%') {
            decoded += c;
            continue;
        }
        const int high = i + 2 < path.size() ? hex_value(path[i + 1]) : -1;
        const int low = high >= 0 ? hex_value(path[i + 2]) : -1;
        if (low < 0) return {std::nullopt, path_problem::malformed};
        const auto value = static_cast<unsigned char>(high * 16 + low);
        i += 2;
        if (is_unreserved(value)) {
            decoded += static_cast<char>(value);
            continue;
        }
        if ((value == '/' || value == '\\') && rules.reject_encoded_slashes) {
            return {std::nullopt, path_problem::encoded_slash};
        }
        decoded += '%';
        decoded += upper_hex[value >> 4];
        decoded += upper_hex[value & 0xf];
    }

    // Segments after the leading '/'; a trailing empty one is a trailing slash and stays.
    boost::container::small_vector<std::string_view, 16> segments;
    std::string_view rest = std::string_view(decoded).substr(1);
    for (;;) {
        const auto slash = rest.find('/');
        const std::string_view segment = rest.substr(0, slash);
        const bool last = slash == std::string_view::npos;
        if (segment == ".") {
            if (last) segments.emplace_back();
        } else if (segment == "..") {
            if (segments.empty()) return {std::nullopt, path_problem::above_root};
            segments.pop_back();
            if (last) segments.emplace_back();
        } else if (!segment.empty() || last || !rules.merge_slashes) {
            segments.push_back(segment);
        }
        if (last) break;
        rest.remove_prefix(slash + 1);
    }

    std::string out;
    out.reserve(decoded.size() + query.size());
    for (const auto segment : segments) out.append("/").append(segment);
    if (out.empty()) out.push_back('/');
    out.append(query);
    if (out == target) return {};
    return {std::move(out), std::nullopt};
}

}  // namespace gw
