#include "gatewayd/limit/gcra.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace {

using namespace std::chrono_literals;

const gw::gcra algorithm;
constexpr std::int64_t start_us = 1'700'000'000'000'000;

std::int64_t at(std::int64_t ms) { return start_us + ms * 1000; }

gw::limit_verdict request(gw::limit_cell& cell, std::int64_t ms, const gw::limit_params& params) {
    const auto verdict = algorithm.decide(cell, at(ms), params);
    if (verdict.allowed) algorithm.charge(cell, at(ms), params);
    return verdict;
}

TEST(Gcra, ABurstAtOnceThenOneEveryInterval) {
    gw::limit_cell cell;
    const gw::limit_params params{10, 10s, 3};  // one per second, three at once
    auto first = request(cell, 0, params);
    EXPECT_TRUE(first.allowed);
    EXPECT_EQ(first.remaining, 2u);
    EXPECT_EQ(first.reset, 1s) << "one more comes back in one interval";
    EXPECT_EQ(request(cell, 0, params).remaining, 1u);
    const auto third = request(cell, 0, params);
    EXPECT_TRUE(third.allowed);
    EXPECT_EQ(third.remaining, 0u);
    EXPECT_EQ(third.reset, 1s);
    const auto refused = request(cell, 0, params);
    EXPECT_FALSE(refused.allowed);
    EXPECT_EQ(refused.retry_after, 1s);
    EXPECT_FALSE(request(cell, 999, params).allowed);
    EXPECT_TRUE(request(cell, 1'000, params).allowed);
    EXPECT_FALSE(request(cell, 1'500, params).allowed);
    const auto exact = request(cell, 1'500, params);
    EXPECT_EQ(exact.retry_after, 500ms) << "exactly when the next one passes";
    EXPECT_TRUE(request(cell, 2'000, params).allowed);
}

TEST(Gcra, BurstZeroMeansRequestsAtOnce) {
    gw::limit_cell cell;
    const gw::limit_params params{5, 1s, 0};
    for (int i = 0; i < 5; ++i) EXPECT_TRUE(request(cell, 0, params).allowed) << i;
    EXPECT_FALSE(request(cell, 0, params).allowed);
    EXPECT_TRUE(request(cell, 200, params).allowed);
}

TEST(Gcra, ARefusedRequestChangesNothing) {
    gw::limit_cell cell;
    const gw::limit_params params{1, 1s, 0};
    ASSERT_TRUE(request(cell, 0, params).allowed);
    const auto tat = cell.values[0];
    for (int ms = 1; ms < 1'000; ms += 100) ASSERT_FALSE(request(cell, ms, params).allowed);
    EXPECT_EQ(cell.values[0], tat);
    EXPECT_TRUE(request(cell, 1'000, params).allowed);
    EXPECT_EQ(algorithm.expires_at(cell, params), at(2'000));
}

TEST(Gcra, NeverMoreThanBurstPlusOnePerIntervalInAnyTrailingWindow) {
    gw::limit_cell cell;
    const gw::limit_params params{100, 10s, 20};  // 10 per second, 20 at once
    std::vector<std::int64_t> admitted;
    for (std::int64_t ms = 0; ms < 60'000; ms += 13) {
        if (request(cell, ms, params).allowed) admitted.push_back(ms);
    }
    // In any 10 s: at most burst + (10 s / 100 ms interval) = 20 + 100 ... minus the one the
    // burst itself uses: burst - 1 + ceil(10 s / interval) + 1.
    for (std::size_t i = 0; i < admitted.size(); ++i) {
        std::size_t j = i;
        while (j < admitted.size() && admitted[j] < admitted[i] + 10'000) ++j;
        EXPECT_LE(j - i, 120u) << "window from " << admitted[i];
    }
}

}  // namespace
