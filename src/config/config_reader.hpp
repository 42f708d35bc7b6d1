#pragma once

// The YAML walker behind config_loader, shared by the files that read one part of the config
// each (config_reader.cpp: generic values; config_sections.cpp; config_routes.cpp).

#include "gatewayd/config/config_loader.hpp"

#include <yaml-cpp/yaml.h>

#include <array>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

namespace gw::config_detail {

using namespace std::string_view_literals;

inline constexpr std::uint64_t max_threads = 256;
// Under 1 KiB a browser's request line and cookies do not fit; over 1 MiB one slow client could
// pin that much memory per connection before the limit is even checked.
inline constexpr std::uint64_t min_header_bytes = 1024;
inline constexpr std::uint64_t max_header_bytes = 1024 * 1024;
// A year is longer than any sensible timeout or window, and now() + it cannot overflow a clock.
inline constexpr duration max_duration = std::chrono::hours{24 * 365};
inline constexpr std::uint64_t no_max = std::numeric_limits<std::uint64_t>::max();

inline constexpr std::array log_levels{"trace"sv, "debug"sv, "info"sv, "warn"sv, "error"sv};
inline constexpr std::array log_formats{"text"sv, "json"sv};
inline constexpr std::array rate_limit_stores{"redis"sv, "memory"sv};
inline constexpr std::array store_error_policies{"memory"sv, "allow"sv, "deny"sv};
inline constexpr std::array encoded_slash_policies{"reject"sv, "keep"sv};
inline constexpr std::array redis_modes{"standalone"sv, "sentinel"sv, "cluster"sv};
// One name per limit algorithm (src/limit/algorithms.cpp has them all).
inline constexpr std::array limit_algorithm_names{"fixed_window"sv, "sliding_window"sv, "gcra"sv};
inline constexpr std::array tls_versions{"1.2"sv, "1.3"sv};
inline constexpr std::array http_methods{"GET"sv,   "HEAD"sv,    "POST"sv,  "PUT"sv,    "DELETE"sv,
                                  "PATCH"sv, "OPTIONS"sv, "TRACE"sv, "CONNECT"sv};

inline constexpr std::string_view duration_hint = " (use 250ms, 3s, 1m, 1h)";
inline constexpr std::string_view size_hint = " (use 1024, 16KiB, 1MiB, 1GiB)";

std::string quoted(std::string_view text);
std::string join(std::span<const std::string_view> words);
std::string to_lower(std::string_view text);
std::string to_upper(std::string_view text);
// "1KiB" rather than "1024" when the value is a whole unit, so limits read as they are written.
std::string format_size(std::uint64_t bytes);
std::string child_path(const std::string& parent, std::string_view key);
std::size_t edit_distance(std::string_view a, std::string_view b);
bool is_digits(std::string_view text);
// Bytes that would break a request line or a header when the text is sent on the wire.
bool has_space_or_control(std::string_view text);
// Quoted scalars are text: `threads: "4"` is a string, not a number, as in any typed YAML reader.
bool is_quoted(const YAML::Node& node);

// One known key of a mapping and how to read its value; a null value keeps the default.
struct field {
    std::string_view name;
    std::function<void(const YAML::Node& value, const std::string& path)> read;
};


// Walks a parsed document into a config, recording every problem instead of stopping at the first.
class config_reader {
public:
    explicit config_reader(std::string file) : file_(std::move(file)) {}

    void fail(const YAML::Mark& mark, std::string message) {
        // yaml-cpp marks are 0-based and -1 when unknown.
        int line = mark.line >= 0 ? mark.line + 1 : 0;
        int column = mark.column >= 0 ? mark.column + 1 : 0;
        errors_.push_back({file_, line, column, std::move(message)});
    }

    void fail(const YAML::Node& at, const std::string& path, std::string_view message) {
        fail(at.Mark(), path.empty() ? std::string{message} : path + ": " + std::string{message});
    }

    // Errors in file order, whatever order the checks ran in.
    std::vector<config_error> take_errors() {
        std::stable_sort(errors_.begin(), errors_.end(), [](const auto& a, const auto& b) {
            return std::tie(a.line, a.column) < std::tie(b.line, b.column);
        });
        return std::move(errors_);
    }

    void read_document(const YAML::Node& root, config& out);

    // Walks every mapping's known keys instead of a document: the dotted path of every key the
    // loader accepts ("client.max_header_bytes", "routes[].match.path_prefix").
    std::vector<std::string> list_keys();

private:
    bool read_mapping(const YAML::Node& node, const std::string& path, std::span<const field> fields);
    // Lists are walked through these, so that listing mode sees one item of every list.
    bool is_list(const YAML::Node& node) const { return listed_ != nullptr || node.IsSequence(); }
    std::vector<YAML::Node> items_of(const YAML::Node& list) const;
    std::string item_path(const std::string& parent, std::size_t index) const;
    void report_unknown_key(const YAML::Node& key, const std::string& path, std::span<const field> fields);

    std::optional<std::string> read_scalar(const YAML::Node& node, const std::string& path,
                                           std::string_view expected);
    void read_bool(const YAML::Node& node, const std::string& path, bool& out);
    void read_string(const YAML::Node& node, const std::string& path, std::string& out);
    void read_uint(const YAML::Node& node, const std::string& path, std::uint64_t& out, std::uint64_t min = 0,
                   std::uint64_t max = no_max);
    void read_duration(const YAML::Node& node, const std::string& path, duration& out,
                       bool allow_zero = false);
    void read_size(const YAML::Node& node, const std::string& path, std::uint64_t& out, std::uint64_t min = 0,
                   std::uint64_t max = no_max);
    void read_ratio(const YAML::Node& node, const std::string& path, double& out);
    void read_enum(const YAML::Node& node, const std::string& path, std::string& out,
                   std::span<const std::string_view> allowed);
    void read_host_port(const YAML::Node& node, const std::string& path, std::string& text, host_port& out);
    // A listener that may be turned off: "" clears both, anything else is a host:port.
    void read_optional_listen(const YAML::Node& node, const std::string& path, std::string& text,
                              std::optional<host_port>& out);
    void read_url_path(const YAML::Node& node, const std::string& path, std::string& out);

    void read_admin(const YAML::Node& node, const std::string& path, admin_config& out);
    void read_log(const YAML::Node& node, const std::string& path, log_config& out);
    void read_client(const YAML::Node& node, const std::string& path, client_config& out);
    void read_trusted_proxies(const YAML::Node& node, const std::string& path, std::vector<ip_network>& out);
    void read_backends(const YAML::Node& node, const std::string& path, std::vector<backend_config>& out);
    std::optional<backend_config> read_backend_url(const YAML::Node& node, const std::string& path);
    void read_upstream(const YAML::Node& node, const std::string& path, upstream_config& out);
    void read_health_check(const YAML::Node& node, const std::string& path, health_check_config& out);
    void read_circuit_breaker(const YAML::Node& node, const std::string& path, circuit_breaker_config& out);
    void read_rate_limit(const YAML::Node& node, const std::string& path, rate_limit_config& out);
    void read_routes(const YAML::Node& node, const std::string& path, std::vector<route_config>& out);
    void read_route(const YAML::Node& node, const std::string& path, route_config& out,
                    std::set<std::string>& names, std::size_t index);
    void read_route_name(const YAML::Node& node, const std::string& path, std::string& out,
                         std::set<std::string>& names);
    void read_route_match(const YAML::Node& node, const std::string& path, route_config& out,
                          bool& has_path_prefix);
    void read_route_host(const YAML::Node& node, const std::string& path, std::string& out);
    void read_methods(const YAML::Node& node, const std::string& path, std::vector<std::string>& out);
    void read_route_rate_limit(const YAML::Node& node, const std::string& path, route_rate_limit& out,
                               std::size_t route);
    void read_limit_rules(const YAML::Node& node, const std::string& path, std::vector<rate_limit_rule_config>& out,
                          std::optional<std::size_t> route);
    void read_limit_key(const YAML::Node& node, const std::string& path, std::string& out);
    void read_rule_name(const YAML::Node& node, const std::string& path, std::string& out,
                        std::set<std::string>& names);
    void check_bursts(const config& out);
    void read_redis(const YAML::Node& node, const std::string& path, redis_config& out);
    void read_tls(const YAML::Node& node, const std::string& path, tls_config& out);
    void read_certificates(const YAML::Node& node, const std::string& path,
                           std::vector<tls_certificate_config>& out);
    void read_upstream_tls(const YAML::Node& node, const std::string& path, upstream_tls_config& out);
    // A certificate and key pair is read once here, so that a missing, unreadable or mismatched
    // file is reported where it is named.
    void check_certificate_pair(const std::string& path, const std::string& cert, const YAML::Mark& cert_mark,
                                const std::string& key, const YAML::Mark& key_mark);
    void check_ca_file(const std::string& path, const std::string& file, const YAML::Mark& mark);
    void read_redis_nodes(const YAML::Node& node, const std::string& path, std::vector<host_port>& out,
                          std::string_view what);
    void read_master_name(const YAML::Node& node, const std::string& path, std::string& out);
    void check_listeners_differ(const config& out);

    std::string file_;
    std::vector<config_error> errors_;
    YAML::Mark admin_listen_mark_;  // where admin.listen was written, for the clash check
    // Where a burst was written, and how to find the algorithm it ends up with: burst belongs to
    // gcra, which the rule may name itself or inherit, so it is checked once all is read.
    struct burst_use {
        YAML::Mark mark;
        std::string path;
        std::uint64_t value;  // burst: 0 ("as many as requests") is fine anywhere
        std::function<std::string(const config&)> algorithm;
    };
    std::vector<burst_use> bursts_;
    // Where rule names were written, for the check that no two kinds of Redis key can meet.
    struct written_name {
        YAML::Mark mark;
        std::string path;
        std::string name;
    };
    std::vector<written_name> rule_names_;
    std::vector<written_name> route_names_;
    void check_key_collisions(const config& out);
    YAML::Mark tls_listen_mark_;    // where tls.listen was written, for the same check
    std::vector<std::string>* listed_ = nullptr;  // listing mode: the keys found so far
};

}  // namespace gw::config_detail
