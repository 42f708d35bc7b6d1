// Our cluster client in process against a real Redis Cluster of three primaries: key slots as
// the cluster computes them, the slot map as it answers it, checks whose keys span slots decided
// as in memory, scripts sent again to nodes that lost them, and a slot migrated under our feet.
#include "gatewayd/limit/fixed_window.hpp"
#include "gatewayd/limit/gcra.hpp"
#include "gatewayd/limit/memory_store.hpp"
#include "gatewayd/limit/redis_limit_store.hpp"
#include "gatewayd/limit/sliding_window.hpp"
#include "gatewayd/redis/key_slot.hpp"
#include "gatewayd/redis/slot_map.hpp"

#include "harness.hpp"

#include <boost/asio/co_spawn.hpp>
#include <gtest/gtest.h>

#include <deque>
#include <random>

namespace {

using namespace std::chrono_literals;

const gw::fixed_window fixed;
const gw::sliding_window sliding;
const gw::gcra gcra;

gw::redis_reply ours(const it::redis_reply& theirs) {
    gw::redis_reply out;
    switch (theirs.type) {
    case it::redis_reply::kind::status: out.type = gw::redis_reply::kind::status; break;
    case it::redis_reply::kind::error: out.type = gw::redis_reply::kind::error; break;
    case it::redis_reply::kind::integer: out.type = gw::redis_reply::kind::integer; break;
    case it::redis_reply::kind::bulk: out.type = gw::redis_reply::kind::string; break;
    case it::redis_reply::kind::array: out.type = gw::redis_reply::kind::array; break;
    case it::redis_reply::kind::nil: out.type = gw::redis_reply::kind::nil; break;
    }
    out.text = theirs.text;
    out.integer = theirs.integer;
    for (const auto& element : theirs.elements) out.elements.push_back(ours(element));
    return out;
}

// One decision of the store, as a coroutine of its own (no capturing coroutine lambdas).
gw::net::awaitable<bool> decide(gw::redis_limit_store* store, const std::vector<gw::limit_check>* checks,
                                gw::limit_verdicts* out) {
    co_return co_await store->decide(*checks, 500ms, *out);
}

class ClusterStoreTest : public ::testing::Test {
protected:
    it::temp_dir dir_;
    it::redis_cluster cluster_{dir_};
    boost::asio::io_context io_;
    std::deque<gw::limit_rule> rules_;
    std::unique_ptr<gw::redis_limit_store> store_;

    void TearDown() override { store_.reset(); }

    gw::redis_config settings() const {
        gw::redis_config out;
        out.mode = "cluster";
        for (const auto& address : cluster_.addresses()) out.nodes.push_back(*gw::parse_host_port(address));
        out.timeout = 500ms;
        return out;
    }

    gw::redis_limit_store& store() {
        if (!store_) store_ = std::make_unique<gw::redis_limit_store>(io_, settings());
        return *store_;
    }

    const gw::limit_rule& rule(const gw::limit_algorithm& algorithm, gw::limit_params params, bool shadow = false) {
        const std::string name = "r" + std::to_string(rules_.size());
        rules_.push_back(gw::make_limit_rule(name, &algorithm, params, shadow, "test:" + name + ":"));
        return rules_.back();
    }

    // Runs one decision on the loop (which also runs the client's own background work).
    bool run_decide(const std::vector<gw::limit_check>& checks, gw::limit_verdicts& out) {
        std::optional<bool> result;
        boost::asio::co_spawn(io_, decide(&store(), &checks, &out), [&](std::exception_ptr failure, bool decided) {
            EXPECT_FALSE(failure);
            result = decided && !failure;
        });
        const auto deadline = std::chrono::steady_clock::now() + 10s;
        while (!result && std::chrono::steady_clock::now() < deadline) io_.run_for(5ms);
        EXPECT_TRUE(result.has_value()) << "no decision within 10 s";
        return result.value_or(false);
    }

    void run_for(std::chrono::milliseconds time) { io_.run_for(time); }

    gw::redis_counters counters() const {
        gw::redis_counters out;
        if (store_) store_->sample(out);
        return out;
    }

    long long command_calls(const std::string& command) const {
        long long calls = 0;
        for (std::size_t i = 0; i < cluster_.size(); ++i) {
            const auto stats = cluster_.node(i).command_calls();
            if (const auto found = stats.find(command); found != stats.end()) calls += found->second;
        }
        return calls;
    }
};

TEST_F(ClusterStoreTest, KeySlotsAreTheOnesTheClusterComputes) {
    std::vector<std::string> keys{"", "{}", "{", "}", "a{}b", "foo{}{bar}", "foo{{bar}}zap", "foo{bar}{zap}",
                                  "{user1000}.following", "rate_limit:127.0.0.1", "rate_limit:burst:all"};
    std::mt19937 random(7);
    for (int i = 0; i < 2000; ++i) {
        std::string key = "rate_limit:";
        if (i % 5 == 0) key += "{";
        key += std::to_string(random() % 256) + "." + std::to_string(random() % 256);
        if (i % 5 == 0) key += "}";
        if (i % 7 == 0) key += ":" + std::string(1, static_cast<char>(random() % 256));
        keys.push_back(key);
    }
    std::vector<std::vector<std::string>> commands;
    for (const auto& key : keys) commands.push_back({"CLUSTER", "KEYSLOT", key});
    const auto replies = cluster_.node(0).pipeline(commands, 20s);
    ASSERT_EQ(replies.size(), keys.size());
    for (std::size_t i = 0; i < keys.size(); ++i) {
        ASSERT_EQ(gw::key_slot(keys[i]), replies[i].integer) << "key \"" << keys[i] << "\"";
    }
}

TEST_F(ClusterStoreTest, TheSlotMapIsTheClustersOwn) {
    const auto reply = cluster_.node(1).command({"CLUSTER", "SLOTS"});
    const auto map = gw::slot_map::from_cluster_slots(ours(reply), "127.0.0.1");
    ASSERT_TRUE(map);
    EXPECT_EQ(map->nodes().size(), 3u);
    EXPECT_EQ(map->covered(), 16384u);
    for (const std::uint16_t slot : {0, 1, 5460, 5461, 10922, 10923, 16383}) {
        const auto& owner = map->nodes().at(map->owner(slot));
        EXPECT_EQ(owner.port, cluster_.node(cluster_.owner_of(slot)).port()) << "slot " << slot;
    }
}

TEST_F(ClusterStoreTest, ChecksWhoseKeysSpanSlotsDecideAsInMemory) {
    // Long windows: the test's own clock and Redis's cannot disagree on any verdict.
    const auto& quota = rule(sliding, {6, 1h, 0});
    const auto& burst = rule(gcra, {10, 1h, 4});
    const auto& counter = rule(fixed, {8, 1h, 0});
    const auto& trial = rule(gcra, {3, 1h, 0}, true);
    const std::vector<gw::limit_check> checks{{&quota, "test:r0:client"}, {&burst, "test:r1:client"},
                                              {&counter, "test:r2:client"}, {&trial, "test:r3:client"}};
    std::set<std::uint16_t> slots;
    for (const auto& check : checks) slots.insert(gw::key_slot(check.key));
    ASSERT_GT(slots.size(), 1u) << "the test needs keys in several slots";
    gw::memory_store memory(100);
    std::size_t admitted = 0;
    for (int i = 0; i < 12; ++i) {
        gw::limit_verdicts got;
        ASSERT_TRUE(run_decide(checks, got)) << "request " << i;
        gw::limit_verdicts expected;
        memory.check(checks, std::chrono::duration_cast<std::chrono::microseconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count(),
                     expected);
        ASSERT_EQ(got.size(), checks.size());
        for (std::size_t c = 0; c < checks.size(); ++c) {
            EXPECT_EQ(got[c].allowed, expected[c].allowed) << "request " << i << ", check " << c;
            EXPECT_EQ(got[c].remaining, expected[c].remaining) << "request " << i << ", check " << c;
        }
        if (gw::passes(checks, got)) ++admitted;
    }
    EXPECT_EQ(admitted, 4u) << "gcra's burst of 4 binds first";
    // Refused requests were not charged to the sliding window: 4 counted, not 12.
    EXPECT_EQ(cluster_.command_for_key("test:r0:client", {"HGET", "test:r0:client", "c"}).text, "4");
    EXPECT_EQ(cluster_.command_for_key("test:r2:client", {"GET", "test:r2:client"}).text, "12")
        << "a fixed window counts every request it sees";
}

TEST_F(ClusterStoreTest, ChecksInOneSlotTakeOneRun) {
    const auto& quota = rule(sliding, {6, 1h, 0});
    const auto& burst = rule(gcra, {10, 1h, 4});
    const std::vector<gw::limit_check> checks{{&quota, "{client}:quota"}, {&burst, "{client}:burst"}};
    gw::limit_verdicts got;
    ASSERT_TRUE(run_decide(checks, got));  // connects and loads the script first
    cluster_.node(cluster_.owner_of(gw::key_slot("{client}"))).reset_stats();
    ASSERT_TRUE(run_decide(checks, got));
    const auto stats = cluster_.node(cluster_.owner_of(gw::key_slot("{client}"))).command_calls();
    EXPECT_EQ(stats.at("evalsha"), 1);
    EXPECT_TRUE(got[0].allowed && got[1].allowed);
    EXPECT_EQ(got[1].remaining, 2u);
}

TEST_F(ClusterStoreTest, ANodeThatLostTheScriptGetsItsTextAgain) {
    const auto& limit = rule(fixed, {100, 1h, 0});
    std::vector<gw::limit_check> checks;
    for (int i = 0; i < 30; ++i) checks.push_back({&limit, "test:noscript:" + std::to_string(i)});
    std::set<std::size_t> owners;
    for (const auto& check : checks) owners.insert(cluster_.owner_of(gw::key_slot(check.key)));
    ASSERT_EQ(owners.size(), 3u);
    for (const auto& check : checks) {
        const std::vector<gw::limit_check> one{check};
        gw::limit_verdicts got;
        ASSERT_TRUE(run_decide(one, got));
    }
    for (std::size_t i = 0; i < cluster_.size(); ++i) {
        cluster_.node(i).command({"SCRIPT", "FLUSH"});
        cluster_.node(i).reset_stats();
    }
    for (const auto& check : checks) {
        const std::vector<gw::limit_check> one{check};
        gw::limit_verdicts got;
        ASSERT_TRUE(run_decide(one, got)) << check.key;
        EXPECT_EQ(got[0].remaining, 98u);
    }
    EXPECT_EQ(command_calls("eval"), 3) << "one EVAL per node, EVALSHA again after it";
    EXPECT_EQ(command_calls("evalsha"), 30);
}

TEST_F(ClusterStoreTest, AMigratingSlotIsFollowedWithAskThenMovedAndCountsStayExact) {
    const auto& limit = rule(fixed, {1000, 1h, 0});
    const std::vector<gw::limit_check> checks{{&limit, "test:moving"}};
    const std::uint16_t slot = gw::key_slot("test:moving");
    const std::size_t from = cluster_.owner_of(slot);
    const std::size_t to = (from + 1) % cluster_.size();
    gw::limit_verdicts got;
    int sent = 0;
    auto send = [&] {
        ASSERT_TRUE(run_decide(checks, got)) << "request " << sent;
        ++sent;
        EXPECT_EQ(got[0].remaining, static_cast<std::uint64_t>(1000 - sent));
    };
    for (int i = 0; i < 5; ++i) send();
    cluster_.begin_migration(slot, to);
    for (int i = 0; i < 5; ++i) send();  // the key is still on its old node: served there
    cluster_.migrate_keys(slot, to);
    for (int i = 0; i < 5; ++i) send();  // ASK: ASKING + the script on the new node
    EXPECT_EQ(counters().ask, 5u);
    EXPECT_EQ(counters().moved, 0u);
    cluster_.finish_migration(slot, to);
    for (int i = 0; i < 5; ++i) send();  // MOVED once, then straight to the new owner
    EXPECT_EQ(counters().moved, 1u);
    EXPECT_EQ(cluster_.node(to).command({"GET", "test:moving"}).text, "20");
    EXPECT_GT(cluster_.node(to).command({"PTTL", "test:moving"}).integer, 0);
}

}  // namespace
