// The three rate-limit algorithms (issue #17) seen from outside, each against a real redis-server
// and against the memory store (one parameterised suite): the verdicts and X-RateLimit-* headers a
// client gets, the keys, values and TTLs the Redis store leaves, and the time a refused client
// must wait, measured by waiting (with a deadline) until a request passes again; and two gateways
// on one Redis admitting exactly one GCRA burst.
#include "harness.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <regex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace it {
namespace {

// Generous for a loaded machine: these tests are about verdicts, not Redis latency.
std::string redis_at(const std::string& address) { return "address: \"" + address + "\", timeout: 1s"; }

std::int64_t wall_ms() {
    return std::chrono::duration_cast<millis>(std::chrono::system_clock::now().time_since_epoch()).count();
}
std::int64_t wall_us() {
    return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

millis since(steady::time_point start) { return std::chrono::duration_cast<millis>(steady::now() - start); }

// The header as a whole decimal number; nullopt when missing or not a number.
std::optional<long long> number(const http_response& response, std::string_view name) {
    const auto value = response.header(name);
    if (!value || value->empty() || value->find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
    return std::stoll(*value);
}

// X-RateLimit-Limit and -Remaining exactly, X-RateLimit-Reset within [1, max_reset].
::testing::AssertionResult has_rate_headers(const http_response& response, long long limit, long long remaining,
                                            long long max_reset) {
    const auto reset = number(response, "X-RateLimit-Reset");
    if (number(response, "X-RateLimit-Limit") != limit || number(response, "X-RateLimit-Remaining") != remaining ||
        !reset || *reset < 1 || *reset > max_reset) {
        return ::testing::AssertionFailure() << "expected X-RateLimit-Limit " << limit << ", -Remaining " << remaining
                                             << ", -Reset in [1, " << max_reset << "], got:\n"
                                             << describe(response);
    }
    return ::testing::AssertionSuccess();
}

// 429 rate_limited naming `rule` in the body, with exactly this Retry-After and X-RateLimit-Remaining 0.
::testing::AssertionResult is_limited(const http_response& response, std::string_view rule, long long retry_after) {
    if (auto error = is_error_response(response, 429, "rate_limited"); !error) return error;
    const std::regex rule_re("\"rule\"\\s*:\\s*\"" + std::string(rule) + "\"");
    if (!std::regex_search(response.body, rule_re) || number(response, "Retry-After") != retry_after ||
        number(response, "X-RateLimit-Remaining") != 0) {
        return ::testing::AssertionFailure() << "expected a 429 naming rule \"" << rule << "\" with Retry-After "
                                             << retry_after << " and X-RateLimit-Remaining 0, got:\n"
                                             << describe(response);
    }
    return ::testing::AssertionSuccess();
}

// HGETALL as a map; empty when the key is missing or not a hash.
std::map<std::string, std::string> hash_of(const redis_server& redis, const std::string& key) {
    const auto reply = redis.command({"HGETALL", key});
    std::map<std::string, std::string> out;
    for (std::size_t i = 0; i + 1 < reply.elements.size(); i += 2) {
        out[reply.elements[i].text] = reply.elements[i + 1].text;
    }
    return out;
}

// A string key's value, or "(no key)": prints readably in a failed comparison.
std::string value_of(const redis_server& redis, const std::string& key) {
    return redis.get(key).value_or("(no key)");
}

std::string type_of(const redis_server& redis, const std::string& key) { return redis.command({"TYPE", key}).text; }

// A value the gcra store keeps: the theoretical arrival time in µs since the epoch, as a decimal string.
std::optional<std::int64_t> tat_of(const redis_server& redis, const std::string& key) {
    const auto value = redis.get(key);
    if (!value || !std::regex_match(*value, std::regex("[1-9][0-9]{15}"))) return std::nullopt;
    return std::stoll(*value);
}

constexpr std::string_view default_key = "rate_limit:127.0.0.1";

// The store is the parameter: "redis" (a real redis-server for each test) or "memory".
class RateLimitRulesAlgorithmTest : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override {
        if (on_redis()) redis_.emplace(dir_);
    }
    bool on_redis() const { return GetParam() == "redis"; }

    // A gateway with one rule, `default`, described by `rule` (algorithm, requests, window, burst).
    // on_store_error: deny, so that a Redis failure shows as a 503 instead of a quiet fallback.
    std::unique_ptr<gateway_process> start(const mock_backend& backend, const std::string& rule) {
        const std::string nowhere = "127.0.0.1:" + std::to_string(free_port());
        auto gateway = std::make_unique<gateway_process>(
            dir_, gateway_settings{.backends = {backend.url()},
                                   .rate_limit = "enabled: true, store: " + GetParam() +
                                                 ", on_store_error: deny, headers: true, " + rule,
                                   .redis = redis_at(redis_ ? redis_->address() : nowhere)});
        if (redis_) {
            const std::string connected = "rate limit store redis " + redis_->address() + " connected";
            if (!wait_until([&] { return count_lines_containing(gateway->log_path(), connected) > 0; }, 5s)) {
                throw std::runtime_error("gateway did not connect to Redis:\n" + gateway->log());
            }
        }
        return gateway;
    }

    // Sends GETs to `target` until one is not refused (deadline `timeout`); that answer.
    static http_response first_pass(const gateway_process& gateway, const std::string& target, millis timeout) {
        http_response last;
        wait_until(
            [&] {
                last = gateway.request("GET", target);
                return last.status != 429;
            },
            timeout, 5ms);
        return last;
    }

    ::testing::AssertionResult every_key_has_ttl() const {
        const auto bad = redis_->keys_without_ttl();
        if (bad.empty()) return ::testing::AssertionSuccess();
        return ::testing::AssertionFailure() << "keys without a TTL: " << ::testing::PrintToString(bad);
    }

    temp_dir dir_;
    std::optional<redis_server> redis_;
};

TEST_P(RateLimitRulesAlgorithmTest, FixedWindowRefusesRequestNumberRequestsPlusOneAndOpensAgainWhenTheWindowEnds) {
    mock_backend backend(dir_);
    const auto gateway = start(backend, "algorithm: fixed_window, requests: 3, window: 1s");

    auto connection = gateway->connect();
    const auto first_sent = steady::now();
    for (int i = 0; i < 3; ++i) {
        const auto response = connection->request("GET", "/fw/" + std::to_string(i));
        ASSERT_EQ(response.status, 200) << "request " << i + 1 << ":\n" << describe(response);
        EXPECT_TRUE(has_rate_headers(response, 3, 2 - i, 1)) << "request " << i + 1;
    }
    const auto over = connection->request("GET", "/fw/over");
    ASSERT_LT(since(first_sent), 600ms) << "test premise: four requests well inside the 1 s window";
    EXPECT_TRUE(is_limited(over, "default", 1));
    if (on_redis()) {
        EXPECT_EQ(redis_->keys(), std::vector<std::string>{std::string(default_key)});
        EXPECT_EQ(type_of(*redis_, std::string(default_key)), "string");
        EXPECT_EQ(value_of(*redis_, std::string(default_key)), "4") << "INCR counts the refused request too";
        const long long pttl = redis_->pttl(std::string(default_key));
        EXPECT_GT(pttl, 0);
        EXPECT_LE(pttl, 1000);
        EXPECT_TRUE(every_key_has_ttl());
    }

    const auto again = first_pass(*gateway, "/fw/again", 3s);
    const auto waited = since(first_sent);
    ASSERT_EQ(again.status, 200) << "no request passed within 3 s:\n" << describe(again);
    EXPECT_GE(waited, 950ms) << "the 1 s window ended early";
    EXPECT_LE(waited, 1600ms) << "the client stayed refused long after its window ended";
    EXPECT_TRUE(has_rate_headers(again, 3, 2, 1)) << "a new window starts with the request that opened it";
    EXPECT_EQ(backend.request_count("/fw/over"), 0u);
    if (on_redis()) {
        EXPECT_EQ(value_of(*redis_, std::string(default_key)), "1");
        EXPECT_TRUE(every_key_has_ttl());
    }
}

TEST_P(RateLimitRulesAlgorithmTest, SlidingWindowWeighsThePreviousWindowAndDoesNotCountRefusedRequests) {
    mock_backend backend(dir_);
    const auto gateway = start(backend, "algorithm: sliding_window, requests: 3, window: 1s");
    const std::string key(default_key);

    // Windows are aligned to whole seconds since the epoch: start at the beginning of one, so
    // that the first four requests share window n (previous count 0).
    ASSERT_TRUE(wait_until([] { return wall_ms() % 1000 < 30; }, 1500ms, 1ms));
    const std::int64_t n = wall_ms() / 1000;
    auto connection = gateway->connect();
    for (int i = 0; i < 3; ++i) {
        const auto response = connection->request("GET", "/sw/" + std::to_string(i));
        ASSERT_EQ(response.status, 200) << "request " << i + 1 << ":\n" << describe(response);
        EXPECT_TRUE(has_rate_headers(response, 3, 2 - i, 1)) << "request " << i + 1;
    }
    const auto over = connection->request("GET", "/sw/over");
    ASSERT_EQ(wall_ms() / 1000, n) << "test premise: four requests inside one aligned window";
    // The real wait: the rest of this window and a third of the next (1.33 s), rounded up.
    EXPECT_TRUE(is_limited(over, "default", 2));
    if (on_redis()) {
        EXPECT_EQ(type_of(*redis_, key), "hash");
        const std::map<std::string, std::string> expected{{"i", std::to_string(n)}, {"c", "3"}, {"p", "0"}};
        EXPECT_EQ(hash_of(*redis_, key), expected) << "the refused fourth request was counted";
        const long long pttl = redis_->pttl(key);
        EXPECT_GT(pttl, 1500) << "the key must live two windows";
        EXPECT_LE(pttl, 2000);
    }

    // In window n+1 the estimate is 3 × (1 − e/1000) + 0: one more fits once e ≥ 333.4 ms.
    const auto passed = first_pass(*gateway, "/sw/next", 2500ms);
    const std::int64_t passed_at = wall_ms();
    ASSERT_EQ(passed.status, 200) << describe(passed);
    EXPECT_EQ(passed_at / 1000, n + 1) << "expected the next pass in the following window";
    const std::int64_t elapsed = passed_at - (n + 1) * 1000;
    EXPECT_GE(elapsed, 330) << "passed before the previous window's weight allowed it";
    ASSERT_LT(elapsed, 650) << "passed late (loaded machine?); the rest of the test needs e < 666 ms";
    EXPECT_TRUE(has_rate_headers(passed, 3, 0, 1)) << "remaining is floor(3 − 3 × (1 − e/1000) − 1) = 0";
    if (on_redis()) {
        const std::map<std::string, std::string> expected{{"i", std::to_string(n + 1)}, {"c", "1"}, {"p", "3"}};
        EXPECT_EQ(hash_of(*redis_, key), expected);
    }

    // At once another: 3 × (1 − e/1000) + 1 + 1 > 3 while e < 666.7 ms: refused, and not counted.
    const auto refused = gateway->request("GET", "/sw/refused");
    ASSERT_LT(wall_ms() - (n + 1) * 1000, 660) << "test premise: still before e = 666.7 ms";
    EXPECT_TRUE(is_limited(refused, "default", 1));
    if (on_redis()) {
        EXPECT_EQ(redis_->command({"HGET", key, "c"}).text, "1") << "the refused request was counted";
    }
    // It passes once e ≥ 666.7 ms in window n+1.
    const auto later = first_pass(*gateway, "/sw/later", 1500ms);
    const std::int64_t later_at = wall_ms() - (n + 1) * 1000;
    ASSERT_EQ(later.status, 200) << describe(later);
    EXPECT_GE(later_at, 664) << "passed before 3 × (1 − e/1000) + 2 ≤ 3";
    if (on_redis()) {
        EXPECT_TRUE(every_key_has_ttl());
    }
    EXPECT_EQ(backend.request_count("/sw/over") + backend.request_count("/sw/refused"), 0u);
}

TEST_P(RateLimitRulesAlgorithmTest, GcraLetsTheBurstThroughThenOnePerIntervalAndARefusalChangesNothing) {
    mock_backend backend(dir_);
    // burst 0 = requests: 4 at once, then one every 250 ms.
    const auto gateway = start(backend, "algorithm: gcra, requests: 4, window: 1s");
    const std::string key(default_key);

    auto connection = gateway->connect();
    const auto first_sent = steady::now();
    const std::int64_t first_us = wall_us();
    std::optional<std::int64_t> tat1;
    for (int i = 0; i < 4; ++i) {
        const auto response = connection->request("GET", "/gcra/" + std::to_string(i));
        ASSERT_EQ(response.status, 200) << "request " << i + 1 << ":\n" << describe(response);
        EXPECT_TRUE(has_rate_headers(response, 4, 3 - i, 1)) << "request " << i + 1 << ": counts down exactly";
        if (on_redis() && i == 0) {
            tat1 = tat_of(*redis_, key);
            ASSERT_TRUE(tat1) << "not a µs timestamp: " << redis_->get(key).value_or("(no key)");
            EXPECT_NEAR(static_cast<double>(*tat1 - first_us), 250'000.0, 100'000.0)
                << "the first request moves the TAT to now + one interval";
        }
    }
    const auto over = connection->request("GET", "/gcra/over");
    ASSERT_LT(since(first_sent), 200ms) << "test premise: the burst arrives within one interval (250 ms)";
    EXPECT_TRUE(is_limited(over, "default", 1));
    std::optional<std::int64_t> tat4;
    if (on_redis()) {
        EXPECT_EQ(redis_->keys(), std::vector<std::string>{key});
        EXPECT_EQ(type_of(*redis_, key), "string");
        tat4 = tat_of(*redis_, key);
        ASSERT_TRUE(tat4);
        EXPECT_EQ(*tat4 - *tat1, 750'000) << "each admitted request adds exactly one interval; the refused one nothing";
        const long long pttl = redis_->pttl(key);
        EXPECT_GT(pttl, 500);
        EXPECT_LE(pttl, 1000);
    }

    // The next one passes one interval after the first request.
    const auto passed = first_pass(*gateway, "/gcra/next", 2s);
    const auto waited = since(first_sent);
    ASSERT_EQ(passed.status, 200) << describe(passed);
    EXPECT_GE(waited, 245ms) << "passed before one interval (250 ms)";
    EXPECT_LE(waited, 800ms);
    EXPECT_TRUE(has_rate_headers(passed, 4, 0, 1));
    if (on_redis()) {
        EXPECT_EQ(tat_of(*redis_, key), *tat4 + 250'000);
        EXPECT_TRUE(every_key_has_ttl());
    }
    EXPECT_EQ(backend.request_count("/gcra/over"), 0u);
}

TEST_P(RateLimitRulesAlgorithmTest, GcraWithAnExplicitBurstAndRetryAfterRoundedUpToWholeSeconds) {
    mock_backend backend(dir_);
    {
        // 10 per second (one per 100 ms), at most 2 at once.
        const auto gateway = start(backend, "algorithm: gcra, requests: 10, window: 1s, burst: 2");
        auto connection = gateway->connect();
        const auto first_sent = steady::now();
        for (int i = 0; i < 2; ++i) {
            const auto response = connection->request("GET", "/burst/" + std::to_string(i));
            ASSERT_EQ(response.status, 200) << describe(response);
            EXPECT_TRUE(has_rate_headers(response, 10, 1 - i, 1)) << "request " << i + 1;
        }
        const auto third = connection->request("GET", "/burst/over");
        ASSERT_LT(since(first_sent), 90ms) << "test premise: three requests within one interval (100 ms)";
        EXPECT_TRUE(is_limited(third, "default", 1));
        const auto passed = first_pass(*gateway, "/burst/next", 2s);
        const auto waited = since(first_sent);
        ASSERT_EQ(passed.status, 200) << describe(passed);
        EXPECT_GE(waited, 95ms);
        EXPECT_LE(waited, 600ms);
        EXPECT_TRUE(has_rate_headers(passed, 10, 0, 1));
    }
    if (on_redis()) redis_->command({"FLUSHALL"});
    {
        // One every 1.5 s, burst 1: the second request waits 1.5 s, which is 2 whole seconds
        // (not 1, and not the 3 s window).
        const auto gateway = start(backend, "algorithm: gcra, requests: 2, window: 3s, burst: 1");
        auto connection = gateway->connect();
        const auto first_sent = steady::now();
        const auto first = connection->request("GET", "/slow/0");
        ASSERT_EQ(first.status, 200) << describe(first);
        EXPECT_EQ(number(first, "X-RateLimit-Remaining"), 0) << describe(first);
        EXPECT_EQ(number(first, "X-RateLimit-Reset"), 2) << "one more is allowed in 1.5 s:\n" << describe(first);
        const auto second = connection->request("GET", "/slow/1");
        ASSERT_LT(since(first_sent), 400ms) << "test premise";
        EXPECT_TRUE(is_limited(second, "default", 2));
    }
}

INSTANTIATE_TEST_SUITE_P(RateLimitRules, RateLimitRulesAlgorithmTest, ::testing::Values("redis", "memory"),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

TEST(RateLimitRulesSharedTest, TwoGatewaysOnOneRedisAdmitExactlyTheGcraBurst) {
    temp_dir dir;
    mock_backend backend(dir);
    redis_server redis(dir);
    // 10 per 10 s: one every second after a burst of 10; the load below lasts well under a second.
    const gateway_settings settings{.backends = {backend.url()},
                                    .rate_limit = "enabled: true, store: redis, on_store_error: deny, "
                                                  "algorithm: gcra, requests: 10, window: 10s",
                                    .redis = redis_at(redis.address())};
    gateway_process a(dir, settings);
    gateway_process b(dir, settings);
    const std::string connected = "rate limit store redis " + redis.address() + " connected";
    for (const auto* gateway : {&a, &b}) {
        ASSERT_TRUE(wait_until([&] { return count_lines_containing(gateway->log_path(), connected) > 0; }, 5s))
            << gateway->log();
    }

    std::atomic<bool> go{false};
    std::mutex mutex;
    std::map<int, int> statuses;
    std::vector<std::string> errors;
    std::vector<std::thread> clients;
    for (int t = 0; t < 4; ++t) {
        clients.emplace_back([&, t] {
            const gateway_process& gateway = t % 2 == 0 ? a : b;
            while (!go) std::this_thread::yield();
            for (int i = 0; i < 10; ++i) {
                try {
                    const int status = gateway.request("GET", "/two/" + std::to_string(t)).status;
                    std::lock_guard lock(mutex);
                    ++statuses[status];
                } catch (const std::exception& e) {
                    std::lock_guard lock(mutex);
                    errors.push_back(e.what());
                }
            }
        });
    }
    const auto started = steady::now();
    go = true;
    for (auto& client : clients) client.join();
    const auto took = since(started);
    ASSERT_LT(took, 900ms) << "test premise: the load must fit inside one emission interval (1 s)";
    EXPECT_TRUE(errors.empty()) << errors.size() << " requests failed, first: " << errors.front();
    EXPECT_EQ(statuses[200], 10) << "admitted across two gateways with a gcra burst of 10";
    EXPECT_EQ(statuses[429], 30);
    EXPECT_EQ(statuses.size(), 2u) << "other statuses: " << ::testing::PrintToString(statuses);
    ASSERT_TRUE(wait_until([&] { return backend.request_count("/two/") >= 10; }, 3s));
    EXPECT_EQ(backend.request_count("/two/"), 10u);
    EXPECT_EQ(redis.keys(), std::vector<std::string>{"rate_limit:127.0.0.1"});
    EXPECT_GT(redis.pttl("rate_limit:127.0.0.1"), 8000) << "ten admissions move the TAT ten intervals ahead";
}

}  // namespace
}  // namespace it
