#include "gatewayd/limit/limit_check.hpp"
#include "gatewayd/limit/memory_store.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <vector>

namespace {

using namespace std::chrono_literals;

// Allows while its cell counts less than `requests`; charging adds one.
class counting final : public gw::limit_algorithm {
public:
    std::string_view name() const override { return "counting"; }
    gw::limit_verdict decide(gw::limit_cell& cell, std::int64_t, const gw::limit_params& params) const override {
        const auto used = static_cast<std::uint64_t>(cell.values[0]);
        if (used < params.requests) return {true, params.requests - used - 1, 1s, {}};
        return {false, 0, 1s, 1s};
    }
    void charge(gw::limit_cell& cell, std::int64_t, const gw::limit_params&) const override { ++cell.values[0]; }
    bool charges_refused() const override { return false; }
    std::int64_t expires_at(const gw::limit_cell&, const gw::limit_params&) const override { return 1'000'000; }
    std::string_view lua_decide() const override { return ""; }
    std::string_view lua_charge() const override { return ""; }
};

const counting algorithm;

// Rules live as long as the checks that point at them.
std::deque<gw::limit_rule> rules;

gw::limit_check check(std::string key, std::uint64_t requests, bool shadow = false) {
    rules.push_back(gw::make_limit_rule(key, &algorithm, {requests, 1s, 0}, shadow, ""));
    return {&rules.back(), std::move(key)};
}

TEST(LimitCheck, ARequestRefusedByOneRuleIsChargedToNone) {
    gw::memory_store store(100);
    std::vector<gw::limit_check> checks{check("burst", 1), check("quota", 5)};
    gw::limit_verdicts verdicts;
    store.check(checks, 0, verdicts);
    ASSERT_EQ(verdicts.size(), 2u);
    EXPECT_TRUE(gw::passes(checks, verdicts));
    for (int i = 0; i < 3; ++i) {
        store.check(checks, 0, verdicts);
        EXPECT_FALSE(verdicts[0].allowed);
        EXPECT_FALSE(gw::passes(checks, verdicts));
    }
    // The quota was charged once (the first request), not for the three the burst refused.
    EXPECT_EQ(verdicts[1].remaining, 3u);
}

TEST(LimitCheck, AShadowRuleNeverRefusesButIsReportedAndChargedLikeAnEnforcingOne) {
    gw::memory_store store(100);
    std::vector<gw::limit_check> checks{check("enforcing", 10), check("trial", 1, true)};
    gw::limit_verdicts verdicts;
    store.check(checks, 0, verdicts);
    EXPECT_TRUE(verdicts[1].allowed);
    store.check(checks, 0, verdicts);
    EXPECT_FALSE(verdicts[1].allowed) << "the shadow rule would have refused";
    EXPECT_TRUE(gw::passes(checks, verdicts)) << "but it does not";
    EXPECT_EQ(verdicts[0].remaining, 8u) << "the enforcing rule counted both requests";
}

TEST(MemoryStore, StaysBoundedDroppingExpiredCellsFirst) {
    gw::memory_store store(3);
    gw::limit_verdicts verdicts;
    for (int i = 0; i < 10; ++i) {
        const std::vector<gw::limit_check> one{check("client-" + std::to_string(i), 5)};
        store.check(one, 0, verdicts);
        EXPECT_LE(store.size(), 3u);
    }
}

}  // namespace
