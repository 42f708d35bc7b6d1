// SIGHUP: a new file applies to new requests without dropping connections or forgetting state;
// a broken one is reported with its position and changes nothing.
#include "harness.hpp"

#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <string>

namespace it {
namespace {

std::string port_of(const http_response& response) { return response.header("X-Backend-Port").value_or("-"); }

http_response admin_get(std::uint16_t admin_port, std::string_view path) {
    http_connection admin(admin_port, 2s);
    return admin.request("GET", path);
}

std::optional<backend_row> row_for(const std::vector<backend_row>& rows, const std::string& url) {
    const auto found = std::find_if(rows.begin(), rows.end(), [&](const auto& row) { return row.url == url; });
    if (found == rows.end()) return std::nullopt;
    return *found;
}

class ReloadTest : public ::testing::Test {
protected:
    temp_dir dir_;

    // Rewrites the gateway's config file, sends SIGHUP and waits for the outcome line.
    static void reload(gateway_process& gateway, const std::string& yaml, std::string_view expected_line,
                       std::size_t expected_count = 1) {
        write_file(gateway.config_path(), yaml);
        gateway.proc().send_signal(SIGHUP);
        ASSERT_TRUE(wait_until([&] { return count_lines_containing(gateway.log_path(), expected_line) == expected_count; },
                               3s))
            << "no \"" << expected_line << "\" after SIGHUP:\n" << gateway.log();
    }
};

TEST_F(ReloadTest, NewBackendListAppliesWithoutDroppingAnOpenKeepAliveConnection) {
    mock_backend a(dir_);
    mock_backend b(dir_);
    gateway_settings settings{.backends = {a.url()}};
    gateway_process gateway(dir_, settings);

    auto kept = gateway.connect();
    for (int i = 0; i < 3; ++i) {
        const auto response = kept->request("GET", "/before/" + std::to_string(i));
        ASSERT_EQ(response.status, 200) << describe(response);
        ASSERT_EQ(port_of(response), std::to_string(a.port()));
    }

    settings.backends = {b.url()};
    ASSERT_NO_FATAL_FAILURE(reload(gateway, gateway_yaml(gateway.port(), settings),
           "config reloaded from " + gateway.config_path().string() + ": 1 backend(s)"));

    // The connection opened before the reload is still served, now by B.
    for (int i = 0; i < 4; ++i) {
        const auto target = "/kept/" + std::to_string(i);
        http_response response;
        ASSERT_NO_THROW(response = kept->request("GET", target)) << "the keep-alive connection was dropped";
        EXPECT_EQ(response.status, 200) << describe(response);
        EXPECT_EQ(port_of(response), std::to_string(b.port())) << target;
        EXPECT_NE(response.header("Connection").value_or(""), "close") << describe(response);
    }
    for (int i = 0; i < 4; ++i) {
        const auto response = gateway.request("GET", "/fresh/" + std::to_string(i));
        EXPECT_EQ(response.status, 200) << describe(response);
        EXPECT_EQ(port_of(response), std::to_string(b.port()));
    }
    EXPECT_EQ(a.request_count("/kept/") + a.request_count("/fresh/"), 0u) << "the removed backend still got traffic";
    EXPECT_EQ(b.request_count("/kept/"), 4u);
    EXPECT_EQ(b.request_count("/fresh/"), 4u);
    EXPECT_EQ(count_lines_containing(gateway.log_path(), "failed"), 0u) << gateway.log();
}

TEST_F(ReloadTest, BrokenFileKeepsTheRunningConfigAndLogsTheErrorPosition) {
    mock_backend a(dir_);
    mock_backend b(dir_);
    gateway_settings settings{.backends = {a.url()}};
    gateway_process gateway(dir_, settings);
    const auto path = gateway.config_path().string();
    auto kept = gateway.connect();
    ASSERT_EQ(kept->request("GET", "/before").status, 200);

    // A file that would switch to B, but with a bad duration at a known position.
    settings.backends = {b.url()};
    const auto valid_part = gateway_yaml(gateway.port(), settings);
    const auto bad_line = std::count(valid_part.begin(), valid_part.end(), '\n') + 2;
    const auto broken = valid_part + "circuit_breaker:\n  open_timeout: 5 seconds\n";  // value at column 17
    ASSERT_NO_FATAL_FAILURE(reload(gateway, broken, "reload of " + path + " failed"));
    const auto position = "reload: " + path + ":" + std::to_string(bad_line) + ":17: ";
    EXPECT_EQ(count_lines_containing(gateway.log_path(), position), 1u)
        << "expected a line with \"" << position << "\":\n" << gateway.log();
    EXPECT_EQ(count_lines_containing(gateway.log_path(), "config reloaded from"), 0u) << gateway.log();

    // The old config (A) keeps serving, on the old connection and on new ones.
    for (int i = 0; i < 3; ++i) {
        http_response response;
        ASSERT_NO_THROW(response = kept->request("GET", "/kept/" + std::to_string(i)));
        EXPECT_EQ(response.status, 200) << describe(response);
        EXPECT_EQ(port_of(response), std::to_string(a.port()));
        const auto fresh = gateway.request("GET", "/fresh/" + std::to_string(i));
        EXPECT_EQ(fresh.status, 200) << describe(fresh);
        EXPECT_EQ(port_of(fresh), std::to_string(a.port()));
    }
    EXPECT_EQ(b.request_count("/"), b.request_count("/healthz")) << "B got traffic from a rejected file";

    // A corrected file is taken afterwards.
    ASSERT_NO_FATAL_FAILURE(reload(gateway, valid_part, "config reloaded from " + path + ": 1 backend(s)"));
    const auto after = kept->request("GET", "/fixed");
    EXPECT_EQ(after.status, 200) << describe(after);
    EXPECT_EQ(port_of(after), std::to_string(b.port()));
}

TEST_F(ReloadTest, UnchangedBackendKeepsItsOpenBreakerAcrossAReload) {
    mock_backend a(dir_, {"--status", "500"});
    mock_backend b(dir_);
    mock_backend c(dir_);
    const auto admin_port = free_port();
    gateway_settings settings{
        .backends = {a.url(), b.url()},
        .upstream = "connect_timeout: 500ms, retries: 0",
        .health_check = "enabled: true, path: /healthz, interval: 200ms, timeout: 200ms",
        .extra = "circuit_breaker: {enabled: true, min_requests: 5, failure_ratio: 0.6, open_timeout: 30s, "
                 "half_open_max_requests: 3, interval: 60s}\n",
        .admin = admin_listen(admin_port)};
    gateway_process gateway(dir_, settings);
    ASSERT_TRUE(wait_for_port(admin_port, 2s));

    int failed = 0;
    for (int i = 0; i < 10; ++i) {
        const auto response = gateway.request("GET", "/trip/" + std::to_string(i));
        if (response.status == 500) ++failed;
    }
    ASSERT_EQ(failed, 5);
    ASSERT_EQ(a.request_count("/trip/"), 5u);
    const std::string opened = "circuit breaker " + a.url() + ": closed -> open";
    ASSERT_TRUE(wait_until([&] { return count_lines_containing(gateway.log_path(), opened) == 1; }, 1s)) << gateway.log();
    {
        const auto body = admin_get(admin_port, "/backends").body;
        const auto rows = parse_backends_json(body);
        ASSERT_TRUE(rows.has_value()) << body;
        const auto row_a = row_for(*rows, a.url());
        ASSERT_TRUE(row_a.has_value()) << body;
        EXPECT_EQ(row_a->circuit, "open") << body;
    }

    // Same A (and breaker settings), plus C, listed first so that matching is by URL, not position.
    settings.backends = {c.url(), a.url(), b.url()};
    ASSERT_NO_FATAL_FAILURE(reload(gateway, gateway_yaml(gateway.port(), settings),
           "config reloaded from " + gateway.config_path().string() + ": 3 backend(s)"));

    const auto body = admin_get(admin_port, "/backends").body;
    const auto rows = parse_backends_json(body);
    ASSERT_TRUE(rows.has_value()) << body;
    ASSERT_EQ(rows->size(), 3u) << body;
    const auto row_a = row_for(*rows, a.url());
    const auto row_b = row_for(*rows, b.url());
    const auto row_c = row_for(*rows, c.url());
    ASSERT_TRUE(row_a && row_b && row_c) << body;
    EXPECT_EQ(row_a->circuit, "open") << body;
    EXPECT_EQ(row_a->requests, 5u) << body;
    EXPECT_EQ(row_a->failures, 5u) << body;
    EXPECT_EQ(row_b->circuit, "closed") << body;
    EXPECT_EQ(row_b->requests, 5u) << body;
    EXPECT_EQ(row_c->circuit, "closed") << body;
    EXPECT_TRUE(row_c->healthy) << body;

    for (int i = 0; i < 12; ++i) {
        const auto response = gateway.request("GET", "/after/" + std::to_string(i));
        EXPECT_EQ(response.status, 200) << describe(response);
    }
    EXPECT_EQ(a.request_count("/after/"), 0u) << "A's breaker was reset by the reload";
    EXPECT_EQ(b.request_count("/after/"), 6u);
    EXPECT_EQ(c.request_count("/after/"), 6u);
    EXPECT_EQ(count_lines_containing(gateway.log_path(), opened), 1u) << gateway.log();
    const auto later = parse_backends_json(admin_get(admin_port, "/backends").body);
    ASSERT_TRUE(later.has_value());
    EXPECT_EQ(row_for(*later, a.url()).value_or(backend_row{}).circuit, "open");
}

}  // namespace
}  // namespace it
