// The limit script in a real Redis decides as the memory store does: the same rules, the same
// requests at the same (given) times, the same verdicts. Time-based algorithms only: their
// Redis state depends on the time the gateway passes, not on Redis's own expiry clock.
#include "gatewayd/limit/gcra.hpp"
#include "gatewayd/limit/limit_script.hpp"
#include "gatewayd/limit/memory_store.hpp"
#include "gatewayd/limit/sliding_window.hpp"

#include "harness.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <random>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;

const gw::sliding_window sliding;
const gw::gcra gcra;
constexpr std::int64_t epoch_us = 1'733'000'000'000'000;

class LimitScriptTest : public ::testing::Test {
protected:
    it::temp_dir dir_;
    it::redis_server redis_{dir_};
    std::deque<gw::limit_rule> rules_;

    const gw::limit_rule& rule(const gw::limit_algorithm& algorithm, gw::limit_params params, bool shadow = false) {
        const std::string name = "r" + std::to_string(rules_.size());
        rules_.push_back(gw::make_limit_rule(name, &algorithm, params, shadow, "test:" + name + ":"));
        return rules_.back();
    }

    // The script's verdicts for `checks` at `now_us`.
    gw::limit_verdicts in_redis(const std::vector<gw::limit_check>& checks, std::int64_t now_us) {
        std::array<char, 24> now_text;
        boost::container::small_vector<std::string_view, 12> args;
        gw::limit_script_args(checks, now_us, now_text, args);
        std::vector<std::string> command{"EVAL", gw::limit_script(), std::to_string(checks.size())};
        for (const auto& check : checks) command.push_back(check.key);
        for (const auto arg : args) command.emplace_back(arg);
        const auto reply = redis_.command(command);
        EXPECT_EQ(reply.type, it::redis_reply::kind::array) << reply.text;
        gw::redis_reply ours;
        ours.type = gw::redis_reply::kind::array;
        for (const auto& element : reply.elements) {
            gw::redis_reply integer;
            integer.type = gw::redis_reply::kind::integer;
            integer.integer = element.integer;
            ours.elements.push_back(integer);
        }
        gw::limit_verdicts verdicts;
        EXPECT_TRUE(gw::decode_limit_reply(ours, checks.size(), verdicts));
        return verdicts;
    }

    // Replays `times` (µs after epoch_us) through both stores and compares every verdict.
    void expect_same(const std::vector<gw::limit_check>& checks, const std::vector<std::int64_t>& times) {
        gw::memory_store memory(1000);
        std::size_t admitted = 0;
        for (const auto t : times) {
            gw::limit_verdicts expected;
            memory.check(checks, epoch_us + t, expected);
            const auto got = in_redis(checks, epoch_us + t);
            ASSERT_EQ(got.size(), expected.size());
            for (std::size_t i = 0; i < got.size(); ++i) {
                ASSERT_EQ(got[i].allowed, expected[i].allowed) << "check " << i << " at +" << t << " µs";
                ASSERT_EQ(got[i].remaining, expected[i].remaining) << "check " << i << " at +" << t << " µs";
                ASSERT_EQ(got[i].reset, expected[i].reset) << "check " << i << " at +" << t << " µs";
                ASSERT_EQ(got[i].retry_after, expected[i].retry_after) << "check " << i << " at +" << t << " µs";
            }
            if (gw::passes(checks, got)) ++admitted;
        }
        // Both refused and admitted requests were seen: the comparison covered both branches.
        EXPECT_GT(admitted, 0u);
        EXPECT_LT(admitted, times.size());
    }
};

// A mix of a steady over-limit stream, bursts, quiet gaps and jumps over whole windows.
std::vector<std::int64_t> trace(std::uint32_t seed, std::int64_t span_us, int count) {
    std::mt19937 random(seed);
    std::vector<std::int64_t> times;
    std::int64_t t = 0;
    for (int i = 0; i < count && t < span_us; ++i) {
        const int shape = static_cast<int>(random() % 10);
        if (shape < 6) t += static_cast<std::int64_t>(random() % 50'000);         // under 50 ms apart
        else if (shape < 9) t += 0;                                               // at once
        else t += static_cast<std::int64_t>(random() % 3'000'000);                // a pause of up to 3 s
        times.push_back(t);
    }
    return times;
}

TEST_F(LimitScriptTest, SlidingWindowDecidesAsInMemory) {
    const auto& r = rule(sliding, {10, 1s, 0});
    expect_same({{&r, "test:sliding:a"}}, trace(1, 20'000'000, 600));
    const auto& odd = rule(sliding, {7, 1300ms, 0});
    expect_same({{&odd, "test:sliding:b"}}, trace(2, 20'000'000, 600));
}

TEST_F(LimitScriptTest, GcraDecidesAsInMemory) {
    const auto& r = rule(gcra, {10, 1s, 3});
    expect_same({{&r, "test:gcra:a"}}, trace(3, 20'000'000, 600));
    const auto& no_burst = rule(gcra, {7, 1300ms, 0});
    expect_same({{&no_burst, "test:gcra:b"}}, trace(4, 20'000'000, 600));
}

TEST_F(LimitScriptTest, SeveralRulesAreDecidedAndChargedTogetherAsInMemory) {
    const auto& burst = rule(gcra, {5, 1s, 2});
    const auto& quota = rule(sliding, {20, 5s, 0});
    const auto& trial = rule(gcra, {2, 1s, 0}, true);
    const std::vector<gw::limit_check> checks{{&burst, "test:multi:burst"}, {&quota, "test:multi:quota"},
                                              {&trial, "test:multi:trial"}};
    expect_same(checks, trace(5, 30'000'000, 800));
}

TEST_F(LimitScriptTest, EveryKeyTheScriptWritesHasATtl) {
    const auto& s = rule(sliding, {3, 1s, 0});
    const auto& g = rule(gcra, {3, 1s, 0});
    in_redis({{&s, "test:ttl:sliding"}, {&g, "test:ttl:gcra"}}, epoch_us);
    EXPECT_EQ(redis_.keys_without_ttl(), std::vector<std::string>{});
    EXPECT_GT(redis_.pttl("test:ttl:sliding"), 0);
    EXPECT_GT(redis_.pttl("test:ttl:gcra"), 0);
}

}  // namespace
