// One request, however built, never ends the process or keeps what it holds: a header field, a
// request target or an authority too long for the HTTP library's fields gets its own 4xx, the
// connection's slot is given back and a drain is not held up. Plus two process-wide numbers that
// must not depend on which event loop or which moment a request met: the /backends counts with
// `threads: 2`, and a Redis-backed limit right after start.
#include "harness.hpp"

#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <numeric>
#include <regex>
#include <string>
#include <thread>
#include <vector>

namespace it {
namespace {

using namespace std::string_literals;

// Beast keeps a field's name and value lengths in 16 bits, with 2 bytes of it for ": " and CRLF:
// 65,533 bytes is the longest name or value it can hold.
constexpr std::size_t field_limit = 65'533;

std::string log_tail(const std::string& log) {
    return log.size() > 1500 ? "..." + log.substr(log.size() - 1500) : log;
}

// `bytes` on a fresh connection get the gateway's own error answer, then the connection is closed.
::testing::AssertionResult rejected_and_closed(const std::uint16_t port, const std::string& bytes, int status,
                                               std::string_view error) {
    http_connection connection(port, 3s);
    http_response response;
    try {
        connection.send(bytes);
    } catch (const std::exception&) {
        // The gateway may answer and close before it has read everything; the answer still counts.
    }
    try {
        response = connection.read_response();
    } catch (const std::exception& e) {
        return ::testing::AssertionFailure() << "no answer to a request of " << bytes.size() << " bytes: " << e.what();
    }
    if (auto is_error = is_error_response(response, status, error); !is_error) return is_error;
    if (!connection.closed_by_peer(2s)) {
        return ::testing::AssertionFailure() << "connection still open after the " << status;
    }
    return ::testing::AssertionSuccess();
}

// The process still runs and a plain request gets 200; otherwise says how the gateway ended.
::testing::AssertionResult still_serving(process& gateway, std::uint16_t port) {
    const auto how_it_ended = [&] {
        std::string text;
        if (const auto status = gateway.wait_exit(500ms)) {
            text = "\nthe gateway exited (status " + std::to_string(status->shell_code()) + ")";
        }
        return text + "\nits log ends:\n" + log_tail(gateway.stderr_text());
    };
    http_response response;
    try {
        http_connection connection(port, 3s);
        response = connection.request("GET", "/after");
    } catch (const std::exception& e) {
        return ::testing::AssertionFailure() << "a plain request afterwards failed: " << e.what() << how_it_ended();
    }
    if (response.status != 200) {
        return ::testing::AssertionFailure() << "a plain request afterwards got:\n" << describe(response) << how_it_ended();
    }
    if (gateway.exited()) return ::testing::AssertionFailure() << "the gateway exited" << how_it_ended();
    return ::testing::AssertionSuccess();
}

// Requests the backend logged, the plain ones sent by still_serving left out.
std::size_t requests_other_than_after(const mock_backend& backend) {
    return backend.request_count("/") - backend.request_count("/after");
}

// A comma-separated X-Forwarded-For list of plain IPv4 addresses, exactly `size` bytes long:
// "10.0.0.100" (10 bytes) then ", 10.0.0.1" (10 bytes each); `size` is a multiple of 10.
std::string forwarded_for_list(std::size_t size) {
    std::string out = "10.0.0.100";
    while (out.size() < size) out += ", 10.0.0.1";
    return out;
}

// gatewayd started from gateway_yaml but with a shutdown_timeout of our choice (gateway_process
// fixes it at 2 s, too short to tell a stuck drain from a quick one), handed over the moment its
// port accepts (gateway_process also waits for its log line): the first requests come as early as
// any client's could.
class early_gateway {
public:
    early_gateway(const temp_dir& dir, const gateway_settings& settings, std::string_view shutdown_timeout) {
        static std::atomic<int> counter{0};
        const std::string n = std::to_string(++counter);
        port_ = free_port();
        std::string yaml = gateway_yaml(port_, settings);
        const std::string fixed = "shutdown_timeout: 2s\n";
        const auto at = yaml.find(fixed);
        if (at == std::string::npos) throw std::runtime_error("gateway_yaml wrote no \"" + fixed + "\" line");
        yaml.replace(at, fixed.size(), "shutdown_timeout: " + std::string(shutdown_timeout) + "\n");
        const auto config = dir.file("early-gateway-" + n + ".yaml");
        write_file(config, yaml);
        process_ = std::make_unique<process>(std::vector<std::string>{gatewayd_bin(), "--config", config.string()},
                                             dir.file("early-gateway-" + n + ".out"),
                                             dir.file("early-gateway-" + n + ".err"));
        const auto deadline = steady::now() + 10s;
        while (!port_accepts(port_)) {
            if (process_->exited() || steady::now() > deadline) {
                throw std::runtime_error("gatewayd did not start; stderr:\n" + process_->stderr_text());
            }
            std::this_thread::sleep_for(std::chrono::microseconds(200));
        }
    }
    ~early_gateway() {
        if (!process_->status()) process_->stop(2s);
        const std::string log = process_->stderr_text();
        for (const std::string_view marker : {"ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"}) {
            if (log.find(marker) != std::string::npos) ADD_FAILURE() << "sanitizer report:\n" << log.substr(log.find(marker), 2000);
        }
    }
    early_gateway(const early_gateway&) = delete;
    early_gateway& operator=(const early_gateway&) = delete;

    std::uint16_t port() const { return port_; }
    process& proc() { return *process_; }

private:
    std::uint16_t port_ = 0;
    std::unique_ptr<process> process_;
};

// gatewayd_active_connections from the admin /metrics; nullopt when it cannot be read.
std::optional<double> active_connections(std::uint16_t admin_port) {
    try {
        http_connection connection(admin_port, 2s);
        const auto response = connection.request("GET", "/metrics");
        static const std::regex line_re(R"((?:^|\n)gatewayd_active_connections(?:\{\})? ([0-9.eE+-]+))");
        std::smatch match;
        if (response.status != 200 || !std::regex_search(response.body, match, line_re)) return std::nullopt;
        return std::stod(match[1]);
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

bool no_active_connections(std::uint16_t admin_port, millis timeout) {
    return wait_until([&] { return active_connections(admin_port) == 0.0; }, timeout, 20ms);
}

class ErrorBoundaryTest : public ::testing::Test {
protected:
    temp_dir dir_;
    // The mock, a process of its own: a request line or header too long for the test's own
    // parsers must not take the test process down if the gateway forwards it.
    mock_backend backend_{dir_};

    gateway_settings settings(std::string client) const {
        return {.backends = {backend_.url()},
                .client = std::move(client),
                .upstream = "connect_timeout: 500ms, retries: 0",
                .health_check = "enabled: false"};
    }

    // A2: an absolute-form target whose authority is far too long to be a Host, on each of three
    // connections at once (all the gateway admits), each expected to get its answer and a close.
    void send_three_long_authorities(std::uint16_t port) {
        const std::string request = "GET http://" + std::string(70'000, 'a') + "/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
        std::vector<std::unique_ptr<http_connection>> connections;
        for (int i = 0; i < 3; ++i) {
            connections.push_back(std::make_unique<http_connection>(port, 2s));
            connections.back()->send(request);
        }
        const auto deadline = steady::now() + 2s;
        for (std::size_t i = 0; i < connections.size(); ++i) {
            auto& connection = *connections[i];
            const auto left = std::chrono::duration_cast<millis>(deadline - steady::now());
            if (!connection.data_arrives_within(std::max(left, 1ms))) {
                ADD_FAILURE() << "connection " << i + 1 << ": no answer within 2 s";
                continue;
            }
            try {
                const auto response = connection.read_response();
                // The authority is no valid host (400), and the whole target is over the field
                // limit as well (414, as in RequestTargetOverTheFieldLimit...): either is an answer.
                EXPECT_TRUE(is_error_response(response, 400, "bad_request") ||
                            is_error_response(response, 414, "uri_too_long"))
                    << "connection " << i + 1 << ": expected 400 bad_request or 414 uri_too_long, got:\n"
                    << describe(response);
                EXPECT_TRUE(connection.closed_by_peer(2s)) << "connection " << i + 1 << " still open after its answer";
            } catch (const std::exception& e) {
                ADD_FAILURE() << "connection " << i + 1 << ": " << e.what();
            }
        }
        // Closed here, as a client would after its answer.
    }
};

// A1 -------------------------------------------------------------------------------------------

// Beast's field table cannot hold such a value; the exception it throws must not leave the session.
TEST_F(ErrorBoundaryTest, HugeForwardedForGets431AndTheGatewayKeepsServing) {
    gateway_process gateway(dir_, settings("max_header_bytes: 1MiB"));
    EXPECT_TRUE(rejected_and_closed(gateway.port(),
                                    build_request("GET", "/", {{"X-Forwarded-For", forwarded_for_list(70'000)}}), 431,
                                    "headers_too_large"));
    EXPECT_TRUE(still_serving(gateway.proc(), gateway.port()));
    EXPECT_EQ(requests_other_than_after(backend_), 0u);
}

TEST_F(ErrorBoundaryTest, HeaderValueOneByteOverTheFieldLimitGets431AndTheGatewayKeepsServing) {
    gateway_process gateway(dir_, settings("max_header_bytes: 1MiB"));
    EXPECT_TRUE(rejected_and_closed(gateway.port(),
                                    build_request("GET", "/", {{"X-Big", std::string(field_limit + 1, 'v')}}), 431,
                                    "headers_too_large"));
    EXPECT_TRUE(still_serving(gateway.proc(), gateway.port()));
    EXPECT_EQ(requests_other_than_after(backend_), 0u);
}

TEST_F(ErrorBoundaryTest, HeaderNameOneByteOverTheFieldLimitGets431AndTheGatewayKeepsServing) {
    gateway_process gateway(dir_, settings("max_header_bytes: 1MiB"));
    EXPECT_TRUE(rejected_and_closed(gateway.port(),
                                    build_request("GET", "/", {{"X-" + std::string(field_limit - 1, 'n'), "v"}}), 431,
                                    "headers_too_large"));
    EXPECT_TRUE(still_serving(gateway.proc(), gateway.port()));
    EXPECT_EQ(requests_other_than_after(backend_), 0u);
}

// A2 -------------------------------------------------------------------------------------------

// max_connections 3 and three such requests: a leaked slot shows as a refused fourth client.
TEST_F(ErrorBoundaryTest, LongAbsoluteFormAuthorityIsAnsweredAndGivesItsSlotBack) {
    const std::uint16_t admin_port = free_port();
    auto config = settings("max_header_bytes: 1MiB, max_connections: 3");
    config.admin = admin_listen(admin_port);
    early_gateway gateway(dir_, config, "30s");
    ASSERT_TRUE(wait_for_port(admin_port, 2s));
    // The start-up probe's connection must be gone before the three take every slot.
    ASSERT_TRUE(no_active_connections(admin_port, 2s));

    send_three_long_authorities(gateway.port());
    EXPECT_TRUE(no_active_connections(admin_port, 2s))
        << "gatewayd_active_connections still " << active_connections(admin_port).value_or(-1)
        << " after every client closed";
    EXPECT_TRUE(still_serving(gateway.proc(), gateway.port()));
    EXPECT_EQ(requests_other_than_after(backend_), 0u);
}

// shutdown_timeout 30 s: a session stuck on such a request holds the drain for all of it.
TEST_F(ErrorBoundaryTest, ShutdownIsNotHeldUpByRequestsWithALongAuthority) {
    const std::uint16_t admin_port = free_port();
    auto config = settings("max_header_bytes: 1MiB, max_connections: 3");
    config.admin = admin_listen(admin_port);
    early_gateway gateway(dir_, config, "30s");
    ASSERT_TRUE(wait_for_port(admin_port, 2s));
    ASSERT_TRUE(no_active_connections(admin_port, 2s));

    send_three_long_authorities(gateway.port());
    gateway.proc().send_signal(SIGTERM);
    const auto status = gateway.proc().wait_exit(3s);
    if (!status) {
        gateway.proc().send_signal(SIGKILL);  // keeps the test short; the failure is recorded below
        gateway.proc().wait_exit(2s);
    }
    ASSERT_TRUE(status.has_value()) << "still running 3 s after SIGTERM; log:\n" << log_tail(gateway.proc().stderr_text());
    EXPECT_TRUE(status->exited && status->code == 0) << "exit status " << status->shell_code();
}

// A3 -------------------------------------------------------------------------------------------

TEST_F(ErrorBoundaryTest, RequestTargetOverTheFieldLimitGets414AndTheGatewayKeepsServing) {
    gateway_process gateway(dir_, settings("max_header_bytes: 1MiB"));
    EXPECT_TRUE(rejected_and_closed(gateway.port(), build_request("GET", "/" + std::string(70'000, 'a')), 414,
                                    "uri_too_long"));
    EXPECT_TRUE(still_serving(gateway.proc(), gateway.port()));
    EXPECT_EQ(requests_other_than_after(backend_), 0u);
}

// A4 -------------------------------------------------------------------------------------------

// From a trusted proxy the peer's address is appended for the backend: 65,530 + ", 127.0.0.1"
// no longer fits in one field. The client's header itself was within every limit.
TEST_F(ErrorBoundaryTest, ForwardedForThatOverflowsWhenTheProxyIsAppendedGets431) {
    gateway_process gateway(dir_, settings("max_header_bytes: 1MiB, trusted_proxies: [\"127.0.0.1/32\"]"));
    const std::string list = forwarded_for_list(65'530);
    ASSERT_EQ(list.size(), 65'530u);
    ASSERT_GT(list.size() + ", 127.0.0.1"s.size(), field_limit);
    EXPECT_TRUE(rejected_and_closed(gateway.port(), build_request("GET", "/", {{"X-Forwarded-For", list}}), 431,
                                    "headers_too_large"));
    EXPECT_TRUE(still_serving(gateway.proc(), gateway.port()));
    EXPECT_EQ(requests_other_than_after(backend_), 0u);
}

// E: /backends with threads: 2 ----------------------------------------------------------------------

TEST(BackendsReportThreadsTest, RequestCountsOfEveryLoopAreReported) {
    temp_dir dir;
    mock_backend first(dir), second(dir);
    const std::uint16_t admin_port = free_port();
    gateway_process gateway(dir, {.backends = {first.url(), second.url()},
                                  .upstream = "connect_timeout: 500ms, retries: 0",
                                  .health_check = "enabled: false",
                                  .extra = "threads: 2\n",
                                  .admin = admin_listen(admin_port)});
    // Fresh connections, which SO_REUSEPORT spreads over both loops.
    constexpr int total = 40;
    for (int i = 0; i < total; ++i) {
        const auto response = gateway.settled_get("/count/" + std::to_string(i));
        ASSERT_EQ(response.status, 200) << describe(response);
    }
    ASSERT_EQ(first.request_count("/count/") + second.request_count("/count/"), static_cast<std::size_t>(total));

    http_connection connection(admin_port, 2s);
    const auto response = connection.request("GET", "/backends");
    ASSERT_EQ(response.status, 200) << describe(response);
    const auto rows = parse_backends_json(response.body);
    ASSERT_TRUE(rows.has_value()) << response.body;
    std::map<std::string, std::uint64_t> reported;
    for (const auto& row : *rows) reported[row.url] = row.requests;
    EXPECT_EQ(reported[first.url()], first.request_count("/count/")) << response.body;
    EXPECT_EQ(reported[second.url()], second.request_count("/count/")) << response.body;
    EXPECT_EQ(reported[first.url()] + reported[second.url()], static_cast<std::uint64_t>(total)) << response.body;
}

// F: a Redis-backed limit right after start ----------------------------------------------------------

// The gateway accepts before its Redis connection is up; requests in that moment must not be
// counted somewhere Redis never hears of. Several fresh gateways, since it is a race.
TEST(RateLimitAtStartTest, RedisLimitHoldsForTheFirstRequestsAfterStart) {
    temp_dir dir;
    redis_server redis(dir);
    scripted_backend backend(scripted_backend::answer_ok("ok"));
    const gateway_settings settings{.backends = {backend.url()},
                                    .upstream = "connect_timeout: 500ms, retries: 0",
                                    .health_check = "enabled: false",
                                    .rate_limit = "enabled: true, requests: 5, window: 1m, store: redis",
                                    .redis = "address: \"" + redis.address() + "\""};
    constexpr int rounds = 5;
    constexpr int burst = 8;
    for (int round = 1; round <= rounds; ++round) {
        SCOPED_TRACE("round " + std::to_string(round));
        ASSERT_EQ(redis.command({"FLUSHALL"}).text, "OK");
        early_gateway gateway(dir, settings, "2s");
        // All eight sent before any answer is read: as fast as one client can.
        std::vector<std::unique_ptr<http_connection>> connections;
        for (int i = 0; i < burst; ++i) {
            connections.push_back(std::make_unique<http_connection>(gateway.port(), 3s));
            connections.back()->send(build_request("GET", "/burst/" + std::to_string(i)));
        }
        std::map<int, int> statuses;
        for (auto& connection : connections) {
            try {
                ++statuses[connection->read_response().status];
            } catch (const std::exception& e) {
                ADD_FAILURE() << "no answer: " << e.what();
            }
        }
        EXPECT_EQ(statuses[200], 5) << "passed the limit of 5 right after start";
        EXPECT_EQ(statuses[429], 3);
        // Every admitted request is counted in Redis, not in a memory Redis never hears of.
        const auto count = redis.get("rate_limit:127.0.0.1");
        if (count) {
            EXPECT_GE(std::stoll(*count), 5) << "admitted requests were counted outside Redis";
        } else {
            ADD_FAILURE() << "no rate_limit:127.0.0.1 key in Redis: every request was counted outside it";
        }
    }
}

}  // namespace
}  // namespace it
