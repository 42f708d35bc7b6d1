#include "gatewayd/admin/metrics.hpp"

#include <gtest/gtest.h>

namespace {

using namespace std::chrono_literals;

TEST(Metrics, ObserveCountsByStatusAndLatencyBucket) {
    gw::request_metrics m;
    m.observe(200, 300us);   // <= 0.0005
    m.observe(200, 3ms);     // <= 0.005
    m.observe(429, 20s);     // +Inf
    EXPECT_EQ(m.responses[200], 2u);
    EXPECT_EQ(m.responses[429], 1u);
    EXPECT_EQ(m.buckets[0], 1u);
    EXPECT_EQ(m.buckets[3], 1u);
    EXPECT_EQ(m.buckets.back(), 1u);
    EXPECT_EQ(m.count, 3u);
    EXPECT_NEAR(m.sum_seconds, 20.0033, 1e-9);
}

TEST(Metrics, MergeSumsLoopsAndMatchesBackendsByUrl) {
    gw::metrics_sample a, b;
    a.requests.observe(200, 1ms);
    b.requests.observe(200, 1ms);
    a.rate_limited.add("default", 2);
    b.rate_limited.add("default", 3);
    b.rate_limited.add("burst", 1);
    a.backends.push_back({"http://x:1", 5, 1, 0, true});
    b.backends.push_back({"http://x:1", 2, 4, 2, false});
    b.backends.push_back({"http://y:2", 1, 0, 0, true});
    a.merge(b);
    EXPECT_EQ(a.requests.responses[200], 2u);
    EXPECT_EQ(a.rate_limited.counts,
              (std::vector<std::pair<std::string, std::uint64_t>>{{"default", 5}, {"burst", 1}}));
    EXPECT_EQ(a.rate_limited.total(), 6u);
    ASSERT_EQ(a.backends.size(), 2u);
    EXPECT_EQ(a.backends[0].successes, 7u);
    EXPECT_EQ(a.backends[0].failures, 5u);
    EXPECT_EQ(a.backends[0].circuit, 2);
    EXPECT_FALSE(a.backends[0].up);
}

TEST(Metrics, RenderUsesTheContractNames) {
    gw::metrics_sample s;
    s.requests.observe(200, 2ms);
    s.requests.observe(503, 2ms);
    s.rate_limited.add("default", 7);
    s.rate_limit_shadow.add("trial", 2);
    s.rate_limit_store_errors = 1;
    s.active_connections = 3;
    s.backends.push_back({"http://127.0.0.1:8081", 10, 2, 1, true});
    const std::string text = gw::render_metrics(s, {.internal_errors = {{"session", 4}, {"redis", 0}},
                                                    .open_fds = 9,
                                                    .resident_bytes = 4096,
                                                    .start_time_seconds = 1.5});
    for (const std::string line : {
             "gatewayd_requests_total{code=\"200\"} 1",
             "gatewayd_requests_total{code=\"503\"} 1",
             "gatewayd_request_duration_seconds_count 2",
             "gatewayd_request_duration_seconds_bucket{le=\"0.0025\"} 2",
             "gatewayd_request_duration_seconds_bucket{le=\"+Inf\"} 2",
             "gatewayd_upstream_requests_total{backend=\"http://127.0.0.1:8081\",outcome=\"success\"} 10",
             "gatewayd_upstream_requests_total{backend=\"http://127.0.0.1:8081\",outcome=\"failure\"} 2",
             "gatewayd_rate_limited_total{rule=\"default\"} 7",
             "gatewayd_rate_limit_shadow_total{rule=\"trial\"} 2",
             "gatewayd_rate_limit_store_errors_total 1",
             "gatewayd_circuit_state{backend=\"http://127.0.0.1:8081\"} 1",
             "gatewayd_backend_up{backend=\"http://127.0.0.1:8081\"} 1",
             "gatewayd_active_connections 3",
             "process_open_fds 9",
             "gatewayd_internal_errors_total{task=\"session\"} 4",
             "gatewayd_internal_errors_total{task=\"redis\"} 0",
             "# TYPE gatewayd_request_duration_seconds histogram",
         }) {
        EXPECT_NE(text.find(line + "\n"), std::string::npos) << line << "\n---\n" << text;
    }
}

TEST(Metrics, RedisNodesAreUpWhenEveryLoopIsConnectedRedirectsAddAndFailoversAreTheMostFollowed) {
    gw::metrics_sample a, b;
    a.redis_nodes = {{"127.0.0.1:7000", true}, {"127.0.0.1:7001", true}};
    b.redis_nodes = {{"127.0.0.1:7001", false}, {"127.0.0.1:7002", true}};
    a.redis_moved = 3;
    b.redis_moved = 4;
    b.redis_ask = 1;
    a.redis_failovers = 1;
    b.redis_failovers = 1;
    a.merge(b);
    EXPECT_EQ(a.redis_nodes, (std::vector<std::pair<std::string, bool>>{
                                 {"127.0.0.1:7000", true}, {"127.0.0.1:7001", false}, {"127.0.0.1:7002", true}}));
    EXPECT_EQ(a.redis_moved, 7u);
    EXPECT_EQ(a.redis_ask, 1u);
    EXPECT_EQ(a.redis_failovers, 1u) << "every loop follows the same failover";
    const std::string text = gw::render_metrics(a, {});
    for (const std::string line : {
             "gatewayd_redis_up{node=\"127.0.0.1:7000\"} 1",
             "gatewayd_redis_up{node=\"127.0.0.1:7001\"} 0",
             "gatewayd_redis_redirects_total{kind=\"moved\"} 7",
             "gatewayd_redis_redirects_total{kind=\"ask\"} 1",
             "gatewayd_redis_failovers_total 1",
         }) {
        EXPECT_NE(text.find(line + "\n"), std::string::npos) << line << "\n---\n" << text;
    }
    const std::string idle = gw::render_metrics(gw::metrics_sample{}, {});
    EXPECT_NE(idle.find("gatewayd_redis_redirects_total{kind=\"moved\"} 0\n"), std::string::npos) << idle;
    EXPECT_NE(idle.find("gatewayd_redis_failovers_total 0\n"), std::string::npos) << idle;
}

}  // namespace
