#include "gatewayd/chain/route_table.hpp"

#include <algorithm>

namespace gw {

namespace {

// "/api/users/7" → "api"; "/" → "".
std::string_view first_segment(std::string_view path) {
    if (path.starts_with('/')) path.remove_prefix(1);
    return path.substr(0, path.find('/'));
}

std::string_view path_of(std::string_view target) { return target.substr(0, target.find('?')); }

// The Host header without its port; an IPv6 literal keeps its brackets.
std::string_view host_without_port(std::string_view host) {
    if (host.starts_with('[')) {
        const auto close = host.find(']');
        return close == std::string_view::npos ? host : host.substr(0, close + 1);
    }
    return host.substr(0, host.find(':'));
}

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return (x >= 'A' && x <= 'Z' ? x + 32 : x) == (y >= 'A' && y <= 'Z' ? y + 32 : y);
           });
}

}  // namespace

bool path_prefix_matches(std::string_view path, std::string_view prefix) {
    if (!path.starts_with(prefix)) return false;
    return path.size() == prefix.size() || prefix.ends_with('/') || path[prefix.size()] == '/';
}

std::string strip_path_prefix(std::string_view target, std::string_view prefix) {
    const std::string_view path = path_of(target);
    const std::string_view query = target.substr(path.size());
    std::string_view rest = path.substr(std::min(prefix.size(), path.size()));
    // A prefix written with a trailing slash took the slash along; the backend still gets one.
    std::string stripped = rest.starts_with('/') ? std::string(rest) : "/" + std::string(rest);
    stripped += query;
    return stripped;
}

route_table::route_table(const std::vector<route_config>& routes) {
    for (std::size_t i = 0; i < routes.size(); ++i) {
        const auto& route = routes[i];
        std::string host = route.host;
        std::transform(host.begin(), host.end(), host.begin(),
                       [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; });
        routes_.push_back({route.path_prefix, std::move(host), route.methods});
        const std::string_view segment = first_segment(route.path_prefix);
        // "/" and "/api/" style prefixes whose first segment is the whole of them still index fine;
        // only the empty first segment ("/") matches every path.
        if (segment.empty()) {
            any_path_.push_back(i);
        } else {
            by_first_segment_[std::string(segment)].push_back(i);
        }
    }
}

bool route_table::matches(const entry& route, std::string_view path, std::string_view host,
                          std::string_view method) const {
    if (!path_prefix_matches(path, route.prefix)) return false;
    if (!route.host.empty() && !iequals(route.host, host_without_port(host))) return false;
    if (!route.methods.empty() && std::find(route.methods.begin(), route.methods.end(), method) == route.methods.end()) {
        return false;
    }
    return true;
}

std::optional<std::size_t> route_table::match(std::string_view target, std::string_view host,
                                              std::string_view method) const {
    if (routes_.empty()) return std::nullopt;
    const std::string_view path = path_of(target);
    static const std::vector<std::size_t> none;
    const auto found = by_first_segment_.find(first_segment(path));
    const auto& segment_routes = found == by_first_segment_.end() ? none : found->second;
    // Both candidate lists are in route order: walk them together so the first match wins.
    auto a = segment_routes.begin();
    auto b = any_path_.begin();
    while (a != segment_routes.end() || b != any_path_.end()) {
        std::size_t next;
        if (b == any_path_.end() || (a != segment_routes.end() && *a < *b)) {
            next = *a++;
        } else {
            next = *b++;
        }
        if (matches(routes_[next], path, host, method)) return next;
    }
    return std::nullopt;
}

}  // namespace gw
