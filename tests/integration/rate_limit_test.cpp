// The rate limiter seen from outside: a real redis-server on a free port, real gateways, the
// X-RateLimit-* headers, the keys and TTLs in Redis, client identity behind trusted proxies, and
// what happens while Redis is stopped or frozen.
#include "harness.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace it {
namespace {

using headers_t = std::vector<std::pair<std::string, std::string>>;

// A request may take redis.timeout (100 ms) more than a plain proxied one; this leaves room for
// a loaded CI machine while still catching a request that waits on a dead Redis.
constexpr millis max_request_time = 300ms;

std::string limits(int requests, std::string_view window, std::string_view on_store_error = "memory",
                   std::string_view store = "redis") {
    return "enabled: true, requests: " + std::to_string(requests) + ", window: " + std::string(window) +
           ", store: " + std::string(store) + ", on_store_error: " + std::string(on_store_error) + ", headers: true";
}

std::string redis_at(const std::string& address) { return "address: \"" + address + "\", timeout: 100ms"; }

std::string log_prefix(const redis_server& redis) { return "rate limit store redis " + redis.address(); }

bool wait_connected(const gateway_process& gateway, const redis_server& redis) {
    return wait_until(
        [&] { return count_lines_containing(gateway.log_path(), log_prefix(redis) + " connected") > 0; }, 5s);
}

headers_t from(std::string_view forwarded_for) { return {{"X-Forwarded-For", std::string(forwarded_for)}}; }

// The header as a whole decimal number; nullopt when missing or not a number.
std::optional<long long> number(const http_response& response, std::string_view name) {
    const auto value = response.header(name);
    if (!value || value->empty()) return std::nullopt;
    try {
        std::size_t used = 0;
        const long long n = std::stoll(*value, &used);
        if (used != value->size()) return std::nullopt;
        return n;
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

// X-RateLimit-Limit / -Remaining exactly, X-RateLimit-Reset within [1, window_s].
::testing::AssertionResult has_rate_headers(const http_response& response, long long limit, long long remaining,
                                            long long window_s) {
    const auto l = number(response, "X-RateLimit-Limit");
    const auto r = number(response, "X-RateLimit-Remaining");
    const auto reset = number(response, "X-RateLimit-Reset");
    if (l != limit || r != remaining || !reset || *reset < 1 || *reset > window_s) {
        return ::testing::AssertionFailure() << "expected X-RateLimit-Limit " << limit << ", X-RateLimit-Remaining "
                                             << remaining << ", X-RateLimit-Reset in [1, " << window_s
                                             << "], got:\n"
                                             << describe(response);
    }
    return ::testing::AssertionSuccess();
}

::testing::AssertionResult has_no_rate_headers(const http_response& response) {
    for (const char* name : {"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"}) {
        if (response.header(name)) {
            return ::testing::AssertionFailure() << "unexpected " << name << " in:\n" << describe(response);
        }
    }
    return ::testing::AssertionSuccess();
}

// 429 rate_limited with Retry-After in [1, window_s] and the X-RateLimit-* headers (remaining 0).
::testing::AssertionResult is_limited(const http_response& response, long long limit, long long window_s) {
    if (auto error = is_error_response(response, 429, "rate_limited"); !error) return error;
    const auto retry = number(response, "Retry-After");
    if (!retry || *retry < 1 || *retry > window_s) {
        return ::testing::AssertionFailure() << "expected Retry-After in [1, " << window_s << "], got:\n"
                                             << describe(response);
    }
    return has_rate_headers(response, limit, 0, window_s);
}

::testing::AssertionResult every_key_has_ttl(const redis_server& redis) {
    const auto bad = redis.keys_without_ttl();
    if (bad.empty()) return ::testing::AssertionSuccess();
    auto failure = ::testing::AssertionFailure() << bad.size() << " key(s) without TTL in Redis:";
    for (const auto& key : bad) failure << " " << key;
    return failure;
}

struct timed_response {
    http_response response;
    millis took{};
};

timed_response timed_request(const gateway_process& gateway, std::string_view target, const headers_t& headers) {
    const auto start = steady::now();
    auto response = gateway.request("GET", target, headers);
    return {std::move(response), std::chrono::duration_cast<millis>(steady::now() - start)};
}

// Requests on fresh connections from a thread, each with a new client identity (10.200.x.y via
// X-Forwarded-For, so the gateway must trust 127.0.0.1): every one of them asks the store.
class load_generator {
public:
    explicit load_generator(const gateway_process& gateway) : gateway_(gateway) {
        thread_ = std::thread([this] { run(); });
    }
    ~load_generator() { stop(); }
    load_generator(const load_generator&) = delete;
    load_generator& operator=(const load_generator&) = delete;

    void stop() {
        stop_ = true;
        if (thread_.joinable()) thread_.join();
    }
    std::size_t done() const { return done_.load(); }

    struct summary {
        std::size_t requests = 0;
        millis slowest{0};
        std::string slowest_what;
        std::map<int, std::size_t> statuses;
        std::vector<std::string> errors;
    };
    summary result() const {
        std::lock_guard lock(mutex_);
        return summary_;
    }

private:
    void run() {
        for (std::size_t i = 0; !stop_; ++i) {
            const std::string who = "10.200." + std::to_string(i / 250 % 250) + "." + std::to_string(i % 250 + 1);
            const auto start = steady::now();
            std::optional<http_response> response;
            std::string error;
            try {
                response = gateway_.request("GET", "/load", from(who));
            } catch (const std::exception& e) {
                error = e.what();
            }
            const auto took = std::chrono::duration_cast<millis>(steady::now() - start);
            {
                std::lock_guard lock(mutex_);
                ++summary_.requests;
                if (response) ++summary_.statuses[response->status];
                else summary_.errors.push_back(who + ": " + error);
                if (took > summary_.slowest) {
                    summary_.slowest = took;
                    summary_.slowest_what = who + (response ? " -> " + std::to_string(response->status) : " -> error");
                }
            }
            ++done_;
            std::this_thread::sleep_for(1ms);  // pacing, about 500-1000 requests/s
        }
    }

    const gateway_process& gateway_;
    std::atomic<bool> stop_{false};
    std::atomic<std::size_t> done_{0};
    mutable std::mutex mutex_;
    summary summary_;
    std::thread thread_;
};

class RateLimitTest : public ::testing::Test {
protected:
    temp_dir dir_;
};

TEST_F(RateLimitTest, HundredPassCountingDownThe101stGets429AndTheNextWindowPassesAgain) {
    mock_backend backend(dir_);
    redis_server redis(dir_);
    gateway_process gateway(dir_, {.backends = {backend.url()}, .rate_limit = limits(100, "2s"),
                                   .redis = redis_at(redis.address())});
    ASSERT_TRUE(wait_connected(gateway, redis)) << gateway.log();

    auto connection = gateway.connect();
    const auto first_sent = steady::now();
    for (int i = 0; i < 100; ++i) {
        const auto response = connection->request("GET", "/n/" + std::to_string(i));
        ASSERT_EQ(response.status, 200) << "request " << i + 1 << ":\n" << describe(response);
        ASSERT_TRUE(has_rate_headers(response, 100, 99 - i, 2)) << "request " << i + 1;
    }
    const auto over = connection->request("GET", "/over");
    const auto burst = steady::now() - first_sent;
    ASSERT_LT(burst, 1500ms) << "test premise: 101 requests must fit well inside the 2 s window";
    EXPECT_TRUE(is_limited(over, 100, 2));
    ASSERT_TRUE(wait_until([&] { return backend.request_count("/n/") == 100; }, 3s)) << backend.request_count("/n/");
    EXPECT_EQ(backend.request_count("/over"), 0u) << "the 429 request reached the backend";

    // The window started with the first request; once it is over the client passes again.
    http_response again;
    ASSERT_TRUE(wait_until(
        [&] {
            again = gateway.request("GET", "/again");
            return again.status != 429;
        },
        4s, 50ms))
        << describe(again);
    const auto elapsed = std::chrono::duration_cast<millis>(steady::now() - first_sent);
    EXPECT_EQ(again.status, 200) << describe(again);
    EXPECT_TRUE(has_rate_headers(again, 100, 99, 2));
    EXPECT_GE(elapsed, 1800ms) << "the window of 2 s reset early";
    EXPECT_EQ(redis.get("rate_limit:127.0.0.1"), "1") << "the new window is not counted in Redis";
    EXPECT_TRUE(every_key_has_ttl(redis));
}

TEST_F(RateLimitTest, KeyInRedisHasATtlFromTheFirstRequestAndTheWindowIsFixed) {
    mock_backend backend(dir_);
    redis_server redis(dir_);
    gateway_process gateway(dir_, {.backends = {backend.url()}, .rate_limit = limits(100, "1m"),
                                   .redis = redis_at(redis.address())});
    ASSERT_TRUE(wait_connected(gateway, redis)) << gateway.log();
    EXPECT_EQ(redis.keys(), std::vector<std::string>{}) << "keys before any request";

    const auto first = gateway.request("GET", "/first");
    ASSERT_EQ(first.status, 200) << describe(first);
    EXPECT_TRUE(has_rate_headers(first, 100, 99, 60));
    EXPECT_GE(number(first, "X-RateLimit-Reset").value_or(0), 58) << describe(first);
    const long long ttl = redis.ttl("rate_limit:127.0.0.1");
    EXPECT_GT(ttl, 0) << "TTL rate_limit:127.0.0.1 after the first request";
    EXPECT_LE(ttl, 60);
    const long long first_pttl = redis.pttl("rate_limit:127.0.0.1");
    EXPECT_EQ(redis.get("rate_limit:127.0.0.1"), "1");

    // Let the window run down a little; later requests must not extend it.
    ASSERT_TRUE(wait_until([&] { return redis.pttl("rate_limit:127.0.0.1") <= first_pttl - 150; }, 2s));
    for (int i = 0; i < 4; ++i) ASSERT_EQ(gateway.request("GET", "/more").status, 200);
    EXPECT_EQ(redis.get("rate_limit:127.0.0.1"), "5");
    const long long later_pttl = redis.pttl("rate_limit:127.0.0.1");
    EXPECT_GT(later_pttl, 0);
    EXPECT_LE(later_pttl, first_pttl - 150) << "later requests extended the window (not a fixed window)";
    EXPECT_EQ(redis.keys(), std::vector<std::string>{"rate_limit:127.0.0.1"});
    EXPECT_TRUE(every_key_has_ttl(redis));
}

TEST_F(RateLimitTest, TwoGatewaysOnOneRedisEnforceOneSharedLimit) {
    mock_backend backend(dir_);
    redis_server redis(dir_);
    const gateway_settings settings{.backends = {backend.url()}, .rate_limit = limits(10, "1m"),
                                    .redis = redis_at(redis.address())};
    gateway_process a(dir_, settings);
    gateway_process b(dir_, settings);
    ASSERT_TRUE(wait_connected(a, redis)) << a.log();
    ASSERT_TRUE(wait_connected(b, redis)) << b.log();

    int passed = 0, limited = 0, passed_a = 0, passed_b = 0;
    for (int i = 0; i < 30; ++i) {
        const auto& gateway = i % 2 == 0 ? a : b;
        const auto response = gateway.request("GET", "/shared");
        if (response.status == 200) {
            // The shared counter: remaining counts down across both gateways.
            EXPECT_TRUE(has_rate_headers(response, 10, 9 - passed, 60)) << "request " << i + 1;
            ++passed;
            ++(i % 2 == 0 ? passed_a : passed_b);
        } else {
            EXPECT_TRUE(is_limited(response, 10, 60)) << "request " << i + 1;
            ++limited;
        }
    }
    EXPECT_EQ(passed, 10) << "requests passed across two gateways with requests: 10";
    EXPECT_EQ(limited, 20);
    EXPECT_EQ(passed_a, 5);
    EXPECT_EQ(passed_b, 5);
    ASSERT_TRUE(wait_until([&] { return backend.request_count("/shared") >= 10; }, 3s));
    EXPECT_EQ(backend.request_count("/shared"), 10u);
    EXPECT_GE(std::stoll(redis.get("rate_limit:127.0.0.1").value_or("0")), 10);
    EXPECT_TRUE(every_key_has_ttl(redis));
}

TEST_F(RateLimitTest, ForwardedForFromAnUntrustedPeerDoesNotChangeTheClient) {
    mock_backend backend(dir_);
    redis_server redis(dir_);
    gateway_process gateway(dir_, {.backends = {backend.url()}, .rate_limit = limits(3, "1m"),
                                   .redis = redis_at(redis.address())});
    ASSERT_TRUE(wait_connected(gateway, redis)) << gateway.log();

    const std::vector<std::string> claimed{"1.2.3.4", "5.6.7.8", "9.9.9.9"};
    for (std::size_t i = 0; i < claimed.size(); ++i) {
        const auto response = gateway.request("GET", "/spoof", from(claimed[i]));
        ASSERT_EQ(response.status, 200) << describe(response);
        EXPECT_TRUE(has_rate_headers(response, 3, 2 - static_cast<long long>(i), 60)) << "X-Forwarded-For " << claimed[i];
    }
    EXPECT_TRUE(is_limited(gateway.request("GET", "/spoof", from("13.13.13.13")), 3, 60))
        << "a new X-Forwarded-For from an untrusted peer escaped the limit";
    EXPECT_EQ(redis.keys(), std::vector<std::string>{"rate_limit:127.0.0.1"});
    EXPECT_TRUE(every_key_has_ttl(redis));
}

TEST_F(RateLimitTest, TrustedProxyForwardedForNamesTheClientAndGarbageIsIgnored) {
    mock_backend backend(dir_);
    redis_server redis(dir_);
    gateway_process gateway(dir_, {.backends = {backend.url()},
                                   .client = "trusted_proxies: [127.0.0.1/32, 10.0.0.0/8]",
                                   .rate_limit = limits(100, "1m"),
                                   .redis = redis_at(redis.address())});
    ASSERT_TRUE(wait_connected(gateway, redis)) << gateway.log();

    struct step {
        headers_t headers;
        std::string key;     // expected key, without the prefix
        long long count;     // its value in Redis after this request
    };
    const std::vector<step> steps{
        {from("9.9.9.9, 1.2.3.4"), "1.2.3.4", 1},             // right-most untrusted address
        {from("5.6.7.8, 10.1.2.3"), "5.6.7.8", 1},            // a trusted hop is skipped
        {{{"X-Forwarded-For", "7.7.7.7"}, {"X-Forwarded-For", "6.6.6.6"}}, "6.6.6.6", 1},  // two lines
        {from("nonsense"), "127.0.0.1", 1},                   // garbage: the peer itself
        {from("999.1.2.3"), "127.0.0.1", 2},
        {from("1.2.3"), "127.0.0.1", 3},
        {from("8.8.8.8, nonsense, 10.1.2.3"), "10.1.2.3", 1},  // stops at the last vouched-for hop
        {from("2001:db8:1:2::5"), "2001:db8:1:2::/64", 1},    // IPv6 by /64
        {from("2001:db8:1:2::6"), "2001:db8:1:2::/64", 2},
        {from("2001:db8:1:3::5"), "2001:db8:1:3::/64", 1},
    };
    std::set<std::string> expected_keys;
    for (const auto& s : steps) {
        const auto response = gateway.request("GET", "/who", s.headers);
        const std::string xff = s.headers.back().second;
        ASSERT_EQ(response.status, 200) << "X-Forwarded-For " << xff << ":\n" << describe(response);
        EXPECT_TRUE(has_rate_headers(response, 100, 100 - s.count, 60)) << "X-Forwarded-For " << xff;
        EXPECT_EQ(redis.get("rate_limit:" + s.key), std::to_string(s.count))
            << "X-Forwarded-For " << xff << " should count under rate_limit:" << s.key
            << "; keys now: " << ::testing::PrintToString(redis.keys());
        expected_keys.insert("rate_limit:" + s.key);
    }
    const auto keys = redis.keys();
    EXPECT_EQ(std::set<std::string>(keys.begin(), keys.end()), expected_keys);
    EXPECT_TRUE(every_key_has_ttl(redis));
}

TEST_F(RateLimitTest, OverLimitClientCausesNoRedisCommands) {
    mock_backend backend(dir_);
    redis_server redis(dir_);
    gateway_process gateway(dir_, {.backends = {backend.url()}, .rate_limit = limits(5, "1m"),
                                   .redis = redis_at(redis.address())});
    ASSERT_TRUE(wait_connected(gateway, redis)) << gateway.log();

    auto connection = gateway.connect();
    for (int i = 0; i < 5; ++i) ASSERT_EQ(connection->request("GET", "/ok").status, 200);
    ASSERT_TRUE(is_limited(connection->request("GET", "/over"), 5, 60));
    auto calls = redis.command_calls();
    ASSERT_GE(calls["evalsha"] + calls["eval"], 6) << "test premise: the window checks are EVALSHA/EVAL";

    redis.reset_stats();
    calls = redis.command_calls();
    ASSERT_EQ(calls["evalsha"] + calls["eval"], 0) << "test premise: CONFIG RESETSTAT clears commandstats";
    for (int i = 0; i < 50; ++i) {
        const auto response = connection->request("GET", "/over");
        ASSERT_TRUE(is_limited(response, 5, 60)) << "request " << i + 1 << " after the limit";
    }
    calls = redis.command_calls();
    std::string seen;
    for (const auto& [name, n] : calls) seen += " " + name + "=" + std::to_string(n);
    EXPECT_EQ(calls["evalsha"], 0) << "commands Redis saw for 50 over-limit requests:" << seen;
    EXPECT_EQ(calls["eval"], 0) << "commands Redis saw for 50 over-limit requests:" << seen;
    EXPECT_EQ(backend.request_count("/over"), 0u);
    EXPECT_TRUE(every_key_has_ttl(redis));
}

TEST_F(RateLimitTest, ScriptFlushedFromRedisIsSentAgainWithoutAStoreError) {
    mock_backend backend(dir_);
    redis_server redis(dir_);
    gateway_process gateway(dir_, {.backends = {backend.url()}, .rate_limit = limits(100, "1m", "deny"),
                                   .redis = redis_at(redis.address())});
    ASSERT_TRUE(wait_connected(gateway, redis)) << gateway.log();
    ASSERT_EQ(gateway.request("GET", "/before").status, 200);

    ASSERT_EQ(redis.command({"SCRIPT", "FLUSH"}).type, redis_reply::kind::status);
    redis.reset_stats();
    for (int i = 0; i < 2; ++i) {
        const auto response = gateway.request("GET", "/after");
        ASSERT_EQ(response.status, 200) << "after SCRIPT FLUSH (NOSCRIPT must fall back to EVAL):\n"
                                        << describe(response);
        EXPECT_TRUE(has_rate_headers(response, 100, 98 - i, 60));
    }
    EXPECT_EQ(redis.get("rate_limit:127.0.0.1"), "3");
    auto calls = redis.command_calls();
    EXPECT_GE(calls["eval"], 1) << "no EVAL after NOSCRIPT";
    EXPECT_EQ(count_lines_containing(gateway.log_path(), log_prefix(redis) + " unreachable"), 0u) << gateway.log();
    EXPECT_TRUE(every_key_has_ttl(redis));
}

TEST_F(RateLimitTest, MemoryStoreWorksWithoutAnyRedis) {
    mock_backend backend(dir_);
    // Nothing listens there; with on_store_error: deny any use of Redis would show as 503.
    const std::string nowhere = "127.0.0.1:" + std::to_string(free_port());
    gateway_process gateway(dir_, {.backends = {backend.url()}, .rate_limit = limits(3, "1s", "deny", "memory"),
                                   .redis = redis_at(nowhere)});

    auto connection = gateway.connect();
    const auto first_sent = steady::now();
    for (int i = 0; i < 3; ++i) {
        const auto response = connection->request("GET", "/mem");
        ASSERT_EQ(response.status, 200) << describe(response);
        EXPECT_TRUE(has_rate_headers(response, 3, 2 - i, 1));
    }
    EXPECT_TRUE(is_limited(connection->request("GET", "/mem"), 3, 1));
    ASSERT_LT(steady::now() - first_sent, 700ms) << "test premise: 4 requests inside the 1 s window";

    http_response again;
    ASSERT_TRUE(wait_until(
        [&] {
            again = gateway.request("GET", "/again");
            return again.status != 429;
        },
        3s, 50ms))
        << describe(again);
    EXPECT_GE(steady::now() - first_sent, 900ms) << "the window of 1 s reset early";
    EXPECT_EQ(again.status, 200) << describe(again);
    EXPECT_TRUE(has_rate_headers(again, 3, 2, 1));
    EXPECT_EQ(count_lines_containing(gateway.log_path(), "rate limit store redis"), 0u) << gateway.log();
}

TEST_F(RateLimitTest, HeadersFalseLeavesOutXRateLimitButNotRetryAfter) {
    mock_backend backend(dir_);
    gateway_process gateway(dir_, {.backends = {backend.url()},
                                   .rate_limit = "enabled: true, requests: 1, window: 1m, store: memory, headers: false"});
    const auto ok = gateway.request("GET", "/one");
    ASSERT_EQ(ok.status, 200) << describe(ok);
    EXPECT_TRUE(has_no_rate_headers(ok));
    const auto over = gateway.request("GET", "/two");
    EXPECT_TRUE(is_error_response(over, 429, "rate_limited"));
    EXPECT_TRUE(has_no_rate_headers(over));
    const auto retry = number(over, "Retry-After");
    EXPECT_TRUE(retry && *retry >= 1 && *retry <= 60) << describe(over);
}

// Redis goes away while a load generator keeps every request asking the store; the policy decides;
// Redis comes back on the same port and counting returns to it.
enum class outage { stopped, frozen };

class RateLimitRedisDownTest : public ::testing::Test {
protected:
    void run(std::string_view policy, outage how);
    temp_dir dir_;
};

void RateLimitRedisDownTest::run(std::string_view policy, outage how) {
    mock_backend backend(dir_);
    redis_server redis(dir_);
    gateway_process gateway(dir_, {.backends = {backend.url()}, .client = "trusted_proxies: [127.0.0.1/32]",
                                   .rate_limit = limits(5, "1m", policy), .redis = redis_at(redis.address())});
    ASSERT_TRUE(wait_connected(gateway, redis)) << gateway.log();
    const std::string down_line = log_prefix(redis) + " unreachable";
    const std::string back_line = log_prefix(redis) + " is reachable again";

    for (int i = 0; i < 2; ++i) ASSERT_EQ(gateway.request("GET", "/up", from("10.0.0.1")).status, 200);
    ASSERT_EQ(redis.get("rate_limit:10.0.0.1"), "2");

    load_generator load(gateway);
    ASSERT_TRUE(wait_until([&] { return load.done() >= 20; }, 3s));

    if (how == outage::stopped) {
        redis.stop();
    } else {
        redis.pause();
    }
    const auto went_down = steady::now();
    const auto load_at_down = load.done();

    // One client while Redis is away: each answer within redis.timeout plus proxy time.
    std::vector<timed_response> during;
    for (int i = 0; i < 8; ++i) during.push_back(timed_request(gateway, "/down", from("10.0.0.2")));
    for (std::size_t i = 0; i < during.size(); ++i) {
        const auto& [response, took] = during[i];
        EXPECT_LT(took, max_request_time) << "request " << i + 1 << " while Redis is down:\n" << describe(response);
        if (policy == "memory") {
            // Counted in process: the limit still holds.
            if (i < 5) {
                EXPECT_EQ(response.status, 200) << "request " << i + 1 << ":\n" << describe(response);
                EXPECT_TRUE(has_rate_headers(response, 5, 4 - static_cast<long long>(i), 60)) << "request " << i + 1;
            } else {
                EXPECT_TRUE(is_limited(response, 5, 60)) << "request " << i + 1;
            }
        } else if (policy == "allow") {
            EXPECT_EQ(response.status, 200) << "request " << i + 1 << ":\n" << describe(response);
            EXPECT_TRUE(has_no_rate_headers(response)) << "request " << i + 1;
        } else {
            EXPECT_TRUE(is_error_response(response, 503, "rate_limit_unavailable")) << "request " << i + 1;
        }
    }
    const std::size_t expected_at_backend = policy == "memory" ? 5 : policy == "allow" ? 8 : 0;
    if (expected_at_backend > 0) {
        EXPECT_TRUE(wait_until([&] { return backend.request_count("/down") >= expected_at_backend; }, 3s));
    }
    EXPECT_EQ(backend.request_count("/down"), expected_at_backend);
    EXPECT_TRUE(wait_until([&] { return count_lines_containing(gateway.log_path(), down_line) > 0; }, 2s))
        << gateway.log();

    // Keep Redis away for a while under load: the reconnect attempts must not log again.
    wait_until([&] { return steady::now() - went_down >= 1200ms; }, 2s, 20ms);
    EXPECT_GT(load.done(), load_at_down + 50) << "the load generator stalled while Redis was down";

    if (how == outage::stopped) {
        redis.start();
    } else {
        redis.resume();
    }
    const auto came_back = steady::now();

    // Counting returns to Redis: a fresh client's first request shows up as its key.
    int probe = 0;
    http_response last;
    const bool counted_in_redis = wait_until(
        [&] {
            const std::string who = "10.0.1." + std::to_string(++probe);
            last = gateway.request("GET", "/back", from(who));
            return redis.get("rate_limit:" + who) == "1";
        },
        5s, 50ms);
    const auto back_after = std::chrono::duration_cast<millis>(steady::now() - came_back);
    ASSERT_TRUE(counted_in_redis) << "no request counted in Redis " << back_after.count()
                                  << " ms after it came back; last answer:\n"
                                  << describe(last) << "\n" << gateway.log().substr(0, 4000);
    EXPECT_EQ(last.status, 200) << describe(last);
    EXPECT_TRUE(has_rate_headers(last, 5, 4, 60));
    EXPECT_LE(back_after, 3500ms);
    EXPECT_TRUE(wait_until([&] { return count_lines_containing(gateway.log_path(), back_line) > 0; }, 2s))
        << gateway.log();

    const auto load_at_back = load.done();
    ASSERT_TRUE(wait_until([&] { return load.done() >= load_at_back + 20; }, 3s));
    load.stop();
    auto summary = load.result();

    EXPECT_FALSE(gateway.proc().exited()) << "gateway died; log:\n" << gateway.log();
    EXPECT_TRUE(summary.errors.empty()) << summary.errors.size() << " load requests failed, first: "
                                        << summary.errors.front();
    EXPECT_LT(summary.slowest, max_request_time) << "slowest load request: " << summary.slowest.count() << " ms ("
                                                 << summary.slowest_what << ")";
    std::string statuses;
    for (const auto& [status, n] : summary.statuses) statuses += " " + std::to_string(status) + "x" + std::to_string(n);
    for (const auto& [status, n] : summary.statuses) {
        const bool expected = status == 200 || (policy == "deny" && status == 503);
        EXPECT_TRUE(expected) << "load statuses:" << statuses;
    }
    if (policy == "deny") {
        EXPECT_GT(summary.statuses[503], 0u) << "no load request was denied while Redis was down:" << statuses;
    }

    EXPECT_EQ(count_lines_containing(gateway.log_path(), down_line), 1u) << gateway.log();
    EXPECT_EQ(count_lines_containing(gateway.log_path(), back_line), 1u) << gateway.log();
    EXPECT_EQ(count_lines_containing(gateway.log_path(), log_prefix(redis) + " connected"), 1u) << gateway.log();
    EXPECT_TRUE(every_key_has_ttl(redis));
}

TEST_F(RateLimitRedisDownTest, StoppedWithOnStoreErrorMemoryCountsInProcess) { run("memory", outage::stopped); }
TEST_F(RateLimitRedisDownTest, StoppedWithOnStoreErrorAllowLetsRequestsThrough) { run("allow", outage::stopped); }
TEST_F(RateLimitRedisDownTest, StoppedWithOnStoreErrorDenyAnswers503) { run("deny", outage::stopped); }
TEST_F(RateLimitRedisDownTest, FrozenPastTheTimeoutWithOnStoreErrorDenyAnswers503) { run("deny", outage::frozen); }

}  // namespace
}  // namespace it
