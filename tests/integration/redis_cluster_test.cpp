// redis.mode cluster seen from outside: three primaries made with `redis-cli --cluster create`,
// clients (X-Forwarded-For from a trusted 127.0.0.1) whose keys spread over every node, rules
// whose keys live in different slots, and a slot migrated while its client keeps sending.
// on_store_error is deny throughout: any store error would show as a 503.
#include "harness.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <thread>

namespace it {
namespace {

using headers_t = std::vector<std::pair<std::string, std::string>>;

headers_t from(const std::string& client) { return {{"X-Forwarded-For", client}}; }

class RedisClusterTest : public ::testing::Test {
protected:
    gateway_settings settings(const std::string& rate_limit, std::string_view timeout = "200ms") const {
        std::string nodes;
        for (const auto& address : cluster_.addresses()) nodes += (nodes.empty() ? "\"" : ", \"") + address + "\"";
        return {.backends = {backend_.url()},
                .client = "trusted_proxies: [\"127.0.0.1/32\"]",
                .admin = admin_listen(admin_port_),
                .rate_limit = rate_limit,
                .redis = "mode: cluster, nodes: [" + nodes + "], timeout: " + std::string(timeout)};
    }

    bool wait_map(const gateway_process& gateway) const {
        return wait_until(
            [&] { return count_lines_containing(gateway.log_path(), "redis cluster: slot map from") > 0; }, 10s);
    }

    temp_dir dir_;
    mock_backend backend_{dir_};
    redis_cluster cluster_{dir_};
    std::uint16_t admin_port_ = free_port();
};

TEST_F(RedisClusterTest, ClientsSpreadOverEveryNodeEachGetExactlyTheirLimit) {
    gateway_process gateway(
        dir_, settings("enabled: true, requests: 5, window: 1m, on_store_error: deny, headers: true"));
    ASSERT_TRUE(wait_map(gateway)) << gateway.log();
    constexpr int clients = 90;
    std::map<std::string, std::vector<int>> statuses;
    // Round after round, every client sends one request: 7 rounds for a limit of 5.
    for (int round = 0; round < 7; ++round) {
        for (int c = 0; c < clients; ++c) {
            const std::string client = "10.77." + std::to_string(c / 10) + "." + std::to_string(c % 10 + 1);
            statuses[client].push_back(gateway.request("GET", "/", from(client)).status);
        }
    }
    for (const auto& [client, got] : statuses) {
        EXPECT_EQ(got, (std::vector<int>{200, 200, 200, 200, 200, 429, 429})) << client;
    }
    const auto counts = cluster_.key_counts();
    long long keys = 0;
    for (std::size_t i = 0; i < counts.size(); ++i) {
        EXPECT_GT(counts[i], 0) << "node " << i << " holds none of the keys";
        keys += counts[i];
    }
    EXPECT_EQ(keys, clients);
    for (int c = 0; c < clients; c += 17) {
        const std::string key = "rate_limit:10.77." + std::to_string(c / 10) + "." + std::to_string(c % 10 + 1);
        EXPECT_GT(cluster_.command_for_key(key, {"PTTL", key}).integer, 0) << key;
    }
    for (const auto& address : cluster_.addresses()) {
        EXPECT_EQ(scrape(admin_port_, "gatewayd_redis_up{node=\"" + address + "\"}"), 1.0) << address;
    }
    EXPECT_EQ(scrape(admin_port_, "gatewayd_rate_limit_store_errors_total"), 0.0);
}

TEST_F(RedisClusterTest, RulesWhoseKeysLiveInDifferentSlotsAreDecidedTogetherAndChargedOnlyWhenAllPass) {
    gateway_process gateway(dir_, settings("enabled: true, requests: 100, window: 1m, algorithm: sliding_window, "
                                           "on_store_error: deny, headers: true, "
                                           "rules: [{name: burst, requests: 3, window: 1m, algorithm: gcra, burst: 3}]"));
    ASSERT_TRUE(wait_map(gateway)) << gateway.log();
    int spanning = 0;
    for (int c = 0; c < 20; ++c) {
        const std::string client = "10.78.0." + std::to_string(c + 1);
        const std::string quota = "rate_limit:" + client;
        const std::string burst = "rate_limit:burst:" + client;
        if (cluster_.slot_of(quota) != cluster_.slot_of(burst)) ++spanning;
        std::vector<int> got;
        std::vector<std::string> remaining;
        for (int i = 0; i < 5; ++i) {
            const auto response = gateway.request("GET", "/", from(client));
            got.push_back(response.status);
            remaining.push_back(response.header("X-RateLimit-Remaining").value_or("-"));
        }
        EXPECT_EQ(got, (std::vector<int>{200, 200, 200, 429, 429})) << client;
        EXPECT_EQ(remaining, (std::vector<std::string>{"2", "1", "0", "0", "0"})) << client;
        // The sliding window was charged for the 3 requests that passed, not for the refused one.
        EXPECT_EQ(cluster_.command_for_key(quota, {"HGET", quota, "c"}).text, "3") << client;
    }
    EXPECT_GT(spanning, 10) << "most clients' two keys should live in different slots";
    EXPECT_EQ(scrape(admin_port_, "gatewayd_rate_limit_store_errors_total"), 0.0);
}

// One client's requests from a thread, on fresh connections, until it has sent `total`.
class client_loop {
public:
    client_loop(const gateway_process& gateway, std::string client, std::size_t total)
        : gateway_(gateway), client_(std::move(client)), total_(total) {
        thread_ = std::thread([this] { run(); });
    }
    ~client_loop() {
        if (thread_.joinable()) thread_.join();
    }
    client_loop(const client_loop&) = delete;
    client_loop& operator=(const client_loop&) = delete;

    std::size_t done() const { return done_.load(); }
    void join() {
        if (thread_.joinable()) thread_.join();
    }
    std::map<int, std::size_t> statuses() const {
        std::lock_guard lock(mutex_);
        return statuses_;
    }

private:
    void run() {
        for (std::size_t i = 0; i < total_; ++i) {
            int status = 0;
            try {
                status = gateway_.request("GET", "/", from(client_)).status;
            } catch (const std::exception&) {
                status = -1;
            }
            {
                std::lock_guard lock(mutex_);
                ++statuses_[status];
            }
            ++done_;
            std::this_thread::sleep_for(1ms);
        }
    }

    const gateway_process& gateway_;
    std::string client_;
    std::size_t total_;
    std::atomic<std::size_t> done_{0};
    mutable std::mutex mutex_;
    std::map<int, std::size_t> statuses_;
    std::thread thread_;
};

TEST_F(RedisClusterTest, ASlotMigratedWhileItsClientKeepsSendingLeavesTheLimitExact) {
    gateway_process gateway(
        dir_, settings("enabled: true, requests: 1000, window: 1m, on_store_error: deny, headers: true", "500ms"));
    ASSERT_TRUE(wait_map(gateway)) << gateway.log();
    const std::string client = "10.79.0.1";
    const std::uint16_t slot = cluster_.slot_of("rate_limit:" + client);
    const std::size_t from_node = cluster_.owner_of(slot);
    const std::size_t to_node = (from_node + 1) % cluster_.size();

    client_loop load(gateway, client, 1100);
    ASSERT_TRUE(wait_until([&] { return load.done() >= 50; }, 10s));
    cluster_.begin_migration(slot, to_node);
    ASSERT_TRUE(wait_until([&] { return load.done() >= 150; }, 10s));
    cluster_.migrate_keys(slot, to_node);  // the key is on the new node; the old one answers ASK
    ASSERT_TRUE(wait_until([&] { return load.done() >= 250; }, 10s));
    cluster_.finish_migration(slot, to_node);  // the old node answers MOVED from now on
    ASSERT_LT(load.done(), 900u) << "the migration must end while the client is under its limit";
    load.join();

    const auto statuses = load.statuses();
    EXPECT_EQ(statuses, (std::map<int, std::size_t>{{200, 1000}, {429, 100}})) << gateway.log();
    EXPECT_EQ(cluster_.owner_of(slot), to_node);
    const std::string key = "rate_limit:" + client;
    EXPECT_EQ(cluster_.node(to_node).command({"GET", key}).text, "1001")
        << "1000 counted, then the 1001st refused; the rest answered from the gateway's memory of the refusal";
    EXPECT_GT(scrape(admin_port_, "gatewayd_redis_redirects_total{kind=\"ask\"}").value_or(0), 0.0);
    EXPECT_GT(scrape(admin_port_, "gatewayd_redis_redirects_total{kind=\"moved\"}").value_or(0), 0.0);
    EXPECT_EQ(scrape(admin_port_, "gatewayd_rate_limit_store_errors_total"), 0.0);
}

}  // namespace
}  // namespace it
