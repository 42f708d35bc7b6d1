// Circuit breakers, health checks, retries and graceful drain, seen from clients, backends and logs.
#include "harness.hpp"

#include <gtest/gtest.h>
#include <signal.h>

#include <mutex>
#include <string>

namespace it {
namespace {

constexpr std::string_view http_500_close =
    "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

// min_requests 5, ratio 0.6, open 1 s, 3 half-open probes: the original design with a short open time.
const std::string short_breaker =
    "circuit_breaker: {enabled: true, min_requests: 5, failure_ratio: 0.6, open_timeout: 1s, "
    "half_open_max_requests: 3, interval: 60s}\n";

std::string port_of(const http_response& response) { return response.header("X-Backend-Port").value_or("-"); }

// Kills a mock backend at once (no graceful close of its connections) and reaps it.
void kill_backend(mock_backend& backend) {
    ::kill(backend.pid(), SIGKILL);
    backend.stop();
}

class ResilienceTest : public ::testing::Test {
protected:
    temp_dir dir_;

    static std::size_t log_count(const gateway_process& gateway, const std::string& needle) {
        return count_lines_containing(gateway.log_path(), needle);
    }

    // Phase one of the original scenario: ten sequential requests over A (always 500) and B; exactly
    // five reach A, their five 500s reach the client, and A's breaker opens. Returns when the client
    // saw the fifth 500.
    static steady::time_point trip_a(const gateway_process& gateway, const mock_backend& a, const mock_backend& b) {
        int failed = 0;
        steady::time_point fifth_500{};
        for (int i = 0; i < 10; ++i) {
            const auto target = "/closed/" + std::to_string(i);
            const auto response = gateway.settled_get(target);
            if (response.status == 500) {
                EXPECT_EQ(port_of(response), std::to_string(a.port())) << describe(response);
                if (++failed == 5) fifth_500 = steady::now();
            } else {
                EXPECT_EQ(response.status, 200) << target << ":\n" << describe(response);
                EXPECT_EQ(port_of(response), std::to_string(b.port())) << describe(response);
            }
        }
        EXPECT_EQ(failed, 5) << "client-visible 500s while the breaker was closed";
        EXPECT_EQ(a.request_count("/closed/"), 5u);
        EXPECT_EQ(b.request_count("/closed/"), 5u);
        EXPECT_EQ(log_count(gateway, "circuit breaker " + a.url() + ": closed -> open"), 1u) << gateway.log();
        return fifth_500;
    }
};

TEST_F(ResilienceTest, BreakerOpensAfterFiveFailuresAndOneFailingHalfOpenProbeReopensIt) {
    mock_backend a(dir_, {"--status", "500"});
    mock_backend b(dir_);
    gateway_process gateway(dir_, {.backends = {a.url(), b.url()},
                                   .upstream = "connect_timeout: 500ms, retries: 0",
                                   .health_check = "enabled: true, path: /healthz, interval: 200ms, timeout: 200ms",
                                   .extra = short_breaker});
    const auto tripped = trip_a(gateway, a, b);
    ASSERT_FALSE(HasFailure());

    // Open: everything goes to B until open_timeout has passed; then one probe reaches A, fails
    // (500 to that client) and reopens the breaker, so the other two half-open slots are never used.
    const std::string half_open_to_open = "circuit breaker " + a.url() + ": half-open -> open";
    int sent = 0;
    int probes = 0;
    int sent_before_probe = 0;
    steady::time_point probe_seen{};
    const auto deadline = steady::now() + 3s;
    while (steady::now() < deadline && log_count(gateway, half_open_to_open) == 0) {
        const auto target = "/open/" + std::to_string(sent++);
        const auto response = gateway.settled_get(target);
        if (response.status == 500 && port_of(response) == std::to_string(a.port())) {
            if (++probes == 1) {
                probe_seen = steady::now();
                sent_before_probe = sent - 1;
            }
        } else {
            ASSERT_EQ(response.status, 200) << target << ":\n" << describe(response);
            ASSERT_EQ(port_of(response), std::to_string(b.port())) << describe(response);
        }
    }
    ASSERT_EQ(log_count(gateway, half_open_to_open), 1u) << "breaker never went half-open -> open:\n" << gateway.log();
    EXPECT_EQ(log_count(gateway, "circuit breaker " + a.url() + ": open -> half-open"), 1u) << gateway.log();
    EXPECT_EQ(probes, 1);
    EXPECT_EQ(a.request_count("/open/"), 1u) << "a failing half-open probe must reopen the breaker at once";
    EXPECT_EQ(b.request_count("/open/"), static_cast<std::size_t>(sent - 1));
    EXPECT_GE(sent_before_probe, 20) << "too few requests while the breaker was open to show anything";
    const auto open_for = std::chrono::duration_cast<millis>(probe_seen - tripped);
    EXPECT_GE(open_for, 950ms) << "A was probed before open_timeout (1s)";
    EXPECT_LT(open_for, 1500ms) << "A was not probed soon after open_timeout (1s)";

    // Open again: nothing reaches A.
    const auto reopened = steady::now();
    for (int i = 0; i < 10; ++i) {
        const auto response = gateway.settled_get("/reopened/" + std::to_string(i));
        EXPECT_EQ(response.status, 200) << describe(response);
        EXPECT_EQ(port_of(response), std::to_string(b.port()));
    }
    ASSERT_LT(steady::now() - reopened, 900ms) << "too slow to say anything about the reopened breaker";
    EXPECT_EQ(a.request_count("/reopened/"), 0u);
    EXPECT_EQ(b.request_count("/reopened/"), 10u);
    EXPECT_EQ(a.request_count("/"), a.request_count("/healthz") + 5 + 1) << "A saw uncounted requests";
}

TEST_F(ResilienceTest, BreakerClosesAfterThreeSuccessfulHalfOpenProbes) {
    auto a = std::make_unique<mock_backend>(dir_, std::vector<std::string>{"--status", "500"});
    const auto a_port = a->port();
    const auto a_url = a->url();
    mock_backend b(dir_);
    gateway_process gateway(dir_, {.backends = {a_url, b.url()},
                                   .upstream = "connect_timeout: 500ms, retries: 0",
                                   .health_check = "enabled: true, path: /healthz, interval: 200ms, timeout: 200ms",
                                   .extra = short_breaker});
    const auto tripped = trip_a(gateway, *a, b);
    ASSERT_FALSE(HasFailure());

    // A recovers while its breaker is open: same port, no more 500s.
    kill_backend(*a);
    a = std::make_unique<mock_backend>(dir_, std::vector<std::string>{}, a_port);
    ASSERT_LT(steady::now() - tripped, 800ms) << "restart took longer than the breaker stays open";

    const std::string closed_line = "circuit breaker " + a_url + ": half-open -> closed";
    int sent = 0;
    int a_answers = 0;
    steady::time_point first_probe{};
    const auto deadline = steady::now() + 3s;
    while (steady::now() < deadline && log_count(gateway, closed_line) == 0) {
        const auto target = "/recover/" + std::to_string(sent++);
        const auto response = gateway.settled_get(target);
        ASSERT_EQ(response.status, 200) << target << ":\n" << describe(response);
        if (port_of(response) == std::to_string(a_port)) {
            if (++a_answers == 1) first_probe = steady::now();
            // Not closed before the third success.
            if (a_answers < 3) {
                ASSERT_EQ(log_count(gateway, closed_line), 0u) << "closed after " << a_answers << " probe(s)";
            }
        } else {
            ASSERT_EQ(port_of(response), std::to_string(b.port())) << describe(response);
        }
    }
    ASSERT_EQ(log_count(gateway, closed_line), 1u) << "breaker never closed:\n" << gateway.log();
    EXPECT_EQ(log_count(gateway, "circuit breaker " + a_url + ": open -> half-open"), 1u) << gateway.log();
    EXPECT_EQ(log_count(gateway, "circuit breaker " + a_url + ": half-open -> open"), 0u) << gateway.log();
    EXPECT_EQ(a_answers, 3);
    EXPECT_EQ(a->request_count("/recover/"), 3u) << "exactly half_open_max_requests probes before closing";
    EXPECT_GE(std::chrono::duration_cast<millis>(first_probe - tripped), 950ms) << "probed before open_timeout";

    // Closed: round robin over both again.
    for (int i = 0; i < 10; ++i) {
        const auto response = gateway.settled_get("/closed-again/" + std::to_string(i));
        EXPECT_EQ(response.status, 200) << describe(response);
    }
    EXPECT_EQ(a->request_count("/closed-again/"), 5u);
    EXPECT_EQ(b.request_count("/closed-again/"), 5u);
}

TEST_F(ResilienceTest, KilledBackendUnderLoadCostsNoRequestAndComesBackAfterHealthChecks) {
    auto a = std::make_unique<mock_backend>(dir_);
    const auto a_port = a->port();
    const auto a_url = a->url();
    mock_backend b(dir_);
    // Back within interval x healthy_threshold + one interval.
    constexpr auto comeback_bound = 100ms * 2 + 100ms;
    gateway_process gateway(dir_, {.backends = {a_url, b.url()},
                                   .upstream = "connect_timeout: 500ms, retries: 1",
                                   .health_check = "enabled: true, path: /healthz, interval: 100ms, timeout: 100ms, "
                                                   "healthy_threshold: 2, unhealthy_threshold: 2"});

    struct outcome {
        steady::time_point done;
        int status = 0;
        std::string port;
        std::string error;
    };
    std::mutex lock;
    std::vector<outcome> outcomes;
    std::atomic<bool> stop{false};
    const auto count = [&] {
        std::lock_guard guard(lock);
        return outcomes.size();
    };
    std::thread load([&] {
        const auto hard_stop = steady::now() + 10s;
        for (int i = 0; !stop && steady::now() < hard_stop; ++i) {
            outcome result;
            try {
                const auto response = gateway.request("GET", "/load/" + std::to_string(i));
                result.status = response.status;
                result.port = port_of(response);
            } catch (const std::exception& error) {
                result.error = error.what();
            }
            result.done = steady::now();
            std::lock_guard guard(lock);
            outcomes.push_back(std::move(result));
        }
    });
    struct joiner {
        std::atomic<bool>& stop;
        std::thread& thread;
        ~joiner() {
            stop = true;
            if (thread.joinable()) thread.join();
        }
    } join_load{stop, load};

    EXPECT_TRUE(wait_until([&] { return count() >= 30; }, 3s));
    kill_backend(*a);
    const auto killed_at = count();
    EXPECT_TRUE(wait_until(
        [&] {
            const auto log = gateway.log();
            return log.find("backend " + a_url + " marked down") != std::string::npos ||
                   log.find("backend " + a_url + " is down") != std::string::npos;
        },
        2s))
        << "the killed backend was never marked down:\n" << gateway.log();
    EXPECT_TRUE(wait_until([&] { return count() >= killed_at + 30; }, 3s));

    a = std::make_unique<mock_backend>(dir_, std::vector<std::string>{}, a_port);
    const auto restarted = steady::now();
    const auto back_at_a = [&]() -> std::optional<steady::time_point> {
        std::lock_guard guard(lock);
        for (const auto& result : outcomes) {
            if (result.done > restarted && result.port == std::to_string(a_port)) return result.done;
        }
        return std::nullopt;
    };
    EXPECT_TRUE(wait_until([&] { return back_at_a().has_value(); }, 2s)) << "restarted backend got no traffic";
    const auto resumed_at = count();
    EXPECT_TRUE(wait_until([&] { return count() >= resumed_at + 20; }, 3s));
    stop = true;
    load.join();

    std::size_t failures = 0;
    std::string first_failures;
    for (std::size_t i = 0; i < outcomes.size(); ++i) {
        const auto& result = outcomes[i];
        if (result.status == 200 && result.error.empty()) continue;
        if (++failures <= 5) {
            first_failures += "request " + std::to_string(i) + ": status " + std::to_string(result.status) + " " +
                              result.error + "\n";
        }
    }
    EXPECT_EQ(failures, 0u) << "of " << outcomes.size() << " requests:\n" << first_failures;
    EXPECT_GE(outcomes.size(), 80u);
    if (const auto back = back_at_a()) {
        EXPECT_LE(std::chrono::duration_cast<millis>(*back - restarted), comeback_bound)
            << "the restarted backend took too long to get traffic again";
    }
    EXPECT_GE(a->request_count("/load/"), 1u);
    EXPECT_TRUE(wait_until([&] { return gateway.log().find("backend " + a_url + " is up") != std::string::npos; }, 1s))
        << gateway.log();
}

TEST_F(ResilienceTest, AllBreakersOpenAnswer503FastWithoutConnecting) {
    raw_tcp_server first{std::string(http_500_close)};
    raw_tcp_server second{std::string(http_500_close)};
    gateway_process gateway(dir_, {.backends = {first.url(), second.url()},
                                   .upstream = "connect_timeout: 500ms, retries: 0",
                                   .health_check = "enabled: false",
                                   .extra = "circuit_breaker: {enabled: true, min_requests: 5, failure_ratio: 0.6, "
                                            "open_timeout: 30s, half_open_max_requests: 3, interval: 60s}\n"});
    for (int i = 0; i < 10; ++i) {
        const auto target = "/fail/" + std::to_string(i);
        const auto response = gateway.settled_get(target);
        ASSERT_EQ(response.status, 500) << target << ":\n" << describe(response);
    }
    EXPECT_EQ(first.connections(), 5u);
    EXPECT_EQ(second.connections(), 5u);
    EXPECT_EQ(count_lines_containing(gateway.log_path(), "circuit breaker " + first.url() + ": closed -> open"), 1u);
    EXPECT_EQ(count_lines_containing(gateway.log_path(), "circuit breaker " + second.url() + ": closed -> open"), 1u);

    millis slowest{0};
    for (int i = 0; i < 20; ++i) {
        const auto started = steady::now();
        const auto response = gateway.request("GET", "/none/" + std::to_string(i));
        slowest = std::max(slowest, std::chrono::duration_cast<millis>(steady::now() - started));
        ASSERT_TRUE(is_error_response(response, 503, "no_backend"));
        const auto retry_after = response.header("Retry-After");
        ASSERT_TRUE(retry_after.has_value()) << describe(response);
        EXPECT_GE(std::stoi(*retry_after), 1) << describe(response);
    }
    EXPECT_LT(slowest, 200ms);
    EXPECT_EQ(first.connections(), 5u) << "a backend with an open breaker was connected to";
    EXPECT_EQ(second.connections(), 5u) << "a backend with an open breaker was connected to";
}

TEST_F(ResilienceTest, AllBackendsDownAnswer503Fast) {
    mock_backend a(dir_);
    mock_backend b(dir_);
    gateway_process gateway(dir_, {.backends = {a.url(), b.url()},
                                   .upstream = "connect_timeout: 500ms, retries: 1",
                                   .health_check = "enabled: true, path: /healthz, interval: 100ms, timeout: 100ms, "
                                                   "healthy_threshold: 2, unhealthy_threshold: 2"});
    for (int i = 0; i < 4; ++i) ASSERT_EQ(gateway.request("GET", "/up/" + std::to_string(i)).status, 200);
    kill_backend(a);
    kill_backend(b);
    const auto down = [&](const std::string& url) {
        const auto log = gateway.log();
        return log.find("backend " + url + " is down") != std::string::npos ||
               log.find("backend " + url + " marked down") != std::string::npos;
    };
    ASSERT_TRUE(wait_until([&] { return down(a.url()) && down(b.url()); }, 2s)) << gateway.log();

    millis slowest{0};
    for (int i = 0; i < 20; ++i) {
        const auto started = steady::now();
        const auto response = gateway.request("GET", "/down/" + std::to_string(i));
        slowest = std::max(slowest, std::chrono::duration_cast<millis>(steady::now() - started));
        ASSERT_TRUE(is_error_response(response, 503, "no_backend")) << "request " << i;
        const auto retry_after = response.header("Retry-After");
        ASSERT_TRUE(retry_after.has_value()) << describe(response);
        EXPECT_GE(std::stoi(*retry_after), 1) << describe(response);
    }
    EXPECT_LT(slowest, 200ms);
}

TEST_F(ResilienceTest, SigtermLetsASlowRequestFinishWhileReadyzSays503) {
    mock_backend backend(dir_);
    const auto admin_port = free_port();
    gateway_process gateway(dir_, {.backends = {backend.url()}, .admin = admin_listen(admin_port)});
    ASSERT_TRUE(wait_for_port(admin_port, 2s));
    const auto readyz = [&] {
        try {
            http_connection admin(admin_port, 1s);
            return admin.request("GET", "/readyz").status;
        } catch (const std::exception&) {
            return -1;
        }
    };
    ASSERT_EQ(readyz(), 200);

    auto slow = gateway.connect();
    slow->send_request("GET", "/delay/800");
    ASSERT_TRUE(wait_until([&] { return backend.request_count("/delay/800") == 1; }, 2s));
    const auto signalled = steady::now();
    gateway.proc().send_signal(SIGTERM);

    // Draining: not ready, no new connections, the process still there.
    EXPECT_TRUE(wait_until([&] { return readyz() == 503; }, 500ms)) << "readyz did not turn 503 during the drain";
    EXPECT_TRUE(wait_until([&] { return !port_accepts(gateway.port()); }, 500ms)) << "listener still open";
    EXPECT_LT(steady::now() - signalled, 700ms) << "the checks above were not made during the drain";
    EXPECT_FALSE(gateway.proc().exited()) << "exited before the slow request finished";

    const auto response = slow->read_response();
    EXPECT_EQ(response.status, 200) << describe(response);
    EXPECT_EQ(response.body, "Response from backend on port " + std::to_string(backend.port()) +
                                 " | path: /delay/800");
    const auto status = gateway.proc().wait_exit(3s);
    ASSERT_TRUE(status.has_value()) << "gatewayd did not exit after the drain";
    EXPECT_TRUE(status->exited);
    EXPECT_EQ(status->code, 0) << gateway.log();
}

}  // namespace
}  // namespace it
