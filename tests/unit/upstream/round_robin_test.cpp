#include "gatewayd/upstream/round_robin.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace {

// `count` pool members (never dereferenced: round robin only counts them).
std::vector<std::shared_ptr<gw::backend>> members(std::size_t count) { return std::vector<std::shared_ptr<gw::backend>>(count); }

std::vector<std::size_t> picks(gw::balancer& rr, std::size_t count, std::vector<bool> up, int n) {
    std::vector<std::size_t> out;
    const auto pool = members(count);
    for (int i = 0; i < n; ++i) {
        auto is_up = [&](std::size_t b) { return static_cast<bool>(up[b]); };
        const auto choice = rr.pick(pool, gw::candidate_filter(is_up));
        out.push_back(choice ? *choice : 99);
    }
    return out;
}

TEST(RoundRobin, CyclesThroughAllInOrder) {
    gw::round_robin rr;
    EXPECT_EQ(picks(rr, 3, {true, true, true}, 7), (std::vector<std::size_t>{0, 1, 2, 0, 1, 2, 0}));
}

TEST(RoundRobin, SkipsUnavailable) {
    gw::round_robin rr;
    EXPECT_EQ(picks(rr, 3, {true, false, true}, 4), (std::vector<std::size_t>{0, 2, 0, 2}));
}

TEST(RoundRobin, NoneAvailableGivesNothing) {
    gw::round_robin rr;
    EXPECT_EQ(picks(rr, 2, {false, false}, 2), (std::vector<std::size_t>{99, 99}));
    auto any = [](std::size_t) { return true; };
    EXPECT_FALSE(rr.pick(members(0), gw::candidate_filter(any)));
}

TEST(RoundRobin, ReturningBackendTakesItsTurnWithoutFlood) {
    gw::round_robin rr;
    std::vector<bool> up{true, false, true};
    EXPECT_EQ(picks(rr, 3, up, 2), (std::vector<std::size_t>{0, 2}));
    up[1] = true;
    EXPECT_EQ(picks(rr, 3, up, 4), (std::vector<std::size_t>{0, 1, 2, 0}));
}

TEST(RoundRobin, RetryExcludingTriedPicksTheNextOne) {
    gw::round_robin rr;
    std::vector<bool> tried(3, false);
    const auto pool = members(3);
    auto untried = [&](std::size_t b) { return !tried[b]; };
    const auto first = rr.pick(pool, gw::candidate_filter(untried));
    ASSERT_TRUE(first);
    tried[*first] = true;
    const auto second = rr.pick(pool, gw::candidate_filter(untried));
    ASSERT_TRUE(second);
    EXPECT_NE(*first, *second);
}

TEST(RoundRobin, ShrinkingPoolStaysInRange) {
    gw::round_robin rr;
    picks(rr, 5, {true, true, true, true, true}, 4);
    auto any = [](std::size_t) { return true; };
    const auto choice = rr.pick(members(2), gw::candidate_filter(any));
    ASSERT_TRUE(choice);
    EXPECT_LT(*choice, 2u);
}

}  // namespace
