// `threads: 2`: two event loops, one breaker and one health state per backend for the process.
// Every request goes on a fresh connection, which SO_REUSEPORT spreads over both loops; with a
// breaker or a health state per loop each loop would trip or mark down on its own.
#include "harness.hpp"

#include <gtest/gtest.h>

#include <string>

namespace it {
namespace {

constexpr std::string_view http_500_close =
    "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

class ThreadsTest : public ::testing::Test {
protected:
    temp_dir dir_;
};

TEST_F(ThreadsTest, OneBreakerForTheWholeProcessTripsOnceAfterFiveFailures) {
    raw_tcp_server failing{std::string(http_500_close)};
    gateway_process gateway(dir_, {.backends = {failing.url()},
                                   .upstream = "connect_timeout: 500ms, retries: 0",
                                   .health_check = "enabled: false",
                                   .extra = "threads: 2\n"
                                            "circuit_breaker: {enabled: true, min_requests: 5, failure_ratio: 0.6, "
                                            "open_timeout: 30s, half_open_max_requests: 3, interval: 60s}\n"});
    int failures = 0;
    int refused = 0;
    for (int i = 0; i < 24; ++i) {
        const auto response = gateway.settled_get("/t/" + std::to_string(i));
        if (response.status == 500) ++failures;
        if (is_error_response(response, 503, "no_backend")) ++refused;
    }
    // Per-loop breakers would each let five through: ten connections and two "open" lines.
    EXPECT_EQ(failures, 5);
    EXPECT_EQ(refused, 19);
    EXPECT_EQ(failing.connections(), 5u);
    EXPECT_EQ(count_lines_containing(gateway.log_path(), "circuit breaker " + failing.url() + ": closed -> open"), 1u)
        << gateway.log();
}

TEST_F(ThreadsTest, ABackendMarkedDownByOneLoopIsDownForEveryLoop) {
    const std::uint16_t dead_port = free_port();  // nothing listens: connects are refused
    const std::string dead = "http://127.0.0.1:" + std::to_string(dead_port);
    mock_backend alive(dir_);
    const std::uint16_t admin_port = free_port();
    // A long interval: once down, the dead backend stays down for the whole test.
    gateway_process gateway(dir_, {.backends = {dead, alive.url()},
                                   .upstream = "connect_timeout: 500ms, retries: 1",
                                   .health_check = "enabled: true, path: /healthz, interval: 60s, timeout: 1s",
                                   .extra = "threads: 2\n",
                                   .admin = admin_listen(admin_port)});
    for (int i = 0; i < 24; ++i) {
        const auto response = gateway.settled_get("/d/" + std::to_string(i));
        ASSERT_EQ(response.status, 200) << describe(response);
    }
    EXPECT_EQ(alive.request_count("/d/"), 24u);
    // Marked down once for the process; with a health state per loop each loop would find out.
    EXPECT_EQ(count_lines_containing(gateway.log_path(), "backend " + dead + " marked down"), 1u) << gateway.log();

    http_connection connection(admin_port);
    const auto response = connection.request("GET", "/backends");
    const auto rows = parse_backends_json(response.body);
    ASSERT_TRUE(rows.has_value()) << response.body;
    ASSERT_EQ(rows->size(), 2u);
    for (const auto& row : *rows) EXPECT_EQ(row.healthy, row.url == alive.url()) << row.url;
}

TEST_F(ThreadsTest, ActiveHealthChecksRunOncePerProcessNotOncePerLoop) {
    mock_backend backend(dir_);
    gateway_process gateway(dir_, {.backends = {backend.url()},
                                   .health_check = "enabled: true, path: /healthz, interval: 100ms, timeout: 1s",
                                   .extra = "threads: 2\n"});
    const auto started = steady::now();
    ASSERT_TRUE(wait_until([&] { return backend.request_count("/healthz") >= 8; }, 10s));
    const auto took = std::chrono::duration_cast<millis>(steady::now() - started);
    // Eight probes at 100 ms take about 800 ms from one loop, about 400 ms from two.
    EXPECT_GE(took, 650ms) << "health checks seem to run on more than one loop";
}

// Releases run Asio's epoll reactor; the start-up line says so, so that an operator can tell.
TEST_F(ThreadsTest, TheStartLineNamesTheLoopsAndWhatTheyWaitOn) {
    mock_backend backend(dir_);
    gateway_process gateway(dir_, {.backends = {backend.url()}, .extra = "threads: 2\n"});
    EXPECT_EQ(count_lines_containing(gateway.log_path(), "(2 thread(s) on epoll, 1 backend(s)"), 1u) << gateway.log();
}

}  // namespace
}  // namespace it
