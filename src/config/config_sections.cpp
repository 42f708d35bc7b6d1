#include "config_reader.hpp"

#include <algorithm>

// The sections of the top level, one reader each; backends and routes are in config_routes.cpp.

namespace gw::config_detail {

void config_reader::read_document(const YAML::Node& root, config& out) {
    // An empty file (or one with comments only) is a valid config made of defaults.
    if (root.IsNull()) return;
    const field fields[] = {
        {"listen", [&](auto& v, auto& p) { read_host_port(v, p, out.listen, out.listen_address); }},
        {"threads", [&](auto& v, auto& p) { read_uint(v, p, out.threads, 1, max_threads); }},
        {"shutdown_timeout", [&](auto& v, auto& p) { read_duration(v, p, out.shutdown_timeout); }},
        {"admin", [&](auto& v, auto& p) { read_admin(v, p, out.admin); }},
        {"log", [&](auto& v, auto& p) { read_log(v, p, out.log); }},
        {"client", [&](auto& v, auto& p) { read_client(v, p, out.client); }},
        {"backends", [&](auto& v, auto& p) { read_backends(v, p, out.backends); }},
        {"upstream", [&](auto& v, auto& p) { read_upstream(v, p, out.upstream); }},
        {"health_check", [&](auto& v, auto& p) { read_health_check(v, p, out.health_check); }},
        {"circuit_breaker", [&](auto& v, auto& p) { read_circuit_breaker(v, p, out.circuit_breaker); }},
        {"rate_limit", [&](auto& v, auto& p) { read_rate_limit(v, p, out.rate_limit); }},
        {"routes", [&](auto& v, auto& p) { read_routes(v, p, out.routes); }},
        {"redis", [&](auto& v, auto& p) { read_redis(v, p, out.redis); }},
        {"tls", [&](auto& v, auto& p) { read_tls(v, p, out.tls); }},
        {"upstream_tls", [&](auto& v, auto& p) { read_upstream_tls(v, p, out.upstream_tls); }},
        {"tunnel_idle_timeout", [&](auto& v, auto& p) { read_duration(v, p, out.tunnel_idle_timeout); }},
    };
    if (read_mapping(root, "", fields)) {
        check_listeners_differ(out);
        if (listed_ == nullptr) {
            check_bursts(out);
            check_key_collisions(out);
        }
    }
}

void config_reader::read_admin(const YAML::Node& node, const std::string& path, admin_config& out) {
    const field fields[] = {
        {"listen",
         [&](auto& v, auto& p) {
             admin_listen_mark_ = v.Mark();
             read_optional_listen(v, p, out.listen, out.address);
         }},
    };
    read_mapping(node, path, fields);
}

// Two listeners on one port fail at bind time; saying so in --check-config is friendlier.
void config_reader::check_listeners_differ(const config& out) {
    auto overlap = [](const host_port& a, const host_port& b) {
        auto is_wildcard = [](const std::string& host) { return host.empty() || host == "0.0.0.0" || host == "::"; };
        return a.port == b.port && (a.host == b.host || is_wildcard(a.host) || is_wildcard(b.host));
    };
    if (out.admin.address && overlap(*out.admin.address, out.listen_address)) {
        fail(admin_listen_mark_,
             "admin.listen: " + quoted(out.admin.listen) + " overlaps listen " + quoted(out.listen));
    }
    if (!out.tls.address) return;
    if (overlap(*out.tls.address, out.listen_address)) {
        fail(tls_listen_mark_, "tls.listen: " + quoted(out.tls.listen) + " overlaps listen " + quoted(out.listen));
    } else if (out.admin.address && overlap(*out.tls.address, *out.admin.address)) {
        fail(tls_listen_mark_,
             "tls.listen: " + quoted(out.tls.listen) + " overlaps admin.listen " + quoted(out.admin.listen));
    }
}

void config_reader::read_log(const YAML::Node& node, const std::string& path, log_config& out) {
    const field fields[] = {
        {"level", [&](auto& v, auto& p) { read_enum(v, p, out.level, log_levels); }},
        {"format", [&](auto& v, auto& p) { read_enum(v, p, out.format, log_formats); }},
        {"access_log", [&](auto& v, auto& p) { read_bool(v, p, out.access_log); }},
    };
    read_mapping(node, path, fields);
}

void config_reader::read_client(const YAML::Node& node, const std::string& path, client_config& out) {
    const field fields[] = {
        {"trusted_proxies", [&](auto& v, auto& p) { read_trusted_proxies(v, p, out.trusted_proxies); }},
        {"header_timeout", [&](auto& v, auto& p) { read_duration(v, p, out.header_timeout); }},
        {"idle_timeout", [&](auto& v, auto& p) { read_duration(v, p, out.idle_timeout); }},
        {"body_timeout", [&](auto& v, auto& p) { read_duration(v, p, out.body_timeout); }},
        {"max_header_bytes",
         [&](auto& v, auto& p) {
             read_size(v, p, out.max_header_bytes, min_header_bytes, max_header_bytes);
         }},
        {"max_body_bytes", [&](auto& v, auto& p) { read_size(v, p, out.max_body_bytes); }},
        {"max_connections", [&](auto& v, auto& p) { read_uint(v, p, out.max_connections, 1); }},
        {"encoded_slashes",
         [&](auto& v, auto& p) {
             std::string policy = out.paths.reject_encoded_slashes ? "reject" : "keep";
             read_enum(v, p, policy, encoded_slash_policies);
             out.paths.reject_encoded_slashes = policy == "reject";
         }},
        {"merge_slashes", [&](auto& v, auto& p) { read_bool(v, p, out.paths.merge_slashes); }},
    };
    read_mapping(node, path, fields);
}

void config_reader::read_trusted_proxies(const YAML::Node& node, const std::string& path,
                                         std::vector<ip_network>& out) {
    if (!is_list(node)) {
        fail(node, path, "expected a list of IP addresses or CIDR blocks");
        return;
    }
    std::vector<ip_network> networks;
    std::size_t index = 0;
    for (const auto& item : items_of(node)) {
        auto at = item_path(path, index++);
        auto text = read_scalar(item, at, "an IP address or CIDR block");
        if (!text) continue;
        if (auto network = parse_ip_network(*text)) {
            networks.push_back(*network);
        } else {
            fail(item, at, quoted(*text) + " is not an IP address or CIDR block");
        }
    }
    out = std::move(networks);
}

void config_reader::read_upstream(const YAML::Node& node, const std::string& path, upstream_config& out) {
    const field fields[] = {
        {"connect_timeout", [&](auto& v, auto& p) { read_duration(v, p, out.connect_timeout); }},
        {"timeout", [&](auto& v, auto& p) { read_duration(v, p, out.timeout); }},
        {"idle_timeout", [&](auto& v, auto& p) { read_duration(v, p, out.idle_timeout); }},
        {"max_idle_per_backend", [&](auto& v, auto& p) { read_uint(v, p, out.max_idle_per_backend); }},
        {"retries", [&](auto& v, auto& p) { read_uint(v, p, out.retries); }},
    };
    read_mapping(node, path, fields);
}

void config_reader::read_health_check(const YAML::Node& node, const std::string& path,
                                      health_check_config& out) {
    const field fields[] = {
        {"enabled", [&](auto& v, auto& p) { read_bool(v, p, out.enabled); }},
        {"path", [&](auto& v, auto& p) { read_url_path(v, p, out.path); }},
        {"interval", [&](auto& v, auto& p) { read_duration(v, p, out.interval); }},
        {"timeout", [&](auto& v, auto& p) { read_duration(v, p, out.timeout); }},
        {"healthy_threshold", [&](auto& v, auto& p) { read_uint(v, p, out.healthy_threshold, 1); }},
        {"unhealthy_threshold", [&](auto& v, auto& p) { read_uint(v, p, out.unhealthy_threshold, 1); }},
    };
    read_mapping(node, path, fields);
}

void config_reader::read_circuit_breaker(const YAML::Node& node, const std::string& path,
                                         circuit_breaker_config& out) {
    const field fields[] = {
        {"enabled", [&](auto& v, auto& p) { read_bool(v, p, out.enabled); }},
        {"min_requests", [&](auto& v, auto& p) { read_uint(v, p, out.min_requests, 1); }},
        {"failure_ratio", [&](auto& v, auto& p) { read_ratio(v, p, out.failure_ratio); }},
        // 0s is meaningful here: closed-state counts are never cleared.
        {"interval", [&](auto& v, auto& p) { read_duration(v, p, out.interval, true); }},
        {"open_timeout", [&](auto& v, auto& p) { read_duration(v, p, out.open_timeout); }},
        {"half_open_max_requests", [&](auto& v, auto& p) { read_uint(v, p, out.half_open_max_requests, 1); }},
    };
    read_mapping(node, path, fields);
}

void config_reader::read_redis(const YAML::Node& node, const std::string& path, redis_config& out) {
    const field fields[] = {
        {"mode", [&](auto& v, auto& p) { read_enum(v, p, out.mode, redis_modes); }},
        {"address", [&](auto& v, auto& p) { read_host_port(v, p, out.address, out.endpoint); }},
        {"sentinels", [&](auto& v, auto& p) { read_redis_nodes(v, p, out.sentinels, "sentinel"); }},
        {"master_name", [&](auto& v, auto& p) { read_master_name(v, p, out.master_name); }},
        {"sentinel_password", [&](auto& v, auto& p) { read_string(v, p, out.sentinel_password); }},
        {"nodes", [&](auto& v, auto& p) { read_redis_nodes(v, p, out.nodes, "node"); }},
        {"username", [&](auto& v, auto& p) { read_string(v, p, out.username); }},
        {"password", [&](auto& v, auto& p) { read_string(v, p, out.password); }},
        {"db", [&](auto& v, auto& p) { read_uint(v, p, out.db); }},
        {"timeout", [&](auto& v, auto& p) { read_duration(v, p, out.timeout); }},
    };
    if (!read_mapping(node, path, fields) || listed_ != nullptr) return;
    // What a mode needs, reported where it is missing or, when the key is absent, at `mode`.
    auto at = [&](std::string_view key) { return node[std::string(key)] ? node[std::string(key)] : node["mode"]; };
    if (out.mode == "sentinel" && out.sentinels.empty()) {
        fail(at("sentinels"), child_path(path, "sentinels"), "mode sentinel needs at least one sentinel (host:port)");
    }
    if (out.mode == "cluster" && out.nodes.empty()) {
        fail(at("nodes"), child_path(path, "nodes"), "mode cluster needs at least one node (host:port)");
    }
    if (out.mode == "cluster" && out.db != 0) {
        fail(node["db"], child_path(path, "db"), "must be 0 with mode cluster (a cluster has database 0 only)");
    }
}

// A list of host:port, each with a host (it is connected to), none twice.
void config_reader::read_redis_nodes(const YAML::Node& node, const std::string& path, std::vector<host_port>& out,
                                     std::string_view what) {
    if (!is_list(node)) {
        fail(node, path, "expected a list of host:port");
        return;
    }
    std::vector<host_port> nodes;
    std::size_t index = 0;
    for (const auto& item : items_of(node)) {
        const auto at = item_path(path, index++);
        std::string text;
        host_port address;
        read_host_port(item, at, text, address);
        if (text.empty()) continue;
        if (address.host.empty()) {
            fail(item, at, "a " + std::string(what) + " needs a host: " + quoted(text));
        } else if (std::find(nodes.begin(), nodes.end(), address) != nodes.end()) {
            fail(item, at, "duplicate " + std::string(what) + " " + quoted(text));
        } else {
            nodes.push_back(std::move(address));
        }
    }
    out = std::move(nodes);
}

// Sent to the sentinels and compared with the name in +switch-master, which is split at spaces.
void config_reader::read_master_name(const YAML::Node& node, const std::string& path, std::string& out) {
    auto text = read_scalar(node, path, "a name");
    if (!text) return;
    if (text->empty()) {
        fail(node, path, "must not be empty");
    } else if (has_space_or_control(*text)) {
        fail(node, path, quoted(*text) + " must not contain spaces or control characters");
    } else {
        out = *text;
    }
}

}  // namespace gw::config_detail
