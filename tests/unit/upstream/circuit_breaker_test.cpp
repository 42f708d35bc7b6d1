#include "gatewayd/upstream/circuit_breaker.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;
using gw::circuit_breaker;
using state = circuit_breaker::state;

// A breaker on a fake clock that records its state changes as "from->to".
class BreakerTest : public ::testing::Test {
protected:
    circuit_breaker::time_point now_{};
    std::vector<std::string> changes_;

    circuit_breaker make(circuit_breaker::settings settings = default_settings()) {
        return circuit_breaker(settings, now_, [this](state from, state to) {
            changes_.push_back(std::string(gw::to_string(from)) + "->" + std::string(gw::to_string(to)));
        });
    }

    static circuit_breaker::settings default_settings() {
        return {.min_requests = 5, .failure_ratio = 0.6, .interval = 60s, .open_timeout = 10s,
                .half_open_max_requests = 3};
    }

    // One admitted request with the given outcome; false if it was not admitted.
    bool run(circuit_breaker& breaker, bool success) {
        const auto generation = breaker.try_acquire(now_);
        if (!generation) return false;
        breaker.record(*generation, success, now_);
        return true;
    }

    void trip(circuit_breaker& breaker) {
        for (int i = 0; i < 5; ++i) ASSERT_TRUE(run(breaker, false));
        ASSERT_EQ(breaker.current(now_), state::open);
    }
};

TEST_F(BreakerTest, StartsClosedAndCountsOutcomes) {
    auto breaker = make();
    EXPECT_EQ(breaker.current(now_), state::closed);
    run(breaker, true);
    run(breaker, false);
    run(breaker, false);
    const circuit_breaker::counts expected{.requests = 3, .total_successes = 1, .total_failures = 2,
                                           .consecutive_successes = 0, .consecutive_failures = 2};
    EXPECT_EQ(breaker.current_counts(), expected);
}

TEST_F(BreakerTest, FewerThanMinRequestsNeverTrips) {
    auto breaker = make();
    for (int i = 0; i < 4; ++i) ASSERT_TRUE(run(breaker, false));
    EXPECT_EQ(breaker.current(now_), state::closed);
    EXPECT_TRUE(changes_.empty());
}

TEST_F(BreakerTest, TripsAtExactlyTheFailureRatio) {
    auto breaker = make();
    run(breaker, true);
    run(breaker, true);
    run(breaker, false);
    run(breaker, false);
    EXPECT_EQ(breaker.current(now_), state::closed);
    run(breaker, false);  // 3 of 5 = 0.6
    EXPECT_EQ(breaker.current(now_), state::open);
    EXPECT_EQ(changes_, std::vector<std::string>{"closed->open"});
}

TEST_F(BreakerTest, BelowTheRatioStaysClosed) {
    auto breaker = make();
    for (int i = 0; i < 3; ++i) run(breaker, true);
    run(breaker, false);
    run(breaker, false);  // 2 of 5 = 0.4
    EXPECT_EQ(breaker.current(now_), state::closed);
    run(breaker, false);  // 3 of 6 = 0.5
    EXPECT_EQ(breaker.current(now_), state::closed);
    run(breaker, false);  // 4 of 7 = 0.57
    EXPECT_EQ(breaker.current(now_), state::closed);
    run(breaker, false);  // 5 of 8 = 0.625
    EXPECT_EQ(breaker.current(now_), state::open);
}

TEST_F(BreakerTest, OnlyFailuresCheckTheTripCondition) {
    auto settings = default_settings();
    settings.failure_ratio = 0.5;
    auto breaker = make(settings);
    for (int i = 0; i < 4; ++i) run(breaker, false);
    // 4 failures of 4 requests: ratio met but too few requests; a success does not check.
    run(breaker, true);
    EXPECT_EQ(breaker.current(now_), state::closed);
    run(breaker, false);
    EXPECT_EQ(breaker.current(now_), state::open);
}

TEST_F(BreakerTest, OpenRejectsUntilStrictlyAfterTheTimeout) {
    auto breaker = make();
    trip(breaker);
    EXPECT_FALSE(breaker.try_acquire(now_));
    now_ += 10s;  // exactly at the boundary: still open
    EXPECT_FALSE(breaker.try_acquire(now_));
    EXPECT_EQ(breaker.current(now_), state::open);
    now_ += 1ms;
    EXPECT_EQ(breaker.current(now_), state::half_open);
    EXPECT_EQ(changes_, (std::vector<std::string>{"closed->open", "open->half-open"}));
}

TEST_F(BreakerTest, TimeUntilHalfOpenCountsDownWhileOpen) {
    auto breaker = make();
    EXPECT_EQ(breaker.time_until_half_open(now_), circuit_breaker::duration::zero());
    trip(breaker);
    EXPECT_EQ(breaker.time_until_half_open(now_), circuit_breaker::duration(10s));
    now_ += 4s;
    EXPECT_EQ(breaker.time_until_half_open(now_), circuit_breaker::duration(6s));
    now_ += 7s;
    EXPECT_EQ(breaker.time_until_half_open(now_), circuit_breaker::duration::zero());
}

TEST_F(BreakerTest, HalfOpenAdmitsAtMostMaxRequests) {
    auto breaker = make();
    trip(breaker);
    now_ += 11s;
    const auto a = breaker.try_acquire(now_);
    const auto b = breaker.try_acquire(now_);
    const auto c = breaker.try_acquire(now_);
    ASSERT_TRUE(a && b && c);
    EXPECT_FALSE(breaker.try_acquire(now_));
    breaker.record(*a, true, now_);
    EXPECT_FALSE(breaker.try_acquire(now_)) << "an admitted slot is not freed by a success";
}

TEST_F(BreakerTest, HalfOpenClosesAfterMaxConsecutiveSuccesses) {
    auto breaker = make();
    trip(breaker);
    now_ += 11s;
    EXPECT_TRUE(run(breaker, true));
    EXPECT_TRUE(run(breaker, true));
    EXPECT_EQ(breaker.current(now_), state::half_open);
    EXPECT_TRUE(run(breaker, true));
    EXPECT_EQ(breaker.current(now_), state::closed);
    EXPECT_EQ(changes_, (std::vector<std::string>{"closed->open", "open->half-open", "half-open->closed"}));
    EXPECT_EQ(breaker.current_counts(), circuit_breaker::counts{});
}

TEST_F(BreakerTest, AnyHalfOpenFailureReopens) {
    auto breaker = make();
    trip(breaker);
    now_ += 11s;
    EXPECT_TRUE(run(breaker, true));
    EXPECT_TRUE(run(breaker, false));
    EXPECT_EQ(breaker.current(now_), state::open);
    EXPECT_FALSE(breaker.try_acquire(now_));
    now_ += 10s + 1ms;  // a fresh open timeout from the reopening
    EXPECT_EQ(breaker.current(now_), state::half_open);
}

TEST_F(BreakerTest, IntervalClearsClosedCounts) {
    auto breaker = make();
    for (int i = 0; i < 4; ++i) run(breaker, false);
    now_ += 60s + 1ms;
    EXPECT_EQ(breaker.current(now_), state::closed);
    EXPECT_EQ(breaker.current_counts(), circuit_breaker::counts{});
    run(breaker, false);  // would have been the 5th failure of 5
    EXPECT_EQ(breaker.current(now_), state::closed);
}

TEST_F(BreakerTest, ZeroIntervalNeverClears) {
    auto settings = default_settings();
    settings.interval = 0s;
    auto breaker = make(settings);
    for (int i = 0; i < 4; ++i) run(breaker, false);
    now_ += 24h;
    run(breaker, false);
    EXPECT_EQ(breaker.current(now_), state::open);
}

TEST_F(BreakerTest, OutcomesFromAnOlderGenerationAreDropped) {
    auto breaker = make();
    const auto early = breaker.try_acquire(now_);
    ASSERT_TRUE(early);
    now_ += 61s;  // interval passes: new generation
    breaker.current(now_);
    breaker.record(*early, false, now_);
    EXPECT_EQ(breaker.current_counts().total_failures, 0u);

    trip(breaker);
    now_ += 11s;
    const auto probe = breaker.try_acquire(now_);
    ASSERT_TRUE(probe);
    const auto stale = *probe - 1;
    breaker.record(stale, false, now_);  // a result from the closed era must not reopen it
    EXPECT_EQ(breaker.current(now_), state::half_open);
}

TEST_F(BreakerTest, ReleaseGivesBackAHalfOpenSlot) {
    auto breaker = make();
    trip(breaker);
    now_ += 11s;
    std::vector<std::uint64_t> slots;
    for (int i = 0; i < 3; ++i) slots.push_back(*breaker.try_acquire(now_));
    EXPECT_FALSE(breaker.try_acquire(now_));
    breaker.release(slots[0], now_);
    EXPECT_TRUE(breaker.try_acquire(now_));
}

TEST(BreakerTicket, ReportsExactlyOnce) {
    circuit_breaker breaker({.min_requests = 1, .failure_ratio = 1.0, .interval = 0s, .open_timeout = 10s,
                             .half_open_max_requests = 1},
                            std::chrono::steady_clock::now());
    {
        gw::breaker_ticket ticket(&breaker, *breaker.try_acquire(std::chrono::steady_clock::now()));
        ticket.success();
        ticket.failure();  // ignored: already reported
    }
    EXPECT_EQ(breaker.current_counts().total_successes, 1u);
    EXPECT_EQ(breaker.current_counts().total_failures, 0u);
    EXPECT_EQ(breaker.current(std::chrono::steady_clock::now()), circuit_breaker::state::closed);
}

TEST(BreakerTicket, UnreportedTicketReleasesItsAdmission) {
    circuit_breaker breaker({.min_requests = 1, .failure_ratio = 1.0, .interval = 0s, .open_timeout = 10s,
                             .half_open_max_requests = 1},
                            std::chrono::steady_clock::now());
    {
        gw::breaker_ticket ticket(&breaker, *breaker.try_acquire(std::chrono::steady_clock::now()));
        gw::breaker_ticket moved = std::move(ticket);
    }
    EXPECT_EQ(breaker.current_counts().requests, 0u);
    EXPECT_EQ(breaker.current_counts().total_failures, 0u);
}

}  // namespace
