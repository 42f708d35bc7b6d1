// What an operator sees: connection limits, JSON logs, backends coming back, prompt drains.
#include "harness.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <string>

namespace it {
namespace {

class OperationsTest : public ::testing::Test {
protected:
    temp_dir dir_;
};

TEST_F(OperationsTest, MaxConnectionsRefusesTheOneTooMany) {
    mock_backend backend(dir_);
    gateway_process gateway(dir_, {.backends = {backend.url()}, .client = "max_connections: 2"});

    auto first = gateway.connect();
    auto second = gateway.connect();
    ASSERT_EQ(first->request("GET", "/one").status, 200);
    ASSERT_EQ(second->request("GET", "/two").status, 200);

    auto third = gateway.connect();
    EXPECT_TRUE(third->closed_by_peer(2s)) << "a third connection was kept open with max_connections: 2";

    // Freeing a slot lets the next client in.
    first.reset();
    std::unique_ptr<http_connection> fourth;
    const bool served = wait_until(
        [&] {
            try {
                fourth = gateway.connect();
                return fourth->request("GET", "/four").status == 200;
            } catch (const std::exception&) {
                return false;
            }
        },
        3s, 50ms);
    EXPECT_TRUE(served) << "no connection was served after one of two closed";
}

TEST_F(OperationsTest, JsonLogsAreOneObjectPerLineWithAccessFields) {
    mock_backend backend(dir_);
    gateway_process gateway(dir_, {.backends = {backend.url()}, .log = "level: info, format: json, access_log: true"});
    ASSERT_EQ(gateway.request("GET", "/json?q=\"x\"").status, 200);
    ASSERT_TRUE(wait_until([&] { return count_lines_containing(gateway.log_path(), "\"msg\":\"access\"") == 1; }, 3s));

    const auto lines = lines_containing(gateway.log_path(), "");
    ASSERT_GE(lines.size(), 2u);
    for (const auto& line : lines) {
        if (line.empty()) continue;
        EXPECT_TRUE(line.starts_with("{\"time\":\"") && line.ends_with("}")) << line;
    }
    const auto access = lines_containing(gateway.log_path(), "\"msg\":\"access\"").front();
    EXPECT_NE(access.find("\"status\":200"), std::string::npos) << access;
    EXPECT_NE(access.find("\"method\":\"GET\""), std::string::npos) << access;
    EXPECT_NE(access.find("\"backend\":\"" + backend.url() + "\""), std::string::npos) << access;
    EXPECT_NE(access.find("\"request_id\":\""), std::string::npos) << access;
}

TEST_F(OperationsTest, BackendMarkedDownComesBackThroughHealthChecks) {
    mock_backend live(dir_);
    const auto late_port = free_port();
    const std::string late_url = "http://127.0.0.1:" + std::to_string(late_port);
    gateway_process gateway(dir_, {.backends = {late_url, live.url()},
                                   .health_check = "enabled: true, path: /healthz, interval: 100ms, timeout: "
                                                   "100ms, healthy_threshold: 2, unhealthy_threshold: 2"});
    // Requests while the late backend is dead all land on the live one.
    for (int i = 0; i < 4; ++i) ASSERT_EQ(gateway.request("GET", "/before").status, 200);
    ASSERT_TRUE(wait_until([&] { return gateway.log().find("backend " + late_url) != std::string::npos; }, 3s))
        << gateway.log();

    mock_backend late(dir_, {}, late_port);
    ASSERT_TRUE(wait_until([&] { return gateway.log().find("backend " + late_url + " is up") != std::string::npos; },
                           5s))
        << gateway.log();
    for (int i = 0; i < 6; ++i) ASSERT_EQ(gateway.request("GET", "/after").status, 200);
    EXPECT_EQ(late.request_count("/after"), 3u);
    EXPECT_EQ(live.request_count("/after"), 3u);
}

TEST_F(OperationsTest, SigtermClosesIdleKeepAliveConnectionsAtOnce) {
    mock_backend backend(dir_);
    gateway_process gateway(dir_, {.backends = {backend.url()}, .client = "idle_timeout: 60s"});
    auto idle = gateway.connect();
    ASSERT_EQ(idle->request("GET", "/warm").status, 200);

    const auto sent = steady::now();
    gateway.proc().send_signal(SIGTERM);
    EXPECT_TRUE(idle->closed_by_peer(1500ms)) << "idle keep-alive connection stayed open during drain";
    const auto status = gateway.proc().wait_exit(3s);
    ASSERT_TRUE(status.has_value()) << "gatewayd did not exit after SIGTERM";
    EXPECT_TRUE(status->exited);
    EXPECT_EQ(status->code, 0);
    EXPECT_LT(steady::now() - sent, 1500ms) << "drain waited for an idle connection";
}

}  // namespace
}  // namespace it

namespace it {
namespace {

TEST(RetryAfterTest, NoBackendSaysHowLongUntilABreakerHalfOpens) {
    temp_dir dir;
    mock_backend failing(dir, {"--status", "500"});
    gateway_process gateway(dir, {.backends = {failing.url()},
                                  .upstream = "connect_timeout: 500ms, retries: 0",
                                  .extra = "circuit_breaker: {min_requests: 2, failure_ratio: 0.5, open_timeout: 30s}\n"});
    EXPECT_EQ(gateway.request("GET", "/a").status, 500);
    EXPECT_EQ(gateway.request("GET", "/b").status, 500);
    const auto refused = gateway.request("GET", "/c");
    ASSERT_TRUE(is_error_response(refused, 503, "no_backend"));
    const auto retry_after = std::stoi(refused.header("Retry-After").value_or("0"));
    EXPECT_GE(retry_after, 25);
    EXPECT_LE(retry_after, 30);
}

}  // namespace
}  // namespace it

namespace it {
namespace {

// A NOTIFY_SOCKET of the test's own, as systemd would give the service.
class notify_socket {
public:
    explicit notify_socket(const fs::path& path) : path_(path) {
        fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        std::snprintf(address.sun_path, sizeof address.sun_path, "%s", path.c_str());
        if (::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) throw std::runtime_error("bind");
        timeval timeout{0, 100'000};
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    }
    ~notify_socket() { ::close(fd_); }

    // Waits up to `timeout` for a datagram containing `needle`; everything read is kept.
    bool wait_for(std::string_view needle, millis timeout) {
        return wait_until(
            [&] {
                if (received_.find(needle) != std::string::npos) return true;
                char buffer[4096];
                const auto n = ::recv(fd_, buffer, sizeof buffer, 0);
                if (n > 0) received_.append(buffer, static_cast<std::size_t>(n)).append("\n");
                return received_.find(needle) != std::string::npos;
            },
            timeout, 1ms);
    }
    void forget() { received_.clear(); }
    const std::string& received() const { return received_; }

private:
    fs::path path_;
    int fd_ = -1;
    std::string received_;
};

TEST(ServiceNotifyTest, ReadyReloadingWatchdogAndStoppingReachTheNotifySocket) {
    temp_dir dir;
    mock_backend backend(dir);
    notify_socket notifications(dir.file("notify.sock"));
    ::setenv("NOTIFY_SOCKET", dir.file("notify.sock").c_str(), 1);
    ::setenv("WATCHDOG_USEC", "200000", 1);
    gateway_process gateway(dir, {.backends = {backend.url()}});
    ::unsetenv("NOTIFY_SOCKET");
    ::unsetenv("WATCHDOG_USEC");

    EXPECT_TRUE(notifications.wait_for("READY=1", 3s)) << notifications.received();
    EXPECT_TRUE(notifications.wait_for("WATCHDOG=1", 1s)) << notifications.received();

    notifications.forget();
    gateway.proc().send_signal(SIGHUP);
    EXPECT_TRUE(notifications.wait_for("RELOADING=1", 3s)) << notifications.received();
    EXPECT_TRUE(notifications.wait_for("READY=1", 3s)) << notifications.received();
    EXPECT_LT(notifications.received().find("RELOADING=1"), notifications.received().find("READY=1"));

    gateway.proc().send_signal(SIGTERM);
    EXPECT_TRUE(notifications.wait_for("STOPPING=1", 3s)) << notifications.received();
    const auto status = gateway.proc().wait_exit(5s);
    ASSERT_TRUE(status);
    EXPECT_EQ(status->code, 0);
}

}  // namespace
}  // namespace it
