#include "gatewayd/limit/rate_decision.hpp"

#include <gtest/gtest.h>

namespace {

using namespace std::chrono_literals;

gw::rate_decision decision(bool allowed, std::uint64_t remaining, std::chrono::milliseconds reset,
                           std::chrono::milliseconds retry, gw::limit_params params = {100, 60s, 0}) {
    return gw::to_rate_decision({allowed, remaining, reset, retry}, params);
}

TEST(RateDecision, ResetIsWholeSecondsRoundedUpBetweenOneAndTheWindow) {
    EXPECT_EQ(decision(true, 5, 59'001ms, 0ms).reset_seconds, 60u);
    EXPECT_EQ(decision(true, 5, 1ms, 0ms).reset_seconds, 1u);
    EXPECT_EQ(decision(true, 5, 0ms, 0ms).reset_seconds, 1u);
    EXPECT_EQ(decision(true, 5, -5ms, 0ms).reset_seconds, 1u);
    EXPECT_EQ(decision(true, 5, 90s, 0ms).reset_seconds, 60u);
}

TEST(RateDecision, RetryAfterOfARefusalIsRoundedUpAndNeverLongerThanTheWindow) {
    EXPECT_EQ(decision(false, 0, 2'500ms, 2'500ms).retry_after, 3u);
    EXPECT_EQ(decision(false, 0, 90s, 90s).retry_after, 60u);
    EXPECT_EQ(decision(false, 0, 400ms, 400ms, {10, 500ms, 0}).retry_after, 1u);  // sub-second window: still 1
}

TEST(RateDecision, LimitAndRemainingComeFromTheRule) {
    const auto d = decision(true, 42, 17s, 0ms);
    EXPECT_TRUE(d.allowed);
    EXPECT_EQ(d.limit, 100u);
    EXPECT_EQ(d.remaining, 42u);
    EXPECT_EQ(decision(true, 500, 1s, 0ms).remaining, 100u) << "never more than the limit";
}

}  // namespace
