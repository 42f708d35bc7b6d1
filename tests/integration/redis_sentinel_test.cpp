// redis.mode sentinel seen from outside: a primary, a replica and a sentinel started by the test
// (quorum 1, down-after 1 s), a gateway that finds the primary through the sentinel, and a
// failover under load: the primary killed with SIGKILL, or moved by SENTINEL FAILOVER.
#include "harness.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <iostream>
#include <map>
#include <mutex>
#include <thread>

namespace it {
namespace {

// The failover must be followed well within this: down-after (1 s), the sentinel's election and
// promotion (about a second) and the gateway reconnecting.
constexpr millis failover_bound = 10s;

long long counter(const redis_server& redis, const std::string& key) {
    try {
        const auto value = redis.command({"GET", key}, 500ms);
        return value.type == redis_reply::kind::bulk ? std::stoll(value.text) : 0;
    } catch (const std::exception&) {
        return -1;
    }
}

bool replicating(const redis_server& replica) {
    const auto info = replica.command({"INFO", "replication"});
    return info.text.find("master_link_status:up") != std::string::npos;
}

// GET requests one after another from a thread, each on a fresh connection, until stopped.
class request_loop {
public:
    explicit request_loop(const gateway_process& gateway) : gateway_(gateway) {
        thread_ = std::thread([this] { run(); });
    }
    ~request_loop() { stop(); }
    request_loop(const request_loop&) = delete;
    request_loop& operator=(const request_loop&) = delete;

    void stop() {
        stop_ = true;
        if (thread_.joinable()) thread_.join();
    }
    std::size_t done() const { return done_.load(); }
    std::map<int, std::size_t> statuses() const {
        std::lock_guard lock(mutex_);
        return statuses_;
    }
    std::vector<std::string> errors() const {
        std::lock_guard lock(mutex_);
        return errors_;
    }
    millis slowest() const {
        std::lock_guard lock(mutex_);
        return slowest_;
    }

private:
    void run() {
        while (!stop_) {
            const auto start = steady::now();
            std::optional<http_response> response;
            std::string error;
            try {
                response = gateway_.request("GET", "/load");
            } catch (const std::exception& e) {
                error = e.what();
            }
            const auto took = std::chrono::duration_cast<millis>(steady::now() - start);
            {
                std::lock_guard lock(mutex_);
                if (response) ++statuses_[response->status];
                else errors_.push_back(error);
                slowest_ = std::max(slowest_, took);
            }
            ++done_;
            std::this_thread::sleep_for(2ms);
        }
    }

    const gateway_process& gateway_;
    std::atomic<bool> stop_{false};
    std::atomic<std::size_t> done_{0};
    mutable std::mutex mutex_;
    std::map<int, std::size_t> statuses_;
    std::vector<std::string> errors_;
    millis slowest_{0};
    std::thread thread_;
};

class RedisSentinelTest : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_TRUE(wait_until([&] { return replicating(replica_); }, 10s)) << "the replica never caught up";
        ASSERT_TRUE(wait_until([&] { return sentinel_.knows_replica(replica_.port()); }, 20s))
            << "the sentinel never saw the replica";
        ASSERT_EQ(sentinel_.primary(), primary_.address());
    }

    gateway_settings settings() const {
        return {.backends = {backend_.url()},
                .admin = admin_listen(admin_port_),
                .rate_limit = "enabled: true, requests: 1000000, window: 1h, on_store_error: memory",
                .redis = "mode: sentinel, sentinels: [\"" + sentinel_.address() + "\"], timeout: 100ms"};
    }

    std::string primary_line(const redis_server& node) const {
        return "redis sentinel: primary of \"mymaster\" is " + node.address();
    }

    temp_dir dir_;
    mock_backend backend_{dir_};
    redis_server primary_{dir_};
    redis_server replica_{dir_, {"--replicaof", "127.0.0.1", std::to_string(primary_.port())}};
    redis_sentinel sentinel_{dir_, primary_.port()};
    std::uint16_t admin_port_ = free_port();
    const std::string key_ = "rate_limit:127.0.0.1";
};

TEST_F(RedisSentinelTest, ThePrimaryIsFoundThroughTheSentinelAndCountsThere) {
    gateway_process gateway(dir_, settings());
    ASSERT_TRUE(wait_until([&] { return count_lines_containing(gateway.log_path(), primary_line(primary_)) > 0; }, 5s))
        << gateway.log();
    for (int i = 0; i < 5; ++i) EXPECT_EQ(gateway.request("GET", "/").status, 200);
    EXPECT_EQ(counter(primary_, key_), 5);
    EXPECT_EQ(scrape(admin_port_, "gatewayd_redis_up{node=\"" + primary_.address() + "\"}"), 1.0);
    EXPECT_EQ(scrape(admin_port_, "gatewayd_redis_up{node=\"" + sentinel_.address() + "\"}"), 1.0);
    EXPECT_EQ(scrape(admin_port_, "gatewayd_redis_failovers_total"), 0.0);
}

TEST_F(RedisSentinelTest, APrimaryKilledUnderLoadIsFollowedWithoutA5xxAndCountingGoesOnAtTheNewOne) {
    gateway_process gateway(dir_, settings());
    ASSERT_TRUE(wait_until([&] { return count_lines_containing(gateway.log_path(), primary_line(primary_)) > 0; }, 5s))
        << gateway.log();
    request_loop load(gateway);
    ASSERT_TRUE(wait_until([&] { return counter(primary_, key_) >= 50; }, 5s)) << "no counting on the primary";

    const auto killed = steady::now();
    primary_.kill();
    const long long at_kill = counter(replica_, key_);
    // Counting goes on once the replica, promoted, counts what the gateway sends it.
    const bool resumed = wait_until([&] { return counter(replica_, key_) > at_kill; }, 20s, 5ms);
    const auto took = std::chrono::duration_cast<millis>(steady::now() - killed);
    ASSERT_TRUE(resumed) << gateway.log();
    std::cout << "[ measured ] primary killed -> counting on the new primary: " << took.count() << " ms" << std::endl;
    RecordProperty("failover_ms", static_cast<int>(took.count()));
    EXPECT_LT(took, failover_bound);

    const auto before = load.done();
    ASSERT_TRUE(wait_until([&] { return load.done() >= before + 100; }, 10s));
    load.stop();

    const auto statuses = load.statuses();
    std::size_t total = 0;
    for (const auto& [status, count] : statuses) {
        EXPECT_EQ(status, 200) << count << " answer(s) with status " << status;
        total += count;
    }
    EXPECT_GT(total, 200u);
    EXPECT_TRUE(load.errors().empty()) << load.errors().front();
    EXPECT_LT(load.slowest(), 1000ms) << "no request waits for the failover";
    EXPECT_EQ(scrape(admin_port_, "gatewayd_redis_failovers_total"), 1.0);
    EXPECT_EQ(scrape(admin_port_, "gatewayd_redis_up{node=\"" + replica_.address() + "\"}"), 1.0);
    EXPECT_EQ(count_lines_containing(gateway.log_path(), "redis sentinel: primary of \"mymaster\" changed from " +
                                                            primary_.address() + " to " + replica_.address()),
              1u)
        << gateway.log();
    EXPECT_GT(scrape(admin_port_, "gatewayd_rate_limit_store_errors_total").value_or(0), 0.0)
        << "the outage was counted as store errors (on_store_error decided)";
}

TEST_F(RedisSentinelTest, ASwitchAnnouncedByTheSentinelIsFollowedWhileTheOldPrimaryLives) {
    gateway_process gateway(dir_, settings());
    ASSERT_TRUE(wait_until([&] { return count_lines_containing(gateway.log_path(), primary_line(primary_)) > 0; }, 5s))
        << gateway.log();
    request_loop load(gateway);
    ASSERT_TRUE(wait_until([&] { return counter(primary_, key_) >= 20; }, 5s));
    const auto reply = sentinel_.command({"SENTINEL", "FAILOVER", "mymaster"});
    ASSERT_NE(reply.type, redis_reply::kind::error) << reply.text;
    ASSERT_TRUE(wait_until([&] { return scrape(admin_port_, "gatewayd_redis_failovers_total") == 1.0; }, 15s))
        << gateway.log();
    const long long at_switch = counter(replica_, key_);
    ASSERT_TRUE(wait_until([&] { return counter(replica_, key_) > at_switch + 20; }, 5s)) << gateway.log();
    load.stop();
    for (const auto& [status, count] : load.statuses()) EXPECT_EQ(status, 200) << count << " x " << status;
    EXPECT_EQ(count_lines_containing(gateway.log_path(), "+switch-master \"mymaster\" from " + primary_.address() +
                                                            " to " + replica_.address()),
              1u)
        << gateway.log();
}

}  // namespace
}  // namespace it
