// Several gateways on one Redis deployment enforce one limit exactly under concurrent load: three
// gatewayd processes, a few client threads spreading one API key's requests over all three, on a
// standalone server and on a cluster. Also: ACL users (AUTH username password), and a wrong
// password, which is a store error logged once.
#include "harness.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>

namespace it {
namespace {

constexpr int limit = 150;
constexpr int sent_in_all = 450;
constexpr int client_threads = 6;

// `sent_in_all` requests with one API key from `client_threads` threads, each request to the next
// gateway in turn; the statuses counted.
std::map<int, int> hammer(const std::vector<std::unique_ptr<gateway_process>>& gateways) {
    std::atomic<int> next{0};
    std::mutex mutex;
    std::map<int, int> statuses;
    std::vector<std::thread> threads;
    for (int t = 0; t < client_threads; ++t) {
        threads.emplace_back([&] {
            for (int i = next++; i < sent_in_all; i = next++) {
                int status = -1;
                try {
                    status = gateways[static_cast<std::size_t>(i) % gateways.size()]
                                 ->request("GET", "/shared", {{"X-Api-Key", "key-of-one-customer"}})
                                 .status;
                } catch (const std::exception&) {
                }
                std::lock_guard lock(mutex);
                ++statuses[status];
            }
        });
    }
    for (auto& thread : threads) thread.join();
    return statuses;
}

std::string shared_limit() {
    return "enabled: true, requests: " + std::to_string(limit) +
           ", window: 1m, key: \"header:X-Api-Key\", on_store_error: deny, headers: true";
}

TEST(RedisSharedLimit, ThreeGatewaysOnOneServerAdmitExactlyTheLimit) {
    temp_dir dir;
    mock_backend backend(dir);
    redis_server redis(dir);
    std::vector<std::unique_ptr<gateway_process>> gateways;
    for (int i = 0; i < 3; ++i) {
        gateways.push_back(std::make_unique<gateway_process>(
            dir, gateway_settings{.backends = {backend.url()},
                                  .rate_limit = shared_limit(),
                                  .redis = "address: \"" + redis.address() + "\", timeout: 500ms"}));
    }
    const auto statuses = hammer(gateways);
    EXPECT_EQ(statuses, (std::map<int, int>{{200, limit}, {429, sent_in_all - limit}}));
    EXPECT_EQ(backend.request_count("/shared"), static_cast<std::size_t>(limit));
}

TEST(RedisSharedLimit, ThreeGatewaysOnOneClusterAdmitExactlyTheLimit) {
    temp_dir dir;
    mock_backend backend(dir);
    redis_cluster cluster(dir);
    std::string nodes;
    for (const auto& address : cluster.addresses()) nodes += (nodes.empty() ? "\"" : ", \"") + address + "\"";
    std::vector<std::unique_ptr<gateway_process>> gateways;
    for (int i = 0; i < 3; ++i) {
        gateways.push_back(std::make_unique<gateway_process>(
            dir, gateway_settings{.backends = {backend.url()},
                                  .rate_limit = shared_limit(),
                                  .redis = "mode: cluster, nodes: [" + nodes + "], timeout: 500ms"}));
    }
    const auto statuses = hammer(gateways);
    EXPECT_EQ(statuses, (std::map<int, int>{{200, limit}, {429, sent_in_all - limit}}));
    EXPECT_EQ(backend.request_count("/shared"), static_cast<std::size_t>(limit));
}

TEST(RedisAcl, TheGatewayAuthenticatesAsItsAclUser) {
    temp_dir dir;
    mock_backend backend(dir);
    redis_server redis(dir);
    ASSERT_EQ(redis.command({"ACL", "SETUSER", "gatewayd", "on", ">s3cret", "~rate_limit:*", "+@all"}).text, "OK");
    const std::uint16_t admin_port = free_port();
    gateway_process gateway(
        dir, gateway_settings{.backends = {backend.url()},
                              .admin = admin_listen(admin_port),
                              .rate_limit = "enabled: true, requests: 10, window: 1m, on_store_error: deny",
                              .redis = "address: \"" + redis.address() +
                                       "\", username: gatewayd, password: s3cret, timeout: 200ms"});
    for (int i = 0; i < 3; ++i) EXPECT_EQ(gateway.request("GET", "/").status, 200);
    EXPECT_EQ(redis.get("rate_limit:127.0.0.1"), "3");
    const auto clients = redis.command({"CLIENT", "LIST"}).text;
    EXPECT_NE(clients.find("user=gatewayd"), std::string::npos) << clients;
    EXPECT_EQ(scrape(admin_port, "gatewayd_rate_limit_store_errors_total"), 0.0);
}

TEST(RedisAcl, AWrongPasswordIsAStoreErrorLoggedOnceAndTheGatewayGoesOn) {
    temp_dir dir;
    mock_backend backend(dir);
    redis_server redis(dir);
    ASSERT_EQ(redis.command({"ACL", "SETUSER", "gatewayd", "on", ">s3cret", "~*", "+@all"}).text, "OK");
    const std::uint16_t admin_port = free_port();
    gateway_process gateway(
        dir, gateway_settings{.backends = {backend.url()},
                              .admin = admin_listen(admin_port),
                              .rate_limit = "enabled: true, requests: 10, window: 1m, on_store_error: memory",
                              .redis = "address: \"" + redis.address() +
                                       "\", username: gatewayd, password: wrong, timeout: 100ms"});
    // Long enough for several attempts to connect (back-off 100 ms, 200 ms, 400 ms, ...).
    const auto until = steady::now() + 2500ms;
    int sent = 0;
    while (steady::now() < until) {
        EXPECT_EQ(gateway.request("GET", "/").status, sent < 10 ? 200 : 429) << "request " << sent;
        ++sent;
        std::this_thread::sleep_for(100ms);
    }
    EXPECT_EQ(count_lines_containing(gateway.log_path(), "unreachable: AUTH gatewayd failed: WRONGPASS"), 1u)
        << gateway.log();
    EXPECT_FALSE(redis.get("rate_limit:127.0.0.1")) << "nothing was written as another user";
    EXPECT_GE(scrape(admin_port, "gatewayd_rate_limit_store_errors_total").value_or(0), 10.0);
    EXPECT_EQ(scrape(admin_port, "gatewayd_redis_up{node=\"" + redis.address() + "\"}"), 0.0);
    EXPECT_FALSE(gateway.proc().exited());
}

}  // namespace
}  // namespace it
