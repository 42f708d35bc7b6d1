#include "gatewayd/round_robin.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace {

std::vector<std::size_t> picks(gw::round_robin& rr, std::size_t count, std::vector<bool> up, int n) {
    std::vector<std::size_t> out;
    for (int i = 0; i < n; ++i) {
        const auto choice = rr.next(count, [&](std::size_t b) { return up[b]; });
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
    EXPECT_FALSE(rr.next(0, [](std::size_t) { return true; }));
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
    const auto first = rr.next(3, [&](std::size_t b) { return !tried[b]; });
    ASSERT_TRUE(first);
    tried[*first] = true;
    const auto second = rr.next(3, [&](std::size_t b) { return !tried[b]; });
    ASSERT_TRUE(second);
    EXPECT_NE(*first, *second);
}

TEST(RoundRobin, ShrinkingPoolStaysInRange) {
    gw::round_robin rr;
    picks(rr, 5, {true, true, true, true, true}, 4);
    const auto choice = rr.next(2, [](std::size_t) { return true; });
    ASSERT_TRUE(choice);
    EXPECT_LT(*choice, 2u);
}

}  // namespace
