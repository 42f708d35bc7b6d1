#include "gatewayd/limit/sliding_window.hpp"

#include <gtest/gtest.h>

namespace {

using namespace std::chrono_literals;

const gw::sliding_window algorithm;
// 10 requests per 10 s; times in ms from a window boundary at 1,000 windows after the epoch.
const gw::limit_params ten_per_ten_seconds{10, 10s, 0};
constexpr std::int64_t start_ms = 1'000 * 10'000;

std::int64_t at(std::int64_t ms) { return (start_ms + ms) * 1000; }

// A request at `ms`: decided and, when allowed, charged (as the store does for a lone rule).
gw::limit_verdict request(gw::limit_cell& cell, std::int64_t ms, const gw::limit_params& params = ten_per_ten_seconds) {
    const auto verdict = algorithm.decide(cell, at(ms), params);
    if (verdict.allowed) algorithm.charge(cell, at(ms), params);
    return verdict;
}

TEST(SlidingWindow, ALoneWindowAdmitsItsRequestsAndCountsDown) {
    gw::limit_cell cell;
    for (std::uint64_t i = 0; i < 10; ++i) {
        const auto verdict = request(cell, 1'000);
        ASSERT_TRUE(verdict.allowed) << i;
        EXPECT_EQ(verdict.remaining, 9 - i);
        EXPECT_EQ(verdict.reset, 9s) << "until this window ends";
    }
    const auto refused = request(cell, 2'000);
    EXPECT_FALSE(refused.allowed);
    EXPECT_EQ(cell.values[1], 10) << "a refused request is not counted";
}

TEST(SlidingWindow, ThePreviousWindowWeighsInAsItSlidesAway) {
    gw::limit_cell cell;
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(request(cell, 9'000).allowed);
    // 2.5 s into the next window three quarters of the previous ten still count: 7.5.
    auto verdict = request(cell, 12'500);
    EXPECT_TRUE(verdict.allowed);   // 7.5 + 1 <= 10
    EXPECT_EQ(verdict.remaining, 1u);  // floor(10 - 8.5)
    EXPECT_TRUE(request(cell, 12'500).allowed);   // 8.5 + 1
    EXPECT_FALSE(request(cell, 12'500).allowed);  // 9.5 + 1 > 10
    // With 2 counted now, one more passes once 10 × (1 − e/10 s) + 2 + 1 <= 10: e >= 3 s.
    const auto refused = request(cell, 12'500);
    EXPECT_EQ(refused.retry_after, 500ms);
    EXPECT_FALSE(request(cell, 12'999).allowed);
    EXPECT_TRUE(request(cell, 13'000).allowed);
}

TEST(SlidingWindow, AFullCurrentWindowWaitsIntoTheNextOne) {
    gw::limit_cell cell;
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(request(cell, 4'000).allowed);
    const auto refused = request(cell, 6'000);
    EXPECT_FALSE(refused.allowed);
    // 4 s to the next window, then 10 × (1 − e/10 s) + 1 <= 10 needs e >= 1 s.
    EXPECT_EQ(refused.retry_after, 5s);
    EXPECT_FALSE(request(cell, 10'999).allowed);
    EXPECT_TRUE(request(cell, 11'000).allowed);
}

TEST(SlidingWindow, WindowsLongAgoCountForNothing) {
    gw::limit_cell cell;
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(request(cell, 0).allowed);
    const auto later = request(cell, 25'000);
    EXPECT_TRUE(later.allowed);
    EXPECT_EQ(later.remaining, 9u);
    EXPECT_EQ(algorithm.expires_at(cell, ten_per_ten_seconds), at(40'000));
}

TEST(SlidingWindow, NeverAdmitsMoreThanTheEstimateAllowsOverAnyTrace) {
    // A steady stream far over the limit: any 10 s window ending at a window boundary holds at
    // most `requests` plus what the previous window's estimate let slip (never more than 2×).
    gw::limit_cell cell;
    std::vector<std::int64_t> admitted;
    for (std::int64_t ms = 0; ms < 100'000; ms += 37) {
        if (request(cell, ms).allowed) admitted.push_back(ms);
    }
    for (std::int64_t end = 10'000; end <= 100'000; end += 10'000) {
        const auto in_window = std::count_if(admitted.begin(), admitted.end(),
                                             [&](std::int64_t t) { return t >= end - 10'000 && t < end; });
        EXPECT_LE(in_window, 10) << "aligned window ending at " << end;
    }
}

}  // namespace
