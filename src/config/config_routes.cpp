#include "config_reader.hpp"

#include <boost/url/parse.hpp>

#include <algorithm>

// Backend lists (top level and per route) and the routes.

namespace gw::config_detail {

void config_reader::read_backends(const YAML::Node& node, const std::string& path,
                                  std::vector<backend_config>& out) {
    if (!is_list(node)) {
        fail(node, path, "expected a list of {url: http://host:port}");
        return;
    }
    std::vector<backend_config> backends;
    std::size_t index = 0;
    for (const auto& item : items_of(node)) {
        auto at = item_path(path, index++);
        std::optional<backend_config> backend;
        bool has_url = false;
        const field fields[] = {
            {"url",
             [&](auto& v, auto& p) {
                 has_url = true;
                 backend = read_backend_url(v, p);
                 // One breaker per URL: the same backend twice in a list would double its share.
                 auto same = [&](const backend_config& b) { return backend && b.url == backend->url; };
                 if (std::any_of(backends.begin(), backends.end(), same)) {
                     fail(v, p, "duplicate backend " + quoted(backend->url));
                     backend.reset();
                 }
             }},
        };
        if (!read_mapping(item, at, fields)) continue;
        if (!has_url) fail(item, at, "\"url\" is required");
        if (backend) backends.push_back(*backend);
    }
    out = std::move(backends);
}

// http:// or https://host[:port][/] only; the URL is rewritten in one canonical form (lower-case
// host, no default port, no trailing slash) so that one backend written two ways is still one
// backend. http and https to one host:port are two backends.
std::optional<backend_config> config_reader::read_backend_url(const YAML::Node& node,
                                                              const std::string& path) {
    auto text = read_scalar(node, path, "a URL (http://host:port or https://host:port)");
    if (!text) return std::nullopt;
    auto problem = [&](std::string_view why) {
        fail(node, path, quoted(*text) + ": " + std::string{why});
        return std::nullopt;
    };
    auto parsed = boost::urls::parse_uri(*text);
    if (!parsed) return problem("not a URL (use http://host:port or https://host:port)");
    const auto& url = *parsed;
    const bool tls = url.scheme_id() == boost::urls::scheme::https;
    if (url.scheme_id() != boost::urls::scheme::http && !tls) return problem("the scheme must be http or https");
    if (url.has_userinfo()) return problem("user info is not allowed");
    if (!url.has_authority() || url.encoded_host().empty()) return problem("a host is required");
    if (url.has_query() || url.has_fragment()) return problem("a query or fragment is not allowed");
    if (!url.encoded_path().empty() && url.encoded_path() != "/") return problem("a path is not allowed");

    const std::uint16_t default_port = tls ? 443 : 80;
    std::string port = url.has_port() ? std::string{url.port()} : std::to_string(default_port);
    // parse_host_port holds the one definition of a valid host and port; reuse it.
    auto address = parse_host_port(to_lower(url.encoded_host()) + ":" + port);
    if (!address) {
        if (!parse_host_port("localhost:" + port)) return problem("the port must be 1-65535");
        return problem("invalid host");
    }
    backend_config backend{.url = "", .host = address->host, .port = address->port, .tls = tls};
    bool bracketed = url.host_type() == boost::urls::host_type::ipv6;
    backend.url = std::string(tls ? "https://" : "http://") + (bracketed ? "[" + backend.host + "]" : backend.host);
    if (backend.port != default_port) backend.url += ":" + std::to_string(backend.port);
    return backend;
}

void config_reader::read_routes(const YAML::Node& node, const std::string& path,
                                std::vector<route_config>& out) {
    if (!is_list(node)) {
        fail(node, path, "expected a list of routes");
        return;
    }
    std::vector<route_config> routes;
    std::set<std::string> names;
    std::size_t index = 0;
    for (const auto& item : items_of(node)) {
        route_config route;
        read_route(item, item_path(path, index), route, names, index);
        ++index;
        routes.push_back(std::move(route));
    }
    out = std::move(routes);
}

void config_reader::read_route(const YAML::Node& node, const std::string& path, route_config& out,
                               std::set<std::string>& names, std::size_t index) {
    bool has_name = false;
    bool has_path_prefix = false;
    const field fields[] = {
        {"name",
         [&](auto& v, auto& p) {
             has_name = true;
             read_route_name(v, p, out.name, names);
         }},
        {"match", [&](auto& v, auto& p) { read_route_match(v, p, out, has_path_prefix); }},
        {"strip_prefix", [&](auto& v, auto& p) { read_bool(v, p, out.strip_prefix); }},
        {"backends", [&](auto& v, auto& p) { read_backends(v, p, out.backends.emplace()); }},
        {"rate_limit", [&](auto& v, auto& p) { read_route_rate_limit(v, p, out.rate_limit.emplace(), index); }},
    };
    if (!read_mapping(node, path, fields)) return;
    if (!has_name) fail(node, path, "\"name\" is required");
    if (!has_path_prefix) fail(node, path, "\"match.path_prefix\" is required");
}

void config_reader::read_route_name(const YAML::Node& node, const std::string& path, std::string& out,
                                    std::set<std::string>& names) {
    auto text = read_scalar(node, path, "a name");
    if (!text) return;
    // The name ends up in Redis keys and metric labels, so it stays within a safe alphabet.
    auto allowed = [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    };
    if (text->empty() || !std::all_of(text->begin(), text->end(), allowed)) {
        fail(node, path, quoted(*text) + " must match [a-z0-9_-]+");
    } else if (!names.insert(*text).second) {
        fail(node, path, "duplicate route name " + quoted(*text));
    } else {
        out = *text;
        route_names_.push_back({node.Mark(), path, *text});
    }
}

void config_reader::read_route_match(const YAML::Node& node, const std::string& path, route_config& out,
                                     bool& has_path_prefix) {
    const field fields[] = {
        {"path_prefix",
         [&](auto& v, auto& p) {
             has_path_prefix = true;
             read_url_path(v, p, out.path_prefix);
             if (out.path_prefix.find_first_of("?#") != std::string::npos) {
                 fail(v, p, "must not contain \"?\" or \"#\"");
             }
         }},
        {"host", [&](auto& v, auto& p) { read_route_host(v, p, out.host); }},
        {"methods", [&](auto& v, auto& p) { read_methods(v, p, out.methods); }},
    };
    read_mapping(node, path, fields);
}

// Matched against the Host header case-insensitively with the port ignored, so it is stored
// lower-case and may not carry a port itself.
void config_reader::read_route_host(const YAML::Node& node, const std::string& path, std::string& out) {
    auto text = read_scalar(node, path, "a host name");
    if (!text || text->empty()) return;
    // Borrow parse_host_port's host rules with a dummy port; "[::1]" keeps its brackets for matching.
    auto parsed = parse_host_port(*text + ":1");
    if (!parsed) {
        fail(node, path, quoted(*text) + " is not a host name (no scheme, port or path)");
        return;
    }
    out = to_lower(*text);
}

void config_reader::read_methods(const YAML::Node& node, const std::string& path,
                                 std::vector<std::string>& out) {
    if (!is_list(node)) {
        fail(node, path, "expected a list of HTTP methods");
        return;
    }
    std::vector<std::string> methods;
    std::size_t index = 0;
    for (const auto& item : items_of(node)) {
        auto at = item_path(path, index++);
        auto text = read_scalar(item, at, "an HTTP method");
        if (!text) continue;
        auto method = to_upper(*text);
        if (std::find(http_methods.begin(), http_methods.end(), method) == http_methods.end()) {
            fail(item, at, quoted(*text) + " is not one of " + join(http_methods));
        } else if (std::find(methods.begin(), methods.end(), method) != methods.end()) {
            fail(item, at, "duplicate method " + quoted(method));
        } else {
            methods.push_back(method);
        }
    }
    out = std::move(methods);
}

}  // namespace gw::config_detail
