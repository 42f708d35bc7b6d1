#include "gatewayd/limit/fixed_window.hpp"

#include <gtest/gtest.h>

namespace {

using namespace std::chrono_literals;

const gw::fixed_window algorithm;
const gw::limit_params hundred_a_minute{100, 60s, 0};

TEST(FixedWindow, TheWindowStartsWithTheFirstRequestAndCountsDown) {
    gw::limit_cell cell;
    const std::int64_t t0 = 3'600'000'000;  // µs
    auto first = algorithm.decide(cell, t0, hundred_a_minute);
    EXPECT_TRUE(first.allowed);
    EXPECT_EQ(first.remaining, 99u);
    EXPECT_EQ(first.reset, 60s);
    auto later = algorithm.decide(cell, t0 + 10'000'000, hundred_a_minute);
    EXPECT_EQ(later.remaining, 98u);
    EXPECT_EQ(later.reset, 50s);
}

TEST(FixedWindow, RequestNumberLimitPlusOneIsTheFirstRefusedAndRefusalsAreCounted) {
    gw::limit_cell cell;
    const gw::limit_params three{3, 10s, 0};
    for (int i = 0; i < 3; ++i) EXPECT_TRUE(algorithm.decide(cell, 1'000'000, three).allowed) << i;
    const auto refused = algorithm.decide(cell, 2'500'000, three);
    EXPECT_FALSE(refused.allowed);
    EXPECT_EQ(refused.remaining, 0u);
    EXPECT_EQ(refused.retry_after, 8'500ms);
    EXPECT_EQ(cell.values[0], 4) << "a refused request is counted, as INCR counts it";
    EXPECT_TRUE(algorithm.charges_refused());
}

TEST(FixedWindow, AWindowThatEndedStartsAfresh) {
    gw::limit_cell cell;
    const gw::limit_params one{1, 10s, 0};
    EXPECT_TRUE(algorithm.decide(cell, 0, one).allowed);
    EXPECT_FALSE(algorithm.decide(cell, 9'999'000, one).allowed);
    const auto fresh = algorithm.decide(cell, 10'000'000, one);
    EXPECT_TRUE(fresh.allowed);
    EXPECT_EQ(fresh.reset, 10s);
    EXPECT_EQ(algorithm.expires_at(cell, one), 20'000'000);
}

TEST(FixedWindow, ItsLuaKeepsATtlOnEveryKey) {
    const std::string_view lua = algorithm.lua_decide();
    EXPECT_NE(lua.find("INCR"), std::string_view::npos);
    EXPECT_NE(lua.find("PEXPIRE"), std::string_view::npos);
    EXPECT_NE(lua.find("reset < 0"), std::string_view::npos) << "a key that lost its TTL must get one again";
    EXPECT_EQ(gw::find_limit_algorithm("fixed_window"), gw::find_limit_algorithm(algorithm.name()));
    EXPECT_EQ(gw::find_limit_algorithm("leaky_bucket"), nullptr);
}

}  // namespace
