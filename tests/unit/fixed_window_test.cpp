#include "gatewayd/fixed_window.hpp"

#include <gtest/gtest.h>

namespace {

using namespace std::chrono_literals;

TEST(FixedWindow, AllowsUpToTheLimitAndCountsDownExactly) {
    for (std::uint64_t n = 1; n <= 100; ++n) {
        const auto d = gw::decide({n, 30s}, 100, 60s);
        EXPECT_TRUE(d.allowed) << n;
        EXPECT_EQ(d.remaining, 100 - n);
        EXPECT_EQ(d.limit, 100u);
    }
    const auto refused = gw::decide({101, 30s}, 100, 60s);
    EXPECT_FALSE(refused.allowed);
    EXPECT_EQ(refused.remaining, 0u);
}

TEST(FixedWindow, ResetAndRetryAfterAreWholeSecondsWithinTheWindow) {
    EXPECT_EQ(gw::decide({1, 59'001ms}, 100, 60s).reset_seconds, 60u);
    EXPECT_EQ(gw::decide({1, 1ms}, 100, 60s).reset_seconds, 1u);
    EXPECT_EQ(gw::decide({1, 0ms}, 100, 60s).reset_seconds, 1u);
    EXPECT_EQ(gw::decide({1, -5ms}, 100, 60s).reset_seconds, 1u);
    EXPECT_EQ(gw::decide({101, 2'500ms}, 100, 60s).retry_after, 3u);
    EXPECT_EQ(gw::decide({101, 90s}, 100, 60s).retry_after, 60u);  // never longer than the window
    EXPECT_EQ(gw::decide({11, 400ms}, 10, 500ms).retry_after, 1u);  // sub-second window: still 1
}

TEST(MemoryWindow, WindowStartsWithTheFirstRequestAndEndsAfterIt) {
    gw::memory_window slot;
    const auto t0 = std::chrono::steady_clock::time_point{} + 1h;
    EXPECT_EQ(gw::count_request(slot, t0, 60s).count, 1u);
    EXPECT_EQ(gw::count_request(slot, t0 + 10s, 60s).count, 2u);
    const auto third = gw::count_request(slot, t0 + 59s, 60s);
    EXPECT_EQ(third.count, 3u);
    EXPECT_EQ(third.remaining, 1s);
    const auto fresh = gw::count_request(slot, t0 + 60s, 60s);
    EXPECT_EQ(fresh.count, 1u);
    EXPECT_EQ(fresh.remaining, 60s);
}

}  // namespace
