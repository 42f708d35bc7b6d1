#pragma once

#include "gatewayd/config/config.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace gw {

// `/api/users` matches `/api/users` and `/api/users/...`, never `/api/usersX`.
bool path_prefix_matches(std::string_view path, std::string_view prefix);

// The target as the backend sees it once the prefix is cut: `/api/users/7?q=1` → `/7?q=1`,
// `/api/users` → `/`, `/api/users?q=1` → `/?q=1`.
std::string strip_path_prefix(std::string_view target, std::string_view prefix);

// The routes in order, first match wins. Routes are indexed by the first segment of their
// prefix so that a request looks only at the routes that could match it, not at all of them.
class route_table {
public:
    route_table() = default;
    explicit route_table(const std::vector<route_config>& routes);

    // Index into the routes given at construction, or nothing: the default pool's turn.
    std::optional<std::size_t> match(std::string_view target, std::string_view host, std::string_view method) const;

    std::size_t size() const { return routes_.size(); }

private:
    // Lets the index be searched with a string_view, without building a string per request.
    struct segment_hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
    };
    struct entry {
        std::string prefix;
        std::string host;  // lower case, "" = any
        std::vector<std::string> methods;
    };
    bool matches(const entry& route, std::string_view path, std::string_view host, std::string_view method) const;

    std::vector<entry> routes_;
    std::unordered_map<std::string, std::vector<std::size_t>, segment_hash, std::equal_to<>> by_first_segment_;
    std::vector<std::size_t> any_path_;  // prefix "/": a candidate for every request
};

}  // namespace gw
