// The admin listener: liveness, readiness and the per-backend report, as a probe or operator sees them.
#include "harness.hpp"

#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <string>

namespace it {
namespace {

std::optional<backend_row> row_for(const std::vector<backend_row>& rows, const std::string& url) {
    const auto found = std::find_if(rows.begin(), rows.end(), [&](const auto& row) { return row.url == url; });
    if (found == rows.end()) return std::nullopt;
    return *found;
}

std::string trimmed(std::string text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
    return text;
}

class AdminTest : public ::testing::Test {
protected:
    temp_dir dir_;
    std::uint16_t admin_port_ = free_port();

    http_response admin(std::string_view method, std::string_view path) const {
        http_connection connection(admin_port_, 2s);
        return connection.request(method, path);
    }
    int admin_status(std::string_view path) const {
        try {
            return admin("GET", path).status;
        } catch (const std::exception&) {
            return -1;
        }
    }
};

TEST_F(AdminTest, HealthzReadyzAndBackendsReportState) {
    mock_backend good(dir_);
    mock_backend bad(dir_, {"--status", "503"});
    gateway_process gateway(dir_, {.backends = {good.url(), bad.url()},
                                   .upstream = "connect_timeout: 500ms, retries: 0",
                                   .extra = "circuit_breaker: {enabled: true, min_requests: 5, failure_ratio: 0.6, "
                                            "open_timeout: 30s, half_open_max_requests: 3, interval: 60s}\n",
                                   .admin = admin_listen(admin_port_)});
    ASSERT_TRUE(wait_for_port(admin_port_, 2s));

    const auto healthz = admin("GET", "/healthz");
    EXPECT_EQ(healthz.status, 200) << describe(healthz);
    EXPECT_EQ(trimmed(healthz.body), "ok") << describe(healthz);
    const auto readyz = admin("GET", "/readyz");
    EXPECT_EQ(readyz.status, 200) << describe(readyz);

    {
        const auto response = admin("GET", "/backends");
        ASSERT_EQ(response.status, 200) << describe(response);
        EXPECT_TRUE(response.header("Content-Type").value_or("").starts_with("application/json")) << describe(response);
        const auto rows = parse_backends_json(response.body);
        ASSERT_TRUE(rows.has_value()) << response.body;
        ASSERT_EQ(rows->size(), 2u) << response.body;
        EXPECT_EQ((*rows)[0].url, good.url()) << "rows not in config order: " << response.body;
        EXPECT_EQ((*rows)[1].url, bad.url()) << "rows not in config order: " << response.body;
        for (const auto& row : *rows) {
            EXPECT_TRUE(row.healthy) << response.body;
            EXPECT_EQ(row.circuit, "closed") << response.body;
            EXPECT_EQ(row.requests, 0u) << response.body;
            EXPECT_EQ(row.failures, 0u) << response.body;
        }
    }

    // Six requests, round robin: three 200s from `good`, three 503s from `bad` (3 of 3 fail, but
    // fewer than min_requests: the breaker stays closed).
    int ok = 0;
    int failed = 0;
    for (int i = 0; i < 6; ++i) {
        const auto status = gateway.request("GET", "/count/" + std::to_string(i)).status;
        if (status == 200) ++ok;
        if (status == 503) ++failed;
    }
    ASSERT_EQ(ok, 3);
    ASSERT_EQ(failed, 3);
    ASSERT_EQ(good.request_count("/count/"), 3u);
    ASSERT_EQ(bad.request_count("/count/"), 3u);

    const auto response = admin("GET", "/backends");
    ASSERT_EQ(response.status, 200) << describe(response);
    const auto rows = parse_backends_json(response.body);
    ASSERT_TRUE(rows.has_value()) << response.body;
    const auto good_row = row_for(*rows, good.url());
    const auto bad_row = row_for(*rows, bad.url());
    ASSERT_TRUE(good_row && bad_row) << response.body;
    EXPECT_EQ(good_row->requests, 3u) << response.body;
    EXPECT_EQ(good_row->failures, 0u) << response.body;
    EXPECT_EQ(good_row->circuit, "closed") << response.body;
    EXPECT_EQ(bad_row->requests, 3u) << response.body;
    EXPECT_EQ(bad_row->failures, 3u) << response.body;
    EXPECT_EQ(bad_row->circuit, "closed") << response.body;
    EXPECT_TRUE(bad_row->healthy) << "health checks of /healthz pass: " << response.body;
    EXPECT_EQ(admin("GET", "/readyz").status, 200);
}

TEST_F(AdminTest, UnknownPathIs404AndPostIs405) {
    mock_backend backend(dir_);
    gateway_process gateway(dir_, {.backends = {backend.url()}, .admin = admin_listen(admin_port_)});
    ASSERT_TRUE(wait_for_port(admin_port_, 2s));

    const auto unknown = admin("GET", "/nope");
    EXPECT_EQ(unknown.status, 404) << describe(unknown);
    for (const std::string path : {"/healthz", "/readyz", "/backends"}) {
        const auto post = admin("POST", path);
        EXPECT_EQ(post.status, 405) << path << ":\n" << describe(post);
    }
    // The admin listener never proxies: the backend saw none of it.
    EXPECT_EQ(backend.request_count("/nope"), 0u);
    EXPECT_EQ(backend.request_count("/readyz"), 0u);
    EXPECT_EQ(backend.request_count("/backends"), 0u);
}

TEST_F(AdminTest, ReadyzTurns503WhenAllBackendsAreDownAndBackWhenOneReturns) {
    auto a = std::make_unique<mock_backend>(dir_);
    const auto a_port = a->port();
    const auto a_url = a->url();
    mock_backend b(dir_);
    gateway_process gateway(dir_, {.backends = {a_url, b.url()},
                                   .health_check = "enabled: true, path: /healthz, interval: 100ms, timeout: 100ms, "
                                                   "healthy_threshold: 2, unhealthy_threshold: 2",
                                   .admin = admin_listen(admin_port_)});
    ASSERT_TRUE(wait_for_port(admin_port_, 2s));
    ASSERT_EQ(admin_status("/readyz"), 200);

    ::kill(a->pid(), SIGKILL);
    a->stop();
    ASSERT_TRUE(wait_until([&] { return gateway.log().find("backend " + a_url + " is down") != std::string::npos; }, 2s))
        << gateway.log();
    EXPECT_EQ(admin_status("/readyz"), 200) << "one backend is still available";

    ::kill(b.pid(), SIGKILL);
    b.stop();
    EXPECT_TRUE(wait_until([&] { return admin_status("/readyz") == 503; }, 2s)) << "readyz stayed 200 with no backend";
    const auto body = admin("GET", "/backends").body;
    const auto rows = parse_backends_json(body);
    ASSERT_TRUE(rows.has_value()) << body;
    ASSERT_EQ(rows->size(), 2u) << body;
    for (const auto& row : *rows) EXPECT_FALSE(row.healthy) << body;
    EXPECT_EQ(admin_status("/healthz"), 200) << "liveness does not depend on backends";

    a = std::make_unique<mock_backend>(dir_, std::vector<std::string>{}, a_port);
    EXPECT_TRUE(wait_until([&] { return admin_status("/readyz") == 200; }, 2s)) << "readyz did not recover";
}

}  // namespace
}  // namespace it

namespace it {
namespace {

TEST(AdminMetricsTest, MetricsMoveWithTraffic) {
    temp_dir dir;
    mock_backend backend(dir);
    const auto admin_port = free_port();
    gateway_process gateway(dir, {.backends = {backend.url()},
                                  .admin = "listen: \"127.0.0.1:" + std::to_string(admin_port) + "\""});
    for (int i = 0; i < 3; ++i) ASSERT_EQ(gateway.request("GET", "/m").status, 200);
    ASSERT_TRUE(wait_for_port(admin_port, 3s));
    http_connection admin(admin_port);
    const auto metrics = admin.request("GET", "/metrics");
    ASSERT_EQ(metrics.status, 200);
    EXPECT_NE(metrics.body.find("gatewayd_requests_total{code=\"200\"} 3\n"), std::string::npos) << metrics.body;
    EXPECT_NE(metrics.body.find("gatewayd_upstream_requests_total{backend=\"" + backend.url() +
                                "\",outcome=\"success\"} 3\n"),
              std::string::npos)
        << metrics.body;
    EXPECT_NE(metrics.body.find("gatewayd_request_duration_seconds_count 3\n"), std::string::npos);
    EXPECT_NE(metrics.body.find("gatewayd_backend_up{backend=\"" + backend.url() + "\"} 1\n"), std::string::npos);
    EXPECT_NE(metrics.body.find("gatewayd_active_connections "), std::string::npos) << metrics.body;
    // TLS and tunnel families are there even with no TLS listener and no tunnel yet.
    EXPECT_NE(metrics.body.find("gatewayd_tls_handshakes_total{result=\"ok\"} 0\n"), std::string::npos);
    EXPECT_NE(metrics.body.find("gatewayd_tls_handshakes_total{result=\"failed\"} 0\n"), std::string::npos);
    EXPECT_NE(metrics.body.find("gatewayd_tunnels_active 0\n"), std::string::npos);
    EXPECT_NE(metrics.body.find("gatewayd_tunnels_total 0\n"), std::string::npos);
    EXPECT_NE(metrics.body.find("process_open_fds "), std::string::npos);
}

}  // namespace
}  // namespace it
