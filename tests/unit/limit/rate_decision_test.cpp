#include "gatewayd/limit/fixed_window.hpp"
#include "gatewayd/limit/rate_decision.hpp"

#include <vector>

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

TEST(RateDecision, RetryAfterOfARefusalIsTheRealWaitRoundedUp) {
    EXPECT_EQ(decision(false, 0, 2'500ms, 2'500ms).retry_after, 3u);
    EXPECT_EQ(decision(false, 0, 30s, 90s).retry_after, 90u) << "a sliding window can need more than one window";
    EXPECT_EQ(decision(false, 0, 60s, 200s).retry_after, 120u) << "never more than two";
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

namespace {

using namespace std::chrono_literals;

const gw::fixed_window window;

TEST(HeadlineDecision, DescribesTheEnforcingRuleWithTheFewestRemainingAndTheLongestWait) {
    const auto quota = gw::make_limit_rule("default", &window, {100, 60s, 0}, false, "p:");
    const auto burst = gw::make_limit_rule("burst", &window, {10, 1s, 0}, false, "p:burst:");
    const auto trial = gw::make_limit_rule("trial", &window, {1, 60s, 0}, true, "p:trial:");
    const std::vector<gw::limit_check> checks{{&quota, "a"}, {&burst, "b"}, {&trial, "c"}};

    // The trial (shadow) rule has the fewest left, but does not count for the headers.
    const std::vector<gw::limit_verdict> passing{{true, 40, 30s, {}}, {true, 3, 1s, {}}, {true, 0, 60s, {}}};
    auto headline = gw::headline_decision(checks, passing);
    ASSERT_TRUE(headline);
    EXPECT_EQ(headline->rule, "burst");
    EXPECT_EQ(headline->remaining, 3u);
    EXPECT_TRUE(headline->allowed);
    EXPECT_TRUE(headline->refused_by.empty());

    const std::vector<gw::limit_verdict> both_refuse{{false, 0, 30s, 30s}, {false, 0, 800ms, 800ms}, {true, 0, 1s, {}}};
    headline = gw::headline_decision(checks, both_refuse);
    ASSERT_TRUE(headline);
    EXPECT_FALSE(headline->allowed);
    EXPECT_EQ(headline->rule, "default") << "the first of the rules with 0 left";
    EXPECT_EQ(headline->retry_after, 30u) << "the longest wait";
    EXPECT_EQ(headline->refused_by, "default");

    const std::vector<gw::limit_check> shadow_only{{&trial, "c"}};
    EXPECT_FALSE(gw::headline_decision(shadow_only, std::vector<gw::limit_verdict>{{false, 0, 1s, 1s}}));
}

}  // namespace
