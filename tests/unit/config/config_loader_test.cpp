#include "gatewayd/config/config_loader.hpp"

#include "gatewayd/config/duration.hpp"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <sstream>

namespace gw {
namespace {

using namespace std::chrono_literals;
using errors = std::vector<std::string>;

std::vector<std::string> error_lines(const config_result& result) {
    std::vector<std::string> lines;
    for (const auto& e : result.errors) lines.push_back(e.to_string());
    return lines;
}

std::string joined(const config_result& result) {
    std::string text;
    for (const auto& line : error_lines(result)) text += line + "\n";
    return text;
}

config load_ok(std::string_view yaml) {
    auto result = load_config_text(yaml, "gw.yaml");
    EXPECT_TRUE(result.errors.empty()) << joined(result);
    EXPECT_TRUE(result.value.has_value());
    return result.value.value_or(config{});
}

// Every error as FILE:LINE:COLUMN: message, in file order.
errors load_errors(std::string_view yaml) {
    auto result = load_config_text(yaml, "gw.yaml");
    EXPECT_FALSE(result.value.has_value()) << "a config with errors must not have a value";
    return error_lines(result);
}

std::string describe(const std::vector<backend_config>& backends) {
    std::string text = "[";
    for (const auto& b : backends) text += b.url + "=" + b.host + ":" + std::to_string(b.port) + " ";
    return text + "]";
}

// One line per field so that a failed comparison shows exactly which value differs.
std::string describe(const config& c) {
    std::ostringstream out;
    out << "listen " << c.listen << " " << c.listen_address.host << " " << c.listen_address.port << "\n"
        << "threads " << c.threads << "\n"
        << "shutdown_timeout " << format_duration(c.shutdown_timeout) << "\n"
        << "admin " << c.admin.listen << " " << (c.admin.address ? c.admin.address->host : "-") << " "
        << (c.admin.address ? c.admin.address->port : 0) << "\n"
        << "log " << c.log.level << " " << c.log.format << " " << c.log.access_log << "\n"
        << "client.trusted_proxies " << c.client.trusted_proxies.size() << "\n"
        << "client timeouts " << format_duration(c.client.header_timeout) << " "
        << format_duration(c.client.idle_timeout) << " " << format_duration(c.client.body_timeout) << "\n"
        << "client limits " << c.client.max_header_bytes << " " << c.client.max_body_bytes << " "
        << c.client.max_connections << "\n"
        << "backends " << describe(c.backends) << "\n"
        << "upstream " << format_duration(c.upstream.connect_timeout) << " "
        << format_duration(c.upstream.timeout) << " " << format_duration(c.upstream.idle_timeout) << " "
        << c.upstream.max_idle_per_backend << " " << c.upstream.retries << "\n"
        << "health_check " << c.health_check.enabled << " " << c.health_check.path << " "
        << format_duration(c.health_check.interval) << " " << format_duration(c.health_check.timeout) << " "
        << c.health_check.healthy_threshold << " " << c.health_check.unhealthy_threshold << "\n"
        << "circuit_breaker " << c.circuit_breaker.enabled << " " << c.circuit_breaker.min_requests << " "
        << c.circuit_breaker.failure_ratio << " " << format_duration(c.circuit_breaker.interval) << " "
        << format_duration(c.circuit_breaker.open_timeout) << " " << c.circuit_breaker.half_open_max_requests
        << "\n"
        << "rate_limit " << c.rate_limit.enabled << " " << c.rate_limit.requests << " "
        << format_duration(c.rate_limit.window) << " " << c.rate_limit.key_prefix << " " << c.rate_limit.store
        << " " << c.rate_limit.on_store_error << " " << c.rate_limit.headers << "\n"
        << "routes " << c.routes.size() << "\n"
        << "redis " << c.redis.mode << " " << c.redis.address << " " << c.redis.endpoint.host << " "
        << c.redis.endpoint.port << " " << c.redis.sentinels.size() << " " << c.redis.master_name << " "
        << c.redis.sentinel_password << " " << c.redis.nodes.size() << " " << c.redis.username << " "
        << c.redis.password << " " << c.redis.db << " " << format_duration(c.redis.timeout) << "\n"
        << "tls " << c.tls.listen << " " << c.tls.address.has_value() << " " << c.tls.certificates.size() << " "
        << c.tls.min_version << " " << c.tls.client_ca << "\n"
        << "upstream_tls " << c.upstream_tls.ca_file << " " << c.upstream_tls.verify << " " << c.upstream_tls.cert
        << " " << c.upstream_tls.key << "\n"
        << "tunnel_idle_timeout " << format_duration(c.tunnel_idle_timeout) << "\n";
    return out.str();
}

std::filesystem::path shipped_config() {
    return std::filesystem::path(GATEWAYD_SOURCE_DIR) / "config" / "gateway.yaml";
}

TEST(load_config, empty_text_gives_the_defaults) {
    EXPECT_EQ(describe(load_ok("")), describe(config{}));
    EXPECT_EQ(describe(load_ok("# only a comment\n")), describe(config{}));
    EXPECT_EQ(describe(load_ok("---\n")), describe(config{}));
}

TEST(load_config, defaults_match_the_contract) {
    auto c = load_ok("");
    EXPECT_EQ(c.listen_address, (host_port{"0.0.0.0", 8080}));
    EXPECT_EQ(c.admin.address, (host_port{"127.0.0.1", 9901}));
    ASSERT_EQ(c.backends.size(), 2u);
    EXPECT_EQ(c.backends[0], (backend_config{"http://127.0.0.1:8081", "127.0.0.1", 8081}));
    EXPECT_EQ(c.backends[1], (backend_config{"http://127.0.0.1:8082", "127.0.0.1", 8082}));
    EXPECT_EQ(c.client.max_header_bytes, 16u * 1024);
    EXPECT_EQ(c.upstream.timeout, 3s);
    EXPECT_EQ(c.circuit_breaker.failure_ratio, 0.6);
    EXPECT_EQ(c.rate_limit.window, 1min);
    EXPECT_EQ(c.redis.endpoint, (host_port{"127.0.0.1", 6379}));
    EXPECT_EQ(c.redis.timeout, 100ms);
}

TEST(load_config, shipped_file_holds_exactly_the_defaults) {
    auto result = load_config_file(shipped_config().string());
    ASSERT_TRUE(result.value) << joined(result);
    EXPECT_EQ(describe(*result.value), describe(config{}));
    EXPECT_TRUE(result.value->routes.empty());
}

// The shipped file shows every key of every section (list items and routes are examples in the
// docs, not in the file).
TEST(load_config, shipped_file_names_every_key) {
    auto root = YAML::LoadFile(shipped_config().string());
    std::set<std::string> keys;
    for (const auto& top : root) {
        keys.insert(top.first.Scalar());
        if (!top.second.IsMap()) continue;
        for (const auto& inner : top.second) keys.insert(top.first.Scalar() + "." + inner.first.Scalar());
    }
    std::set<std::string> expected;
    for (const auto& key : gw::config_key_paths()) {
        if (key.find('[') == std::string::npos && std::count(key.begin(), key.end(), '.') <= 1) expected.insert(key);
    }
    EXPECT_EQ(keys, expected);
}

TEST(load_config, reads_every_section) {
    auto c = load_ok(R"(
listen: "[::]:80"
threads: 4
shutdown_timeout: 1m30s
admin:
  listen: ":9000"
log: {level: debug, format: json, access_log: false}
client:
  trusted_proxies: [10.0.0.0/8, "::1"]
  header_timeout: 5s
  idle_timeout: 2m
  body_timeout: 250ms
  max_header_bytes: 8KiB
  max_body_bytes: 1GiB
  max_connections: 5
backends:
  - url: http://10.0.0.1:9000
upstream: {connect_timeout: 2s, timeout: 4s, idle_timeout: 5s, max_idle_per_backend: 0, retries: 0}
health_check:
  enabled: false
  path: /healthz?deep=1
  interval: 1s
  timeout: 500ms
  healthy_threshold: 1
  unhealthy_threshold: 7
circuit_breaker:
  enabled: false
  min_requests: 1
  failure_ratio: 1
  interval: 0s
  open_timeout: 1s
  half_open_max_requests: 9
rate_limit:
  enabled: false
  requests: 1
  window: 1h
  key_prefix: ""
  store: memory
  on_store_error: deny
  headers: false
redis: {address: "redis.local:6380", password: s3cret, db: 3, timeout: 1s}
)");
    EXPECT_EQ(c.listen, "[::]:80");
    EXPECT_EQ(c.listen_address, (host_port{"::", 80}));
    EXPECT_EQ(c.threads, 4u);
    EXPECT_EQ(c.shutdown_timeout, 90s);
    EXPECT_EQ(c.admin.address, (host_port{"", 9000}));
    EXPECT_EQ(c.log.level, "debug");
    EXPECT_EQ(c.log.format, "json");
    EXPECT_FALSE(c.log.access_log);
    ASSERT_EQ(c.client.trusted_proxies.size(), 2u);
    EXPECT_EQ(c.client.trusted_proxies[0], parse_ip_network("10.0.0.0/8"));
    EXPECT_EQ(c.client.trusted_proxies[1], parse_ip_network("::1/128"));
    EXPECT_EQ(c.client.header_timeout, 5s);
    EXPECT_EQ(c.client.idle_timeout, 2min);
    EXPECT_EQ(c.client.body_timeout, 250ms);
    EXPECT_EQ(c.client.max_header_bytes, 8u * 1024);
    EXPECT_EQ(c.client.max_body_bytes, 1u << 30);
    EXPECT_EQ(c.client.max_connections, 5u);
    EXPECT_EQ(describe(c.backends), "[http://10.0.0.1:9000=10.0.0.1:9000 ]");
    EXPECT_EQ(c.upstream.connect_timeout, 2s);
    EXPECT_EQ(c.upstream.timeout, 4s);
    EXPECT_EQ(c.upstream.idle_timeout, 5s);
    EXPECT_EQ(c.upstream.max_idle_per_backend, 0u);
    EXPECT_EQ(c.upstream.retries, 0u);
    EXPECT_FALSE(c.health_check.enabled);
    EXPECT_EQ(c.health_check.path, "/healthz?deep=1");
    EXPECT_EQ(c.health_check.timeout, 500ms);
    EXPECT_EQ(c.health_check.healthy_threshold, 1u);
    EXPECT_EQ(c.health_check.unhealthy_threshold, 7u);
    EXPECT_FALSE(c.circuit_breaker.enabled);
    EXPECT_EQ(c.circuit_breaker.failure_ratio, 1.0);
    EXPECT_EQ(c.circuit_breaker.interval, 0s);
    EXPECT_EQ(c.circuit_breaker.half_open_max_requests, 9u);
    EXPECT_FALSE(c.rate_limit.enabled);
    EXPECT_EQ(c.rate_limit.requests, 1u);
    EXPECT_EQ(c.rate_limit.window, 1h);
    EXPECT_EQ(c.rate_limit.key_prefix, "");
    EXPECT_EQ(c.rate_limit.store, "memory");
    EXPECT_EQ(c.rate_limit.on_store_error, "deny");
    EXPECT_FALSE(c.rate_limit.headers);
    EXPECT_EQ(c.redis.address, "redis.local:6380");
    EXPECT_EQ(c.redis.endpoint, (host_port{"redis.local", 6380}));
    EXPECT_EQ(c.redis.password, "s3cret");
    EXPECT_EQ(c.redis.db, 3u);
    EXPECT_EQ(c.redis.timeout, 1s);
}

TEST(load_config, a_missing_key_keeps_its_default) {
    auto c = load_ok("client:\n  max_connections: 7\n");
    EXPECT_EQ(c.client.max_connections, 7u);
    EXPECT_EQ(c.client.header_timeout, 10s);
    EXPECT_EQ(c.client.max_header_bytes, 16u * 1024);
    EXPECT_EQ(c.backends.size(), 2u);
}

TEST(load_config, a_null_value_means_the_defaults) {
    auto c =
        load_ok("log:\nclient:\nbackends:\nrate_limit:\n  window: ~\nroutes:\nredis:\n  password: null\n");
    EXPECT_EQ(describe(c), describe(config{}));
}

TEST(load_config, integer_sizes_and_unit_sizes_are_both_accepted) {
    EXPECT_EQ(load_ok("client: {max_header_bytes: 2048}").client.max_header_bytes, 2048u);
    EXPECT_EQ(load_ok("client: {max_header_bytes: \"1MiB\"}").client.max_header_bytes, 1u << 20);
    EXPECT_EQ(load_ok("client: {max_body_bytes: 0}").client.max_body_bytes, 0u);
}

TEST(load_config, admin_listen_empty_disables_the_admin_listener) {
    auto c = load_ok("admin:\n  listen: \"\"\n");
    EXPECT_EQ(c.admin.listen, "");
    EXPECT_FALSE(c.admin.address.has_value());
}

TEST(load_config, an_empty_backend_list_is_allowed) {
    EXPECT_TRUE(load_ok("backends: []\n").backends.empty());
}

TEST(load_config, backend_urls_are_written_in_one_canonical_form) {
    auto c = load_ok(R"(
backends:
  - url: HTTP://Backend.Example:8080/
  - url: http://backend.example
  - url: http://[::1]:9001
  - url: http://10.0.0.1:80
)");
    EXPECT_EQ(describe(c.backends),
              "[http://backend.example:8080=backend.example:8080 http://backend.example=backend.example:80 "
              "http://[::1]:9001=::1:9001 http://10.0.0.1=10.0.0.1:80 ]");
}

TEST(load_config, reports_the_top_level_when_it_is_not_a_mapping) {
    EXPECT_EQ(load_errors("- listen\n"), (errors{"gw.yaml:1:1: the top level must be a mapping"}));
    EXPECT_EQ(load_errors("just text\n"), (errors{"gw.yaml:1:1: the top level must be a mapping"}));
}

TEST(load_config, reports_unknown_keys_where_they_are_written) {
    EXPECT_EQ(load_errors("client:\n  listn: x\n"),
              (errors{"gw.yaml:2:3: unknown key \"listn\" in \"client\""}));
    EXPECT_EQ(load_errors("threads: 2\nlisen: \":80\"\n"),
              (errors{"gw.yaml:2:1: unknown key \"lisen\" (did you mean \"listen\"?)"}));
    EXPECT_EQ(load_errors("upstream:\n  time_out: 2s\n"),
              (errors{"gw.yaml:2:3: unknown key \"time_out\" in \"upstream\" (did you mean \"timeout\"?)"}));
    EXPECT_EQ(load_errors("routes:\n  - name: a\n    match: {path_prefix: /a, hots: x}\n"),
              (errors{"gw.yaml:3:30: unknown key \"hots\" in \"routes[0].match\" (did you mean \"host\"?)"}));
}

TEST(load_config, reports_a_repeated_key) {
    EXPECT_EQ(load_errors("threads: 2\nthreads: 3\n"), (errors{"gw.yaml:2:1: duplicate key \"threads\""}));
    EXPECT_EQ(load_errors("log:\n  level: info\n  level: warn\n"),
              (errors{"gw.yaml:3:3: duplicate key \"level\" in \"log\""}));
}

TEST(load_config, reports_wrong_types) {
    EXPECT_EQ(load_errors("client:\n  max_connections: lots\n"),
              (errors{"gw.yaml:2:20: client.max_connections: expected a non-negative integer"}));
    EXPECT_EQ(load_errors("client: []\n"), (errors{"gw.yaml:1:9: client: expected a mapping"}));
    EXPECT_EQ(load_errors("log:\n  access_log: yes\n"),
              (errors{"gw.yaml:2:15: log.access_log: expected true or false"}));
    EXPECT_EQ(load_errors("backends: http://a\n"),
              (errors{"gw.yaml:1:11: backends: expected a list of {url: http://host:port}"}));
    EXPECT_EQ(load_errors("rate_limit:\n  key_prefix: [a]\n"),
              (errors{"gw.yaml:2:15: rate_limit.key_prefix: expected a string"}));
}

TEST(load_config, quoted_numbers_are_strings_not_integers) {
    EXPECT_EQ(load_errors("threads: \"4\"\n"),
              (errors{"gw.yaml:1:10: threads: expected a non-negative integer"}));
}

TEST(load_config, rejects_integers_that_are_not_plain_decimal) {
    for (auto text : {"threads: -1", "threads: +2", "threads: 0x10", "threads: 1e2", "threads: 2.0",
                      "threads: 99999999999999999999"}) {
        EXPECT_EQ(load_errors(text), (errors{"gw.yaml:1:10: threads: expected a non-negative integer"}))
            << text;
    }
}

TEST(load_config, reports_bad_durations) {
    EXPECT_EQ(load_errors("upstream:\n  timeout: 3\n"),
              (errors{"gw.yaml:2:12: upstream.timeout: \"3\" is not a duration (use 250ms, 3s, 1m, 1h)"}));
    EXPECT_EQ(load_errors("upstream:\n  timeout: 0s\n"),
              (errors{"gw.yaml:2:12: upstream.timeout: must be greater than 0s"}));
    EXPECT_EQ(load_errors("rate_limit:\n  window: 9000h\n"),
              (errors{"gw.yaml:2:11: rate_limit.window: must be at most 8760h"}));
    EXPECT_EQ(load_errors("shutdown_timeout: {a: 1}\n"),
              (errors{"gw.yaml:1:19: shutdown_timeout: expected a duration (use 250ms, 3s, 1m, 1h)"}));
}

TEST(load_config, circuit_breaker_interval_may_be_zero) {
    EXPECT_EQ(load_ok("circuit_breaker:\n  interval: 0s\n").circuit_breaker.interval, 0s);
}

TEST(load_config, reports_bad_sizes) {
    EXPECT_EQ(
        load_errors("client:\n  max_body_bytes: 1.5KiB\n"),
        (errors{
            "gw.yaml:2:19: client.max_body_bytes: \"1.5KiB\" is not a size (use 1024, 16KiB, 1MiB, 1GiB)"}));
    EXPECT_EQ(
        load_errors("client:\n  max_body_bytes: -1\n"),
        (errors{"gw.yaml:2:19: client.max_body_bytes: \"-1\" is not a size (use 1024, 16KiB, 1MiB, 1GiB)"}));
    EXPECT_EQ(
        load_errors("client:\n  max_header_bytes: 1KB\n"),
        (errors{
            "gw.yaml:2:21: client.max_header_bytes: \"1KB\" is not a size (use 1024, 16KiB, 1MiB, 1GiB)"}));
}

TEST(load_config, max_header_bytes_stays_between_1kib_and_1mib) {
    EXPECT_EQ(load_ok("client: {max_header_bytes: 1KiB}").client.max_header_bytes, 1024u);
    EXPECT_EQ(load_ok("client: {max_header_bytes: 1MiB}").client.max_header_bytes, 1u << 20);
    EXPECT_EQ(load_errors("client: {max_header_bytes: 1023}"),
              (errors{"gw.yaml:1:28: client.max_header_bytes: must be between 1KiB and 1MiB"}));
    EXPECT_EQ(load_errors("client: {max_header_bytes: 1048577}"),
              (errors{"gw.yaml:1:28: client.max_header_bytes: must be between 1KiB and 1MiB"}));
}

TEST(load_config, reports_out_of_range_numbers) {
    EXPECT_EQ(load_errors("threads: 0\n"), (errors{"gw.yaml:1:10: threads: must be between 1 and 256"}));
    EXPECT_EQ(load_errors("threads: 257\n"), (errors{"gw.yaml:1:10: threads: must be between 1 and 256"}));
    EXPECT_EQ(load_errors("client: {max_connections: 0}"),
              (errors{"gw.yaml:1:27: client.max_connections: must be at least 1"}));
    EXPECT_EQ(load_errors("circuit_breaker: {min_requests: 0, half_open_max_requests: 0}"),
              (errors{"gw.yaml:1:33: circuit_breaker.min_requests: must be at least 1",
                      "gw.yaml:1:60: circuit_breaker.half_open_max_requests: must be at least 1"}));
    EXPECT_EQ(load_errors("health_check: {healthy_threshold: 0, unhealthy_threshold: 0}"),
              (errors{"gw.yaml:1:35: health_check.healthy_threshold: must be at least 1",
                      "gw.yaml:1:59: health_check.unhealthy_threshold: must be at least 1"}));
    EXPECT_EQ(load_errors("rate_limit: {requests: 0}"),
              (errors{"gw.yaml:1:24: rate_limit.requests: must be at least 1"}));
}

TEST(load_config, failure_ratio_is_in_zero_to_one) {
    EXPECT_EQ(load_ok("circuit_breaker: {failure_ratio: .25}").circuit_breaker.failure_ratio, 0.25);
    for (auto text : {"0", "0.0", "1.5", "-0.5"}) {
        EXPECT_EQ(
            load_errors(std::string{"circuit_breaker: {failure_ratio: "} + text + "}"),
            (errors{"gw.yaml:1:34: circuit_breaker.failure_ratio: must be greater than 0 and at most 1"}))
            << text;
    }
    for (auto text : {"half", ".nan", ".inf", "\"0.5\"", "0.5x"}) {
        EXPECT_EQ(load_errors(std::string{"circuit_breaker: {failure_ratio: "} + text + "}"),
                  (errors{"gw.yaml:1:34: circuit_breaker.failure_ratio: expected a number"}))
            << text;
    }
}

TEST(load_config, reports_bad_enum_values) {
    EXPECT_EQ(load_errors("log:\n  level: verbose\n"),
              (errors{"gw.yaml:2:10: log.level: \"verbose\" is not one of trace, debug, info, warn, error"}));
    EXPECT_EQ(load_errors("log:\n  format: xml\n"),
              (errors{"gw.yaml:2:11: log.format: \"xml\" is not one of text, json"}));
    EXPECT_EQ(
        load_errors("rate_limit:\n  store: etcd\n  on_store_error: panic\n"),
        (errors{"gw.yaml:2:10: rate_limit.store: \"etcd\" is not one of redis, memory",
                "gw.yaml:3:19: rate_limit.on_store_error: \"panic\" is not one of memory, allow, deny"}));
}

TEST(load_config, path_rules_reject_encoded_slashes_and_merge_slashes_unless_told_otherwise) {
    const auto defaults = load_ok("");
    EXPECT_TRUE(defaults.client.paths.reject_encoded_slashes);
    EXPECT_TRUE(defaults.client.paths.merge_slashes);
    const auto relaxed = load_ok("client:\n  encoded_slashes: keep\n  merge_slashes: false\n");
    EXPECT_FALSE(relaxed.client.paths.reject_encoded_slashes);
    EXPECT_FALSE(relaxed.client.paths.merge_slashes);
    EXPECT_EQ(load_errors("client:\n  encoded_slashes: decode\n  merge_slashes: yes\n"),
              (errors{"gw.yaml:2:20: client.encoded_slashes: \"decode\" is not one of reject, keep",
                      "gw.yaml:3:18: client.merge_slashes: expected true or false"}));
}

TEST(load_config, reports_bad_addresses) {
    EXPECT_EQ(
        load_errors("listen: \"0.0.0.0\"\n"),
        (errors{"gw.yaml:1:9: listen: \"0.0.0.0\" is not host:port (e.g. 0.0.0.0:8080 or [::1]:8080)"}));
    EXPECT_EQ(
        load_errors("admin:\n  listen: \"::1:9901\"\n"),
        (errors{
            "gw.yaml:2:11: admin.listen: \"::1:9901\" is not host:port (e.g. 0.0.0.0:8080 or [::1]:8080)"}));
    EXPECT_EQ(
        load_errors("redis:\n  address: localhost:99999\n"),
        (errors{"gw.yaml:2:12: redis.address: \"localhost:99999\" is not host:port (e.g. 0.0.0.0:8080 or "
                "[::1]:8080)"}));
}

TEST(load_config, reads_sentinel_and_cluster_deployments) {
    const auto sentinel = load_ok(R"(
redis:
  mode: sentinel
  sentinels: ["10.0.0.1:26379", "sentinel-b:26379", "[::1]:26380"]
  master_name: cache-primary
  sentinel_password: s3nt
  username: gateway
  password: pw
  db: 2
)");
    EXPECT_EQ(sentinel.redis.mode, "sentinel");
    EXPECT_EQ(sentinel.redis.sentinels,
              (std::vector<host_port>{{"10.0.0.1", 26379}, {"sentinel-b", 26379}, {"::1", 26380}}));
    EXPECT_EQ(sentinel.redis.master_name, "cache-primary");
    EXPECT_EQ(sentinel.redis.sentinel_password, "s3nt");
    EXPECT_EQ(sentinel.redis.username, "gateway");
    EXPECT_EQ(sentinel.redis.password, "pw");
    EXPECT_EQ(sentinel.redis.db, 2u);
    const auto cluster = load_ok("redis: {mode: cluster, nodes: [\"127.0.0.1:7000\", \"127.0.0.1:7001\"]}\n");
    EXPECT_EQ(cluster.redis.mode, "cluster");
    EXPECT_EQ(cluster.redis.nodes, (std::vector<host_port>{{"127.0.0.1", 7000}, {"127.0.0.1", 7001}}));
    EXPECT_EQ(cluster.redis.master_name, "mymaster");
    // The keys of the other modes may stay in the file: only the mode's own are used.
    EXPECT_EQ(load_ok("redis: {mode: standalone, sentinels: [\"h:1\"], nodes: [\"h:2\"]}\n").redis.mode, "standalone");
}

TEST(load_config, reports_what_a_redis_mode_lacks_where_it_is_missing) {
    EXPECT_EQ(load_errors("redis:\n  mode: sentinel\n"),
              (errors{"gw.yaml:2:9: redis.sentinels: mode sentinel needs at least one sentinel (host:port)"}));
    EXPECT_EQ(load_errors("redis:\n  mode: sentinel\n  sentinels: []\n"),
              (errors{"gw.yaml:3:14: redis.sentinels: mode sentinel needs at least one sentinel (host:port)"}));
    EXPECT_EQ(load_errors("redis:\n  mode: cluster\n"),
              (errors{"gw.yaml:2:9: redis.nodes: mode cluster needs at least one node (host:port)"}));
    EXPECT_EQ(load_errors("redis:\n  mode: cluster\n  nodes: [\"h:7000\"]\n  db: 1\n"),
              (errors{"gw.yaml:4:7: redis.db: must be 0 with mode cluster (a cluster has database 0 only)"}));
    EXPECT_EQ(load_ok("redis: {mode: cluster, nodes: [\"h:7000\"], db: 0}\n").redis.nodes.size(), 1u);
    EXPECT_EQ(load_errors("redis:\n  mode: replicated\n"),
              (errors{"gw.yaml:2:9: redis.mode: \"replicated\" is not one of standalone, sentinel, cluster"}));
}

TEST(load_config, reports_bad_sentinels_nodes_and_master_names) {
    EXPECT_EQ(load_errors("redis:\n  sentinels: [\"h:26379\", \":26379\", \"h:26379\", \"h\"]\n"),
              (errors{"gw.yaml:2:26: redis.sentinels[1]: a sentinel needs a host: \":26379\"",
                      "gw.yaml:2:36: redis.sentinels[2]: duplicate sentinel \"h:26379\"",
                      "gw.yaml:2:47: redis.sentinels[3]: \"h\" is not host:port (e.g. 0.0.0.0:8080 or [::1]:8080)"}));
    EXPECT_EQ(load_errors("redis:\n  nodes: h:7000\n"), (errors{"gw.yaml:2:10: redis.nodes: expected a list of host:port"}));
    EXPECT_EQ(load_errors("redis:\n  master_name: \"\"\n"), (errors{"gw.yaml:2:16: redis.master_name: must not be empty"}));
    EXPECT_EQ(load_errors("redis:\n  master_name: \"my master\"\n"),
              (errors{"gw.yaml:2:16: redis.master_name: \"my master\" must not contain spaces or control characters"}));
}

TEST(load_config, reports_an_admin_listener_on_the_gateway_port) {
    EXPECT_EQ(load_errors("listen: \":8080\"\nadmin:\n  listen: 127.0.0.1:8080\n"),
              (errors{"gw.yaml:3:11: admin.listen: \"127.0.0.1:8080\" overlaps listen \":8080\""}));
    EXPECT_TRUE(load_ok("listen: 127.0.0.1:8080\nadmin:\n  listen: 127.0.0.2:8080\n").admin.address);
}

TEST(load_config, reports_bad_trusted_proxies) {
    EXPECT_EQ(
        load_errors("client:\n  trusted_proxies: [10.0.0.0/8, 10.0.0.0/33, nonsense]\n"),
        (errors{"gw.yaml:2:33: client.trusted_proxies[1]: \"10.0.0.0/33\" is not an IP address or CIDR block",
                "gw.yaml:2:46: client.trusted_proxies[2]: \"nonsense\" is not an IP address or CIDR block"}));
    EXPECT_EQ(
        load_errors("client:\n  trusted_proxies: 10.0.0.0/8\n"),
        (errors{"gw.yaml:2:20: client.trusted_proxies: expected a list of IP addresses or CIDR blocks"}));
}

TEST(load_config, reports_bad_backend_urls) {
    struct bad_url {
        std::string url;
        std::string why;
    };
    for (const auto& [url, why] : std::vector<bad_url>{
             {"ftp://a", "the scheme must be http or https"},
             {"wss://a", "the scheme must be http or https"},
             {"a:80", "the scheme must be http or https"},
             {"127.0.0.1:8081", "not a URL (use http://host:port or https://host:port)"},
             {"http://user:pw@a:80", "user info is not allowed"},
             {"http:///x", "a host is required"},
             {"http:a", "a host is required"},
             {"http://a:0", "the port must be 1-65535"},
             {"http://a:65536", "the port must be 1-65535"},
             {"http://a:", "the port must be 1-65535"},
             {"http://a/api", "a path is not allowed"},
             {"http://a//", "a path is not allowed"},
             {"http://a/?x=1", "a query or fragment is not allowed"},
             {"http://a#top", "a query or fragment is not allowed"},
             {"http://a%20b", "invalid host"},
             {"http://1.2.3", "invalid host"},
             {"http://[v1.x]", "invalid host"},
             {"http://a b", "not a URL (use http://host:port or https://host:port)"},
             {"https://a:0", "the port must be 1-65535"},
             {"https://u@a", "user info is not allowed"},
         }) {
        EXPECT_EQ(load_errors("backends:\n  - url: \"" + url + "\"\n"),
                  (errors{"gw.yaml:2:10: backends[0].url: \"" + url + "\": " + why}))
            << url;
    }
}

TEST(load_config, reports_backend_entries_without_a_url) {
    EXPECT_EQ(load_errors("backends:\n  - {}\n  - http://a\n  - url:\n"),
              (errors{"gw.yaml:2:5: backends[0]: \"url\" is required",
                      "gw.yaml:3:5: backends[1]: expected a mapping",
                      "gw.yaml:4:5: backends[2]: \"url\" is required"}));
}

TEST(load_config, reports_a_backend_listed_twice) {
    EXPECT_EQ(load_errors("backends:\n  - url: http://a:81\n  - url: http://b:81\n  - url: http://A:81/\n"),
              (errors{"gw.yaml:4:10: backends[2].url: duplicate backend \"http://a:81\""}));
}

TEST(load_config, reports_every_problem_at_once) {
    auto result = load_config_text(R"(threads: 0
client:
  header_timeout: 3
log:
  level: loud
)",
                                   "gw.yaml");
    EXPECT_FALSE(result.value);
    EXPECT_EQ(error_lines(result),
              (errors{"gw.yaml:1:10: threads: must be between 1 and 256",
                      "gw.yaml:3:19: client.header_timeout: \"3\" is not a duration (use 250ms, 3s, 1m, 1h)",
                      "gw.yaml:5:10: log.level: \"loud\" is not one of trace, debug, info, warn, error"}));
    ASSERT_EQ(result.errors.size(), 3u);
    EXPECT_EQ(result.errors[1].file, "gw.yaml");
    EXPECT_EQ(result.errors[1].line, 3);
    EXPECT_EQ(result.errors[1].column, 19);
}

TEST(load_config, reports_yaml_syntax_errors_with_their_position) {
    EXPECT_EQ(load_errors("listen: a: b\n"), (errors{"gw.yaml:1:10: invalid YAML: illegal map value"}));
    EXPECT_EQ(load_errors("log:\n  - x\n level: 1\n"),
              (errors{"gw.yaml:3:2: invalid YAML: end of map not found"}));
}

TEST(load_config, reports_a_second_document) {
    // The position is the second document's "---".
    EXPECT_EQ(load_errors("threads: 1\n---\nthreads: 2\n"),
              (errors{"gw.yaml:2:1: only one YAML document is allowed"}));
}

TEST(load_config, text_that_is_no_yaml_at_all_is_an_error_not_a_hang) {
    // yaml-cpp 0.7's LoadAll never returns on these (found by the config fuzzer).
    EXPECT_EQ(load_errors(","), (errors{"gw.yaml:1:1: invalid YAML: no document can be read here"}));
    EXPECT_FALSE(load_errors(",,\n,").empty());
}

TEST(load_config, reads_routes) {
    auto c = load_ok(R"(
routes:
  - name: users
    match:
      path_prefix: /api/users
      host: API.Example.com
      methods: [get, POST]
    strip_prefix: true
    backends:
      - url: http://127.0.0.1:9001
    rate_limit:
      requests: 10
      window: 1s
  - name: static_v2-files
    match: {path_prefix: /}
  - name: closed
    match: {path_prefix: /closed}
    backends: []
    rate_limit: {}
)");
    ASSERT_EQ(c.routes.size(), 3u);
    const auto& users = c.routes[0];
    EXPECT_EQ(users.name, "users");
    EXPECT_EQ(users.path_prefix, "/api/users");
    EXPECT_EQ(users.host, "api.example.com");
    EXPECT_EQ(users.methods, (std::vector<std::string>{"GET", "POST"}));
    EXPECT_TRUE(users.strip_prefix);
    ASSERT_TRUE(users.backends);
    EXPECT_EQ(describe(*users.backends), "[http://127.0.0.1:9001=127.0.0.1:9001 ]");
    ASSERT_TRUE(users.rate_limit);
    EXPECT_EQ(users.rate_limit->enabled, std::nullopt);
    EXPECT_EQ(users.rate_limit->requests, 10u);
    EXPECT_EQ(users.rate_limit->window, 1s);

    const auto& fallback = c.routes[1];
    EXPECT_EQ(fallback.name, "static_v2-files");
    EXPECT_EQ(fallback.host, "");
    EXPECT_TRUE(fallback.methods.empty());
    EXPECT_FALSE(fallback.strip_prefix);
    EXPECT_FALSE(fallback.backends) << "no backends key inherits the top-level pool";
    EXPECT_FALSE(fallback.rate_limit) << "no rate_limit key counts under the shared key";

    const auto& closed = c.routes[2];
    ASSERT_TRUE(closed.backends);
    EXPECT_TRUE(closed.backends->empty());
    ASSERT_TRUE(closed.rate_limit);
    EXPECT_FALSE(closed.rate_limit->requests);
}

TEST(load_config, reports_bad_route_names) {
    EXPECT_EQ(load_errors("routes:\n  - name: Users\n    match: {path_prefix: /a}\n"),
              (errors{"gw.yaml:2:11: routes[0].name: \"Users\" must match [a-z0-9_-]+"}));
    EXPECT_EQ(load_errors("routes:\n  - name: \"\"\n    match: {path_prefix: /a}\n"),
              (errors{"gw.yaml:2:11: routes[0].name: \"\" must match [a-z0-9_-]+"}));
}

TEST(load_config, reports_a_duplicate_route_name_at_the_second_route) {
    EXPECT_EQ(load_errors(R"(routes:
  - name: users
    match: {path_prefix: /a}
  - name: users
    match: {path_prefix: /b}
)"),
              (errors{"gw.yaml:4:11: routes[1].name: duplicate route name \"users\""}));
}

TEST(load_config, reports_missing_route_fields) {
    EXPECT_EQ(load_errors("routes:\n  - strip_prefix: true\n"),
              (errors{"gw.yaml:2:5: routes[0]: \"name\" is required",
                      "gw.yaml:2:5: routes[0]: \"match.path_prefix\" is required"}));
    EXPECT_EQ(load_errors("routes:\n  - name: a\n    match: {host: a}\n"),
              (errors{"gw.yaml:2:5: routes[0]: \"match.path_prefix\" is required"}));
    EXPECT_EQ(load_errors("routes:\n  - ~\n"), (errors{"gw.yaml:2:5: routes[0]: expected a mapping"}));
}

TEST(load_config, reports_bad_route_matches) {
    EXPECT_EQ(load_errors("routes:\n  - name: a\n    match: {path_prefix: api}\n"),
              (errors{"gw.yaml:3:26: routes[0].match.path_prefix: must start with \"/\""}));
    EXPECT_EQ(load_errors("routes:\n  - name: a\n    match: {path_prefix: \"/a?b\"}\n"),
              (errors{"gw.yaml:3:26: routes[0].match.path_prefix: must not contain \"?\" or \"#\""}));
    EXPECT_EQ(load_errors("routes:\n  - name: a\n    match: {path_prefix: /a, host: \"http://x\"}\n"),
              (errors{"gw.yaml:3:36: routes[0].match.host: \"http://x\" is not a host name (no scheme, port "
                      "or path)"}));
    EXPECT_EQ(
        load_errors("routes:\n  - name: a\n    match: {path_prefix: /a, host: \"x:80\"}\n"),
        (errors{
            "gw.yaml:3:36: routes[0].match.host: \"x:80\" is not a host name (no scheme, port or path)"}));
    EXPECT_EQ(
        load_errors("routes:\n  - name: a\n    match: {path_prefix: /a, methods: [GET, FETCH, get]}\n"),
        (errors{"gw.yaml:3:45: routes[0].match.methods[1]: \"FETCH\" is not one of GET, HEAD, POST, PUT, "
                "DELETE, PATCH, OPTIONS, TRACE, CONNECT",
                "gw.yaml:3:52: routes[0].match.methods[2]: duplicate method \"GET\""}));
}

TEST(load_config, reports_bad_route_backends_and_limits) {
    EXPECT_EQ(load_errors(R"(routes:
  - name: a
    match: {path_prefix: /a}
    backends:
      - url: ftp://x
    rate_limit: {requests: 0, window: 0s, burst: 3}
)"),
              (errors{"gw.yaml:5:14: routes[0].backends[0].url: \"ftp://x\": the scheme must be http or https",
                      "gw.yaml:6:28: routes[0].rate_limit.requests: must be at least 1",
                      "gw.yaml:6:39: routes[0].rate_limit.window: must be greater than 0s",
                      "gw.yaml:6:50: routes[0].rate_limit.burst: burst applies to gcra only (this rule's "
                      "algorithm is fixed_window)"}));
}

TEST(load_config, reads_rate_limit_rules_with_their_own_fields_and_the_blocks_for_the_rest) {
    const auto settings = load_ok(R"(rate_limit:
  algorithm: sliding_window
  key: header:X-Api-Key
  standard_headers: true
  rules:
    - {name: burst, requests: 10, window: 1s, algorithm: gcra, burst: 5}
    - {name: hourly, requests: 1000, window: 1h, shadow: true, key: global}
routes:
  - name: users
    match: {path_prefix: /users}
    rate_limit:
      algorithm: gcra
      burst: 20
      rules: [{name: per-ip, key: client_ip}]
)");
    const auto& limits = settings.rate_limit;
    EXPECT_EQ(limits.algorithm, "sliding_window");
    EXPECT_EQ(limits.key, "header:X-Api-Key");
    EXPECT_TRUE(limits.standard_headers);
    ASSERT_EQ(limits.rules.size(), 2u);
    EXPECT_EQ(limits.rules[0].name, "burst");
    EXPECT_EQ(limits.rules[0].burst, 5u);
    EXPECT_EQ(limits.rules[1].key, "global");
    EXPECT_EQ(limits.rules[1].shadow, true);
    EXPECT_FALSE(limits.rules[1].algorithm.has_value()) << "left to the block";
    const auto& route = *settings.routes[0].rate_limit;
    EXPECT_EQ(route.algorithm, "gcra");
    ASSERT_TRUE(route.rules.has_value());
    EXPECT_EQ(route.rules->front().name, "per-ip");
}

TEST(load_config, reports_every_mistake_in_rate_limit_rules_where_it_is_written) {
    EXPECT_EQ(load_errors(R"(rate_limit:
  algorithm: leaky_bucket
  key: "header:"
  burst: 4
  rules:
    - {name: default, requests: 5}
    - {name: burst, requests: 5}
    - {name: burst, requests: 6}
    - {name: Bad Name}
    - {requests: 3}
    - {name: fixed, burst: 2}
    - {name: keyed, key: "cookie:x"}
)"),
              (errors{"gw.yaml:2:14: rate_limit.algorithm: \"leaky_bucket\" is not one of fixed_window, sliding_window, gcra",
                      "gw.yaml:3:8: rate_limit.key: the header name is empty (use header:<Name>, e.g. header:X-Api-Key)",
                      "gw.yaml:4:10: rate_limit.burst: burst applies to gcra only (this rule's algorithm is fixed_window)",
                      "gw.yaml:6:14: rate_limit.rules[0].name: \"default\" is the name of the rate_limit block's own rule; "
                      "choose another",
                      "gw.yaml:8:14: rate_limit.rules[2].name: duplicate rule name \"burst\"",
                      "gw.yaml:9:14: rate_limit.rules[3].name: \"Bad Name\" must match [a-z0-9_-]+",
                      "gw.yaml:10:7: rate_limit.rules[4]: \"name\" is required",
                      "gw.yaml:11:28: rate_limit.rules[5].burst: burst applies to gcra only (this rule's algorithm is "
                      "fixed_window)",
                      "gw.yaml:12:26: rate_limit.rules[6].key: \"cookie:x\" is not client_ip, header:<Name> or global"}));
    EXPECT_EQ(load_errors(R"(rate_limit:
  key: header:X-Api-Key
  rules: [{name: ip}, {name: orders}]
routes:
  - {name: orders, match: {path_prefix: /o}, rate_limit: {requests: 5}}
  - {name: ip, match: {path_prefix: /i}, rate_limit: {}}
)"),
              (errors{"gw.yaml:3:18: rate_limit.rules[0].name: \"ip\" is reserved (requests without a rule's header count "
                      "under ip:<client>)",
                      "gw.yaml:3:30: rate_limit.rules[1].name: \"orders\" is also the name of a route with its own "
                      "rate_limit; their Redis keys would mix",
                      "gw.yaml:6:12: routes[1].name: a route named \"ip\" with its own rate_limit would share keys with "
                      "requests a header-keyed rule counts by ip:<client>; rename the route"}));
    // A burst of 0 ("as many as requests") is no mistake, and a rule may inherit gcra.
    EXPECT_TRUE(load_config_text("rate_limit: {burst: 0, rules: [{name: b, burst: 3, algorithm: gcra}]}\n", "gw.yaml")
                    .value.has_value());
    EXPECT_TRUE(load_config_text("rate_limit: {algorithm: gcra, rules: [{name: b, burst: 3}]}\n", "gw.yaml")
                    .value.has_value());
}

TEST(load_config, reports_a_bad_health_check_path) {
    EXPECT_EQ(load_errors("health_check:\n  path: healthz\n"),
              (errors{"gw.yaml:2:9: health_check.path: must start with \"/\""}));
    EXPECT_EQ(load_errors("health_check:\n  path: \"/a b\"\n"),
              (errors{"gw.yaml:2:9: health_check.path: must not contain spaces or control characters"}));
}

TEST(load_config_file, reports_an_unreadable_file_without_a_position) {
    auto result = load_config_file("/nonexistent/gateway.yaml");
    EXPECT_FALSE(result.value);
    EXPECT_EQ(error_lines(result),
              (errors{"/nonexistent/gateway.yaml: cannot read: No such file or directory"}));
}

TEST(config_error, formats_as_file_line_column_message) {
    EXPECT_EQ((config_error{"c.yaml", 3, 7, "boom"}).to_string(), "c.yaml:3:7: boom");
}

}  // namespace
}  // namespace gw
