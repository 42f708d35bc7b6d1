// Rate-limit rules (issue #17) seen from outside: keys per header value and global, rule and
// route names in the Redis keys, a route's rules replacing the top level's, every non-shadow rule
// deciding in one Redis round trip without charging the others for a refused request, the
// headers and 429 body naming the right rule, shadow mode in metrics and the access log,
// --check-config positions, and rules added or changed by SIGHUP.
// Most tests run against a real redis-server and against the memory store (the parameter).
#include "harness.hpp"

#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <optional>
#include <regex>
#include <stdexcept>
#include <string>
#include <vector>

namespace it {
namespace {

using headers_t = std::vector<std::pair<std::string, std::string>>;

std::string redis_at(const std::string& address) { return "address: \"" + address + "\", timeout: 1s"; }

millis since(steady::time_point start) { return std::chrono::duration_cast<millis>(steady::now() - start); }

std::optional<long long> number(const http_response& response, std::string_view name) {
    const auto value = response.header(name);
    if (!value || value->empty() || value->find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
    return std::stoll(*value);
}

// X-RateLimit-Limit and -Remaining exactly (and a Reset of at least 1).
::testing::AssertionResult describes(const http_response& response, long long limit, long long remaining) {
    if (number(response, "X-RateLimit-Limit") != limit || number(response, "X-RateLimit-Remaining") != remaining ||
        number(response, "X-RateLimit-Reset").value_or(0) < 1) {
        return ::testing::AssertionFailure() << "expected X-RateLimit-Limit " << limit << " and -Remaining "
                                             << remaining << ", got:\n"
                                             << describe(response);
    }
    return ::testing::AssertionSuccess();
}

// 429 rate_limited whose body names `rule`, with a Retry-After in [min_retry, max_retry].
::testing::AssertionResult is_limited(const http_response& response, std::string_view rule, long long min_retry,
                                      long long max_retry) {
    if (auto error = is_error_response(response, 429, "rate_limited"); !error) return error;
    const std::regex rule_re("\"rule\"\\s*:\\s*\"" + std::string(rule) + "\"");
    const auto retry = number(response, "Retry-After");
    if (!std::regex_search(response.body, rule_re) || !retry || *retry < min_retry || *retry > max_retry) {
        return ::testing::AssertionFailure() << "expected a 429 naming rule \"" << rule << "\" with Retry-After in ["
                                             << min_retry << ", " << max_retry << "], got:\n"
                                             << describe(response);
    }
    return ::testing::AssertionSuccess();
}

::testing::AssertionResult has_no_x_ratelimit(const http_response& response) {
    for (const char* name : {"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"}) {
        if (response.header(name)) {
            return ::testing::AssertionFailure() << "unexpected " << name << ":\n" << describe(response);
        }
    }
    return ::testing::AssertionSuccess();
}

headers_t from(const std::string& client) { return {{"X-Forwarded-For", client}}; }

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

// The value of one sample line of the admin /metrics page ("name{labels} value"); nullopt when absent.
std::optional<double> metric(std::uint16_t admin_port, const std::string& series) {
    http_connection admin(admin_port, 2s);
    const auto page = admin.request("GET", "/metrics");
    std::size_t at = 0;
    while ((at = page.body.find(series + " ", at)) != std::string::npos) {
        if (at == 0 || page.body[at - 1] == '\n') return std::stod(page.body.substr(at + series.size() + 1));
        at += series.size();
    }
    return std::nullopt;
}
std::string limited_series(std::string_view rule) {
    return "gatewayd_rate_limited_total{rule=\"" + std::string(rule) + "\"}";
}
std::string shadow_series(std::string_view rule) {
    return "gatewayd_rate_limit_shadow_total{rule=\"" + std::string(rule) + "\"}";
}

// The lower-case hex SHA-256 of `value`, from the sha256sum command.
std::string sha256_hex(const temp_dir& dir, const std::string& value) {
    static int n = 0;
    const auto path = dir.file("sha-input-" + std::to_string(++n));
    write_file(path, value);
    const auto result = run_to_exit(dir, {find_in_path("sha256sum"), path.string()});
    if (result.status.shell_code() != 0 || result.out.size() < 64) throw std::runtime_error("sha256sum: " + result.err);
    return result.out.substr(0, 64);
}

// The store is the parameter: "redis" (a real redis-server for each test) or "memory".
class RateLimitRulesTest : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override {
        if (on_redis()) redis_.emplace(dir_);
    }
    bool on_redis() const { return GetParam() == "redis"; }

    // on_store_error: deny, so that a Redis failure shows as a 503 instead of a quiet fallback.
    gateway_settings settings(const mock_backend& backend, const std::string& rate_limit) const {
        return {.backends = {backend.url()},
                .rate_limit = "enabled: true, store: " + GetParam() + ", on_store_error: deny, " + rate_limit,
                .redis = redis_at(redis_ ? redis_->address() : "127.0.0.1:" + std::to_string(nowhere_))};
    }
    std::unique_ptr<gateway_process> start(const gateway_settings& settings) const {
        auto gateway = std::make_unique<gateway_process>(dir_, settings);
        if (redis_) {
            const std::string connected = "rate limit store redis " + redis_->address() + " connected";
            if (!wait_until([&] { return count_lines_containing(gateway->log_path(), connected) > 0; }, 5s)) {
                throw std::runtime_error("gateway did not connect to Redis:\n" + gateway->log());
            }
        }
        return gateway;
    }

    // Rewrites the gateway's file from `settings`, sends SIGHUP and waits for the reload's log line.
    static ::testing::AssertionResult reload(gateway_process& gateway, const gateway_settings& settings) {
        const std::string reloaded = "config reloaded from " + gateway.config_path().string();
        const auto before = count_lines_containing(gateway.log_path(), reloaded);
        write_file(gateway.config_path(), gateway_yaml(gateway.port(), settings));
        gateway.proc().send_signal(SIGHUP);
        if (wait_until([&] { return count_lines_containing(gateway.log_path(), reloaded) == before + 1; }, 3s)) {
            return ::testing::AssertionSuccess();
        }
        return ::testing::AssertionFailure() << "no \"" << reloaded << "\" after SIGHUP:\n" << gateway.log();
    }

    ::testing::AssertionResult every_key_has_ttl() const {
        const auto bad = redis_->keys_without_ttl();
        if (bad.empty()) return ::testing::AssertionSuccess();
        return ::testing::AssertionFailure() << "keys without a TTL: " << ::testing::PrintToString(bad);
    }

    temp_dir dir_;
    std::optional<redis_server> redis_;
    std::uint16_t nowhere_ = free_port();
};

TEST_P(RateLimitRulesTest, HeaderKeyCountsEachValueByItsSha256AndNeverWritesTheRawValue) {
    mock_backend backend(dir_);
    auto s = settings(backend, "key: header:X-Api-Key, requests: 2, window: 1m");
    s.log = "level: debug, format: text, access_log: true";
    const auto gateway = start(s);
    const std::string key_a = "sk_live_Sup3rSecretA", key_b = "sk_live_0therSecretB";

    for (int i = 0; i < 2; ++i) {
        const auto response = gateway->request("GET", "/a", {{"X-Api-Key", key_a}});
        ASSERT_EQ(response.status, 200) << describe(response);
        EXPECT_TRUE(describes(response, 2, 1 - i));
    }
    EXPECT_TRUE(is_limited(gateway->request("GET", "/a", {{"X-Api-Key", key_a}}), "default", 1, 60));
    // Another value is another counter (header names are case-insensitive).
    const auto other = gateway->request("GET", "/b", {{"x-api-key", key_b}});
    EXPECT_EQ(other.status, 200) << describe(other);
    EXPECT_TRUE(describes(other, 2, 1));
    // Without the header the client counts as ip:<client-ip>, apart from both values.
    for (int i = 0; i < 2; ++i) {
        const auto response = gateway->request("GET", "/none");
        EXPECT_EQ(response.status, 200) << describe(response);
        EXPECT_TRUE(describes(response, 2, 1 - i));
    }
    EXPECT_TRUE(is_limited(gateway->request("GET", "/none"), "default", 1, 60));

    if (on_redis()) {
        const std::string a = "rate_limit:" + sha256_hex(dir_, key_a), b = "rate_limit:" + sha256_hex(dir_, key_b);
        std::vector<std::string> expected{a, b, "rate_limit:ip:127.0.0.1"};
        std::sort(expected.begin(), expected.end());
        EXPECT_EQ(redis_->keys(), expected);
        EXPECT_EQ(value_of(*redis_, a), "3");
        EXPECT_EQ(value_of(*redis_, b), "1");
        EXPECT_EQ(value_of(*redis_, "rate_limit:ip:127.0.0.1"), "3");
        for (const auto& key : redis_->keys()) {
            EXPECT_EQ(key.find("Secret"), std::string::npos) << "a raw API key in Redis key " << key;
        }
        EXPECT_TRUE(every_key_has_ttl());
    }
    const std::string log = gateway->log();
    EXPECT_EQ(log.find("Secret"), std::string::npos) << "a raw API key in the log:\n" << log;
    EXPECT_NE(log.find(" path=/a "), std::string::npos) << "test premise: access lines are logged:\n" << log;
}

TEST_P(RateLimitRulesTest, GlobalKeyIsOneCounterForEveryClientWhileAClientIpRuleCountsEachClient) {
    mock_backend backend(dir_);
    auto s = settings(backend, "key: global, requests: 3, window: 1m, "
                               "rules: [{name: per_client, key: client_ip, requests: 10}]");
    s.client = "trusted_proxies: [127.0.0.1/32]";
    const auto gateway = start(s);
    const std::string a = "198.51.100.1", b = "198.51.100.2";

    const std::vector<std::string> order{a, b, a};
    for (std::size_t i = 0; i < order.size(); ++i) {
        const auto response = gateway->request("GET", "/g", from(order[i]));
        ASSERT_EQ(response.status, 200) << describe(response);
        EXPECT_TRUE(describes(response, 3, 2 - static_cast<long long>(i))) << "client " << order[i];
    }
    EXPECT_TRUE(is_limited(gateway->request("GET", "/g", from(b)), "default", 1, 60))
        << "the second client has its own budget under key: global";
    if (on_redis()) {
        EXPECT_EQ(redis_->keys(), (std::vector<std::string>{"rate_limit:all", "rate_limit:per_client:" + a,
                                                            "rate_limit:per_client:" + b}));
        EXPECT_EQ(value_of(*redis_, "rate_limit:all"), "4");
        EXPECT_EQ(value_of(*redis_, "rate_limit:per_client:" + a), "2");
        EXPECT_EQ(value_of(*redis_, "rate_limit:per_client:" + b), "2") << "a fixed window counts every request it saw";
        EXPECT_TRUE(every_key_has_ttl());
    }
}

TEST_P(RateLimitRulesTest, RuleKeysCarryRuleAndRouteNamesAndARoutesRulesReplaceTheTopLevelOnes) {
    mock_backend backend(dir_);
    auto s = settings(backend, "algorithm: sliding_window, requests: 100, window: 1m, "
                               "rules: [{name: burst, requests: 3, window: 1s, algorithm: gcra}, "
                               "{name: hourly, requests: 50}]");
    s.extra = "routes:\n"
              "  - {name: users, match: {path_prefix: /users}, rate_limit: {requests: 20}}\n"
              "  - {name: orders, match: {path_prefix: /orders},\n"
              "     rate_limit: {rules: [{name: tight, requests: 5, algorithm: fixed_window}]}}\n"
              "  - {name: plain, match: {path_prefix: /plain}}\n";
    const auto admin_port = free_port();
    s.admin = admin_listen(admin_port);
    const auto gateway = start(s);
    if (on_redis()) redis_->reset_stats();
    EXPECT_EQ(metric(admin_port, limited_series("tight")), 0.0) << "a route's own rule must show at 0";

    // Three rules each; burst has the fewest left and is the one the headers describe.
    for (const std::string target : {"/plain/1", "/users/1"}) {
        const auto response = gateway->request("GET", target);
        ASSERT_EQ(response.status, 200) << target << ":\n" << describe(response);
        EXPECT_TRUE(describes(response, 3, 2)) << target;
    }
    // orders has default and tight only: no burst limit, so five at once pass.
    auto connection = gateway->connect();
    for (int i = 0; i < 5; ++i) {
        const auto response = connection->request("GET", "/orders/" + std::to_string(i));
        ASSERT_EQ(response.status, 200) << "orders request " << i + 1 << ":\n" << describe(response);
        EXPECT_TRUE(describes(response, 5, 4 - i)) << "orders request " << i + 1;
    }
    EXPECT_TRUE(is_limited(connection->request("GET", "/orders/6"), "tight", 1, 60));
    EXPECT_EQ(metric(admin_port, limited_series("tight")), 1.0);
    EXPECT_EQ(metric(admin_port, limited_series("burst")), 0.0);

    if (on_redis()) {
        const std::vector<std::string> expected{
            "rate_limit:127.0.0.1",        "rate_limit:burst:127.0.0.1",        "rate_limit:hourly:127.0.0.1",
            "rate_limit:orders:127.0.0.1", "rate_limit:orders:tight:127.0.0.1", "rate_limit:users:127.0.0.1",
            "rate_limit:users:burst:127.0.0.1", "rate_limit:users:hourly:127.0.0.1"};
        EXPECT_EQ(redis_->keys(), expected);
        // Unset fields come from the block: hourly is a sliding window of 1m (a hash living 2 windows).
        EXPECT_EQ(type_of(*redis_, "rate_limit:hourly:127.0.0.1"), "hash");
        EXPECT_GT(redis_->pttl("rate_limit:hourly:127.0.0.1"), 60'000);
        EXPECT_TRUE(std::regex_match(redis_->get("rate_limit:users:burst:127.0.0.1").value_or(""),
                                     std::regex("[1-9][0-9]{15}")))
            << "burst is gcra: a TAT in µs";
        EXPECT_EQ(value_of(*redis_, "rate_limit:orders:tight:127.0.0.1"), "6");
        // The sixth orders request was refused by tight: the sliding default was not charged.
        // (c + p: the minute may have turned between the requests.)
        auto orders = hash_of(*redis_, "rate_limit:orders:127.0.0.1");
        EXPECT_EQ(std::stoll("0" + orders["c"]) + std::stoll("0" + orders["p"]), 5) << ::testing::PrintToString(orders);
        auto calls = redis_->command_calls();
        EXPECT_EQ(calls["evalsha"], 8) << "one round trip per request, whatever the number of rules";
        EXPECT_EQ(calls["eval"], 0);
        EXPECT_TRUE(every_key_has_ttl());
    }
}

TEST_P(RateLimitRulesTest, ARequestRefusedByOneRuleIsNotChargedToSlidingOrGcraRulesButAFixedWindowCountsIt) {
    mock_backend backend(dir_);
    const auto gateway = start(settings(backend,
        "requests: 100, window: 1m, rules: ["
        "{name: burst, requests: 2, window: 1s, algorithm: gcra}, "
        "{name: quota, requests: 3, window: 1m, algorithm: gcra}, "
        "{name: smooth, requests: 3, window: 1m, algorithm: sliding_window}, "
        "{name: counted, requests: 10, window: 1m, algorithm: fixed_window}]"));
    if (on_redis()) redis_->reset_stats();

    auto connection = gateway->connect();
    const auto first_sent = steady::now();
    for (int i = 0; i < 2; ++i) ASSERT_EQ(connection->request("GET", "/q/" + std::to_string(i)).status, 200);
    std::optional<std::string> quota_before, burst_before;
    std::map<std::string, std::string> smooth_before;
    if (on_redis()) {
        quota_before = redis_->get("rate_limit:quota:127.0.0.1");
        burst_before = redis_->get("rate_limit:burst:127.0.0.1");
        smooth_before = hash_of(*redis_, "rate_limit:smooth:127.0.0.1");
        ASSERT_TRUE(quota_before && burst_before && !smooth_before.empty()) << "test premise: keys written";
    }
    const auto third = connection->request("GET", "/q/refused");
    ASSERT_LT(since(first_sent), 400ms) << "test premise: the third request within burst's interval (500 ms)";
    EXPECT_TRUE(is_limited(third, "burst", 1, 1));
    EXPECT_TRUE(describes(third, 2, 0)) << "burst has the fewest left";
    if (on_redis()) {
        EXPECT_EQ(redis_->get("rate_limit:burst:127.0.0.1"), burst_before) << "the refusing gcra rule changed";
        EXPECT_EQ(redis_->get("rate_limit:quota:127.0.0.1"), quota_before) << "gcra charged for a refused request";
        EXPECT_EQ(hash_of(*redis_, "rate_limit:smooth:127.0.0.1"), smooth_before)
            << "sliding window charged for a refused request";
        EXPECT_EQ(value_of(*redis_, "rate_limit:counted:127.0.0.1"), "3") << "a fixed window counts all it saw";
        EXPECT_EQ(value_of(*redis_, "rate_limit:127.0.0.1"), "3");
        auto calls = redis_->command_calls();
        EXPECT_EQ(calls["evalsha"], 3) << "one round trip per request for five rules";
        EXPECT_EQ(calls["eval"], 0);
    }

    // Once burst allows again, the request passes: quota and smooth (3 each) were charged twice,
    // not three times (charged, either would refuse it now for about 20 s).
    http_response passed;
    wait_until(
        [&] {
            passed = gateway->request("GET", "/q/after");
            return passed.status != 429 || passed.body.find("\"burst\"") == std::string::npos;
        },
        2s, 5ms);
    const auto waited = since(first_sent);
    ASSERT_EQ(passed.status, 200) << describe(passed);
    EXPECT_GE(waited, 490ms) << "burst allowed a third request before one interval (500 ms)";
    EXPECT_LE(waited, 1500ms);
    if (on_redis()) {
        EXPECT_TRUE(every_key_has_ttl());
    }
}

TEST_P(RateLimitRulesTest, RetryAfterIsTheLongestWaitAndTheBodyAndMetricNameThatRule) {
    mock_backend backend(dir_);
    const auto admin_port = free_port();
    auto s = settings(backend, "requests: 100, window: 1m, rules: ["
                               "{name: short_a, requests: 2, window: 1s, algorithm: gcra, burst: 1}, "
                               "{name: long_b, requests: 1, window: 3s}, "
                               "{name: short_c, requests: 1, window: 1s}]");
    s.admin = admin_listen(admin_port);
    const auto gateway = start(s);
    for (const auto* rule : {"default", "short_a", "long_b", "short_c"}) {
        EXPECT_EQ(metric(admin_port, limited_series(rule)), 0.0) << rule << " must show at 0 before it counts";
    }

    auto connection = gateway->connect();
    const auto first_sent = steady::now();
    ASSERT_EQ(connection->request("GET", "/r/1").status, 200);
    // All three rules refuse: short_a for up to 0.5 s, long_b for about 3 s, short_c for up to 1 s.
    const auto second = connection->request("GET", "/r/2");
    ASSERT_LT(since(first_sent), 400ms) << "test premise";
    EXPECT_TRUE(is_limited(second, "long_b", 3, 3));
    EXPECT_EQ(number(second, "X-RateLimit-Remaining"), 0) << describe(second);
    // Answered from what the gateway already knows: the same answer.
    const auto third = connection->request("GET", "/r/3");
    EXPECT_TRUE(is_limited(third, "long_b", 2, 3));

    EXPECT_EQ(metric(admin_port, limited_series("long_b")), 2.0);
    for (const auto* rule : {"default", "short_a", "short_c"}) {
        EXPECT_EQ(metric(admin_port, limited_series(rule)), 0.0) << rule << " is not the rule the 429s named";
    }
}

TEST_P(RateLimitRulesTest, StandardHeadersListEveryEnforcingRuleAndDescribeTheOneWithTheFewestLeft) {
    mock_backend backend(dir_);
    const std::string rules = "requests: 100, window: 1m, standard_headers: true, rules: ["
                              "{name: burst, requests: 3, window: 1500ms}, "
                              "{name: trial, requests: 1, window: 1m, shadow: true}]";
    // w is the window in whole seconds, rounded up; the shadow rule enforces nothing and is not listed.
    const std::string policy = R"("default";q=100;w=60, "burst";q=3;w=2)";
    {
        const auto gateway = start(settings(backend, rules));
        auto connection = gateway->connect();
        const auto first_sent = steady::now();
        for (int i = 0; i < 3; ++i) {
            const auto response = connection->request("GET", "/std/" + std::to_string(i));
            ASSERT_EQ(response.status, 200) << describe(response);
            EXPECT_EQ(response.header("RateLimit-Policy"), policy) << describe(response);
            const std::string current = "\"burst\";r=" + std::to_string(2 - i) + ";t=2";
            EXPECT_EQ(response.header("RateLimit"), current) << describe(response);
            EXPECT_TRUE(describes(response, 3, 2 - i));
        }
        const auto over = connection->request("GET", "/std/over");
        ASSERT_LT(since(first_sent), 400ms) << "test premise: t stays 2 (ceil of 1.5 s minus elapsed)";
        EXPECT_TRUE(is_limited(over, "burst", 2, 2));
        EXPECT_EQ(over.header("RateLimit-Policy"), policy) << describe(over);
        EXPECT_EQ(over.header("RateLimit"), "\"burst\";r=0;t=2") << describe(over);
        EXPECT_TRUE(describes(over, 3, 0));
    }
    {
        // headers: false drops X-RateLimit-* but not the standard ones.
        const auto gateway = start(settings(backend, rules + ", headers: false, key_prefix: \"quiet:\""));
        auto connection = gateway->connect();
        for (int i = 0; i < 3; ++i) {
            const auto response = connection->request("GET", "/quiet/" + std::to_string(i));
            ASSERT_EQ(response.status, 200) << describe(response);
            EXPECT_TRUE(has_no_x_ratelimit(response));
            EXPECT_EQ(response.header("RateLimit-Policy"), policy) << describe(response);
            const std::string current = "\"burst\";r=" + std::to_string(2 - i) + ";t=";
            EXPECT_TRUE(response.header("RateLimit").value_or("").starts_with(current)) << describe(response);
        }
        const auto over = connection->request("GET", "/quiet/over");
        EXPECT_TRUE(is_limited(over, "burst", 1, 2));
        EXPECT_TRUE(has_no_x_ratelimit(over));
        EXPECT_EQ(over.header("RateLimit-Policy"), policy) << describe(over);
        EXPECT_TRUE(over.header("RateLimit").value_or("").starts_with("\"burst\";r=0;t=")) << describe(over);
    }
}

TEST_P(RateLimitRulesTest, ShadowRuleNeverRefusesAndReportsInMetricsAndTheAccessLog) {
    mock_backend backend(dir_);
    const auto admin_port = free_port();
    // default (gcra 5 at once) enforces; trial (2 per minute) only reports.
    const std::string rules = "algorithm: gcra, requests: 5, window: 1m, "
                              "rules: [{name: trial, requests: 2, algorithm: fixed_window, shadow: true}]";
    auto s = settings(backend, rules);
    s.admin = admin_listen(admin_port);
    const auto gateway = start(s);
    EXPECT_EQ(metric(admin_port, shadow_series("trial")), 0.0) << "the shadow rule must show at 0";

    for (int i = 1; i <= 5; ++i) {
        const auto response = gateway->request("GET", "/shadow/" + std::to_string(i));
        ASSERT_EQ(response.status, 200) << "request " << i << ":\n" << describe(response);
        // Exact countdown: default was charged even when trial would have refused.
        EXPECT_TRUE(describes(response, 5, 5 - i)) << "request " << i << ": headers describe enforcing rules only";
    }
    for (int i = 1; i <= 5; ++i) {
        const std::string needle = " path=/shadow/" + std::to_string(i) + " status=200";
        ASSERT_TRUE(wait_until([&] { return count_lines_containing(gateway->log_path(), needle) == 1; }, 2s))
            << gateway->log();
        const auto line = lines_containing(gateway->log_path(), needle).front();
        if (i <= 2) {
            EXPECT_EQ(line.find("shadow_limited"), std::string::npos) << line;
        } else {
            EXPECT_TRUE(line.ends_with(" shadow_limited=trial")) << line;
        }
    }
    EXPECT_EQ(metric(admin_port, shadow_series("trial")), 3.0);
    EXPECT_EQ(metric(admin_port, limited_series("default")), 0.0);
    if (on_redis()) {
        EXPECT_EQ(value_of(*redis_, "rate_limit:trial:127.0.0.1"), "5") << "a shadow rule still counts";
        EXPECT_TRUE(every_key_has_ttl());
    }

    // The JSON access log carries it as a member.
    auto json = settings(backend, rules + ", key_prefix: \"json:\"");
    json.log = "level: info, format: json, access_log: true";
    const auto json_gateway = start(json);
    for (int i = 1; i <= 3; ++i) ASSERT_EQ(json_gateway->request("GET", "/json/" + std::to_string(i)).status, 200);
    const std::string third = R"("path":"/json/3")";
    ASSERT_TRUE(wait_until([&] { return count_lines_containing(json_gateway->log_path(), third) == 1; }, 2s))
        << json_gateway->log();
    const auto line = lines_containing(json_gateway->log_path(), third).front();
    EXPECT_TRUE(std::regex_search(line, std::regex(R"re("shadow_limited"\s*:\s*"trial")re"))) << line;
    const auto second = lines_containing(json_gateway->log_path(), R"("path":"/json/2")");
    ASSERT_EQ(second.size(), 1u);
    EXPECT_EQ(second.front().find("shadow_limited"), std::string::npos) << second.front();
}

TEST_P(RateLimitRulesTest, SighupAddsARuleThatChecksTheNextRequest) {
    mock_backend backend(dir_);
    auto s = settings(backend, "requests: 100, window: 1m");
    const auto gateway = start(s);
    const auto before = gateway->request("GET", "/before");
    ASSERT_EQ(before.status, 200) << describe(before);
    EXPECT_TRUE(describes(before, 100, 99));

    s.rate_limit += ", rules: [{name: added, requests: 1, window: 1m}]";
    ASSERT_TRUE(reload(*gateway, s));

    const auto first = gateway->request("GET", "/after/1");
    ASSERT_EQ(first.status, 200) << describe(first);
    EXPECT_TRUE(describes(first, 1, 0)) << "the new rule has the fewest left";
    EXPECT_TRUE(is_limited(gateway->request("GET", "/after/2"), "added", 1, 60));
    if (on_redis()) {
        EXPECT_EQ(value_of(*redis_, "rate_limit:added:127.0.0.1"), "2");
        EXPECT_EQ(value_of(*redis_, "rate_limit:127.0.0.1"), "3");
        EXPECT_TRUE(every_key_has_ttl());
    }
}

TEST_P(RateLimitRulesTest, SighupRaisingALimitAppliesToAClientRefusedBeforeTheReload) {
    mock_backend backend(dir_);
    auto s = settings(backend, "requests: 1, window: 1m");
    const auto gateway = start(s);
    ASSERT_EQ(gateway->request("GET", "/before/1").status, 200);
    ASSERT_TRUE(is_limited(gateway->request("GET", "/before/2"), "default", 1, 60));

    s.rate_limit = settings(backend, "requests: 3, window: 1m").rate_limit;
    ASSERT_TRUE(reload(*gateway, s));
    // Two requests counted (a fixed window counts the refused one too), so the third of three passes.
    const auto after = gateway->request("GET", "/after");
    EXPECT_EQ(after.status, 200) << "the raised limit does not apply to a client refused before the reload:\n"
                                 << describe(after);
    EXPECT_EQ(number(after, "X-RateLimit-Limit"), 3) << describe(after);
    if (on_redis()) {
        EXPECT_EQ(value_of(*redis_, "rate_limit:127.0.0.1"), "3") << "the request after the reload never reached Redis";
    }
}

TEST_P(RateLimitRulesTest, SighupChangingARulesAlgorithmKeepsTheRuleWorkingOnTheSameKey) {
    mock_backend backend(dir_);
    // on_store_error: deny: a key the new algorithm cannot read would show as 503.
    auto s = settings(backend, "requests: 10, window: 1m, algorithm: fixed_window");
    const auto gateway = start(s);
    for (int i = 0; i < 2; ++i) ASSERT_EQ(gateway->request("GET", "/fixed").status, 200);

    // Five requests in all against 10: each passes whether counts carry over or start afresh.
    for (const std::string algorithm : {"sliding_window", "gcra", "fixed_window"}) {
        s.rate_limit = settings(backend, "requests: 10, window: 1m, algorithm: " + algorithm).rate_limit;
        ASSERT_TRUE(reload(*gateway, s)) << algorithm;
        const auto response = gateway->request("GET", "/now-" + algorithm);
        EXPECT_EQ(response.status, 200) << "first request after switching to " << algorithm << ":\n"
                                        << describe(response);
        if (on_redis()) {
            EXPECT_TRUE(every_key_has_ttl());
        }
    }
}

INSTANTIATE_TEST_SUITE_P(RateLimitRules, RateLimitRulesTest, ::testing::Values("redis", "memory"),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

class RateLimitRulesConfigTest : public ::testing::Test {
protected:
    temp_dir dir_;
};

TEST_F(RateLimitRulesConfigTest, CheckConfigReportsEveryRuleMistakeAtItsPosition) {
    const auto path = dir_.file("rules.yaml");
    write_file(path,
               "listen: \"127.0.0.1:18080\"\n"          // 1
               "backends:\n"                              // 2
               "  - url: http://127.0.0.1:18081\n"        // 3
               "rate_limit:\n"                            // 4
               "  rules:\n"                               // 5
               "    - name: dup\n"                        // 6
               "      requests: 5\n"                      // 7
               "    - name: dup\n"                        // 8: duplicate
               "    - name: default\n"                    // 9: reserved
               "    - name: algo\n"                       // 10
               "      algorithm: leaky_bucket\n"          // 11: unknown algorithm
               "    - name: hdr\n"                        // 12
               "      key: \"header:\"\n"                 // 13: empty header name
               "    - name: fixed\n"                      // 14
               "      algorithm: fixed_window\n"          // 15
               "      burst: 3\n"                         // 16: burst on a fixed window
               "routes:\n"                                // 17
               "  - name: api\n"                          // 18
               "    match: {path_prefix: /api}\n"         // 19
               "    rate_limit:\n"                        // 20
               "      algorithm: sliding_window\n"        // 21
               "      rules:\n"                           // 22
               "        - name: inherits\n"               // 23
               "          burst: 2\n");                   // 24: burst on an inherited sliding window
    const auto result = run_to_exit(dir_, {gatewayd_bin(), "--config", path.string(), "--check-config"});
    EXPECT_EQ(result.status.shell_code(), 1) << result.out << result.err;
    EXPECT_EQ(result.out.find("config OK"), std::string::npos) << result.out;
    const std::string file = path.string();
    const std::vector<std::pair<std::string, std::string>> expected{
        {file + ":8:13: ", "duplicate rule name"},     {file + ":9:13: ", "\"default\""},
        {file + ":11:18: ", "leaky_bucket"},           {file + ":13:12: ", "header name is empty"},
        {file + ":16:14: ", "burst applies to gcra"},  {file + ":24:18: ", "burst applies to gcra"},
    };
    std::vector<std::string> lines;
    for (std::size_t start = 0, end; start < result.err.size(); start = end + 1) {
        end = result.err.find('\n', start);
        if (end == std::string::npos) end = result.err.size();
        if (end > start) lines.push_back(result.err.substr(start, end - start));
    }
    ASSERT_EQ(lines.size(), expected.size()) << result.err;
    for (std::size_t i = 0; i < expected.size(); ++i) {
        EXPECT_TRUE(lines[i].starts_with(expected[i].first)) << "line " << i + 1 << ": " << lines[i];
        EXPECT_NE(lines[i].find(expected[i].second), std::string::npos) << "line " << i + 1 << ": " << lines[i];
    }
}

}  // namespace
}  // namespace it
