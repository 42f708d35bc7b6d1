#pragma once

#include "gatewayd/config/host_port.hpp"
#include "gatewayd/config/ip_network.hpp"
#include "gatewayd/http/request_path.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace gw {

using duration = std::chrono::milliseconds;
using namespace std::chrono_literals;

// A backend as configured: the URL text (its identity in logs, metrics and /backends), where
// to connect, and whether over TLS (an https:// URL).
struct backend_config {
    std::string url;
    std::string host;
    std::uint16_t port = 80;
    bool tls = false;
    friend bool operator==(const backend_config&, const backend_config&) = default;
};

struct admin_config {
    std::string listen = "127.0.0.1:9901";  // "" disables the admin listener
    std::optional<host_port> address;        // parsed `listen`, empty when disabled
};

struct log_config {
    std::string level = "info";  // trace | debug | info | warn | error
    std::string format = "text"; // text | json
    bool access_log = true;
};

struct client_config {
    std::vector<ip_network> trusted_proxies;
    duration header_timeout = 10s;
    duration idle_timeout = 60s;
    duration body_timeout = 30s;
    std::uint64_t max_header_bytes = 16 * 1024;
    std::uint64_t max_body_bytes = 0;  // 0 = unlimited
    std::uint64_t max_connections = 10000;
    path_rules paths;  // encoded_slashes (reject | keep) and merge_slashes
};

struct upstream_config {
    duration connect_timeout = 1s;
    duration timeout = 3s;
    duration idle_timeout = 60s;
    std::uint64_t max_idle_per_backend = 64;
    std::uint64_t retries = 1;
};

struct health_check_config {
    bool enabled = true;
    std::string path = "/";
    duration interval = 5s;
    duration timeout = 1s;
    std::uint64_t healthy_threshold = 2;
    std::uint64_t unhealthy_threshold = 3;
};

struct circuit_breaker_config {
    bool enabled = true;
    std::uint64_t min_requests = 5;
    double failure_ratio = 0.6;
    duration interval = 60s;  // 0 = counts never cleared while closed
    duration open_timeout = 10s;
    std::uint64_t half_open_max_requests = 3;
};

// One more limit beside the block's own (rule `default`); an unset field takes the block's value.
struct rate_limit_rule_config {
    std::string name;
    std::optional<std::uint64_t> requests;
    std::optional<duration> window;
    std::optional<std::string> algorithm;
    std::optional<std::uint64_t> burst;
    std::optional<std::string> key;
    std::optional<bool> shadow;
};

struct rate_limit_config {
    bool enabled = true;
    std::uint64_t requests = 100;
    duration window = 1min;
    std::string algorithm = "fixed_window";  // fixed_window | sliding_window | gcra
    std::uint64_t burst = 0;                 // gcra only; 0 = requests
    std::string key = "client_ip";           // client_ip | header:<Name> | global
    bool shadow = false;
    std::string key_prefix = "rate_limit:";
    std::string store = "redis";           // redis | memory
    std::string on_store_error = "memory"; // memory | allow | deny
    bool headers = true;
    bool standard_headers = false;
    std::vector<rate_limit_rule_config> rules;
};

// A route's own limits: unset fields of `default` inherit the top level's; `rules`, when
// given, replaces the top level's rules for the route.
struct route_rate_limit {
    std::optional<bool> enabled;
    std::optional<std::uint64_t> requests;
    std::optional<duration> window;
    std::optional<std::string> algorithm;
    std::optional<std::uint64_t> burst;
    std::optional<std::string> key;
    std::optional<bool> shadow;
    std::optional<std::vector<rate_limit_rule_config>> rules;
};

struct route_config {
    std::string name;
    std::string path_prefix;
    std::string host;                  // "" = any host
    std::vector<std::string> methods;  // empty = any method
    bool strip_prefix = false;
    std::optional<std::vector<backend_config>> backends;  // unset = top-level backends
    std::optional<route_rate_limit> rate_limit;
};

struct redis_config {
    std::string mode = "standalone";  // standalone | sentinel | cluster
    std::string address = "127.0.0.1:6379";
    host_port endpoint{"127.0.0.1", 6379};
    std::vector<host_port> sentinels;  // sentinel mode
    std::string master_name = "mymaster";
    std::string sentinel_password;
    std::vector<host_port> nodes;  // cluster mode: seed nodes
    std::string username;          // ACL user; "" = the default user
    std::string password;
    std::uint64_t db = 0;  // not in cluster mode
    duration timeout = 100ms;
    friend bool operator==(const redis_config&, const redis_config&) = default;
};

// A certificate (with any intermediates after it) and its private key, both PEM files.
struct tls_certificate_config {
    std::string cert;
    std::string key;
    friend bool operator==(const tls_certificate_config&, const tls_certificate_config&) = default;
};

// The TLS listener. The loader has read every file named here once: a config with a value
// names readable certificates whose keys match.
struct tls_config {
    std::string listen;                // "" = no TLS listener
    std::optional<host_port> address;  // parsed `listen`, empty when there is none
    std::vector<tls_certificate_config> certificates;  // the first is the default
    std::string min_version = "1.2";   // 1.2 | 1.3
    std::string client_ca;             // "" = no client certificates asked for
};

// How https:// backends are reached.
struct upstream_tls_config {
    std::string ca_file;  // "" = the system trust store
    bool verify = true;
    std::string cert;     // client certificate for backends that require one; "" = none
    std::string key;
    friend bool operator==(const upstream_tls_config&, const upstream_tls_config&) = default;
};

struct config {
    std::string listen = "0.0.0.0:8080";
    host_port listen_address{"0.0.0.0", 8080};
    std::uint64_t threads = 1;
    duration shutdown_timeout = 10s;
    admin_config admin{.listen = "127.0.0.1:9901", .address = host_port{"127.0.0.1", 9901}};
    log_config log;
    client_config client;
    std::vector<backend_config> backends{
        {.url = "http://127.0.0.1:8081", .host = "127.0.0.1", .port = 8081},
        {.url = "http://127.0.0.1:8082", .host = "127.0.0.1", .port = 8082},
    };
    upstream_config upstream;
    health_check_config health_check;
    circuit_breaker_config circuit_breaker;
    rate_limit_config rate_limit;
    std::vector<route_config> routes;
    redis_config redis;
    tls_config tls;
    upstream_tls_config upstream_tls;
    duration tunnel_idle_timeout = 1h;
};

}  // namespace gw
