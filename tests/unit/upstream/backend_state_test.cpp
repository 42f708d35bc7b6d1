#include "gatewayd/upstream/backend_state.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace {

gw::config breaker_config() {
    gw::config settings;
    settings.circuit_breaker.enabled = true;
    settings.circuit_breaker.min_requests = 5;
    settings.circuit_breaker.failure_ratio = 0.6;
    settings.circuit_breaker.open_timeout = std::chrono::seconds(30);
    settings.circuit_breaker.interval = std::chrono::seconds(60);
    settings.health_check.enabled = true;
    return settings;
}

TEST(BackendState, FailuresFromTwoThreadsTripTheOneBreakerOnce) {
    gw::backend_state state("http://b:1", breaker_config(), true);
    std::atomic<int> admitted{0};
    auto worker = [&] {
        for (int i = 0; i < 2000; ++i) {
            const auto now = std::chrono::steady_clock::now();
            if (const auto generation = state.try_acquire(now)) {
                ++admitted;
                state.record(*generation, false, now);
            }
        }
    };
    std::thread first(worker);
    std::thread second(worker);
    first.join();
    second.join();
    // Five trip it; the other thread may have been admitted once more before the trip.
    EXPECT_GE(admitted.load(), 5);
    EXPECT_LE(admitted.load(), 6);
    EXPECT_EQ(state.breaker_state(std::chrono::steady_clock::now()), gw::circuit_breaker::state::open);
    EXPECT_FALSE(state.available(std::chrono::steady_clock::now()));
}

TEST(BackendState, TicketsReportThroughTheSharedState) {
    gw::backend_state state("http://b:1", breaker_config(), true);
    for (int i = 0; i < 5; ++i) {
        const auto generation = state.try_acquire(std::chrono::steady_clock::now());
        ASSERT_TRUE(generation.has_value());
        gw::backend_ticket ticket(&state, *generation);
        ticket.failure();
    }
    EXPECT_EQ(state.breaker_state(std::chrono::steady_clock::now()), gw::circuit_breaker::state::open);
}

TEST(BackendState, MarkDownIsSeenByEveryReaderAndReportedOnce) {
    gw::backend_state state("http://b:1", breaker_config(), true);
    std::atomic<int> transitions{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            if (state.mark_down()) ++transitions;
        });
    }
    for (auto& thread : threads) thread.join();
    EXPECT_EQ(transitions.load(), 1);
    EXPECT_FALSE(state.healthy());
}

TEST(BackendState, ExactlyOneLoopClaimsTheHealthChecks) {
    gw::backend_state state("http://b:1", breaker_config(), true);
    EXPECT_TRUE(state.claim_checks());
    EXPECT_FALSE(state.claim_checks());
    state.give_up_checks();
    EXPECT_TRUE(state.claim_checks());
}

TEST(BackendRegistry, OneStatePerUrlWhileSomeoneHoldsIt) {
    gw::backend_registry registry(true);
    const auto settings = breaker_config();
    auto first = registry.obtain("http://a:1", settings);
    auto again = registry.obtain("http://a:1", settings);
    auto other = registry.obtain("http://b:1", settings);
    EXPECT_EQ(first, again);
    EXPECT_NE(first, other);
    first->mark_down();
    EXPECT_FALSE(again->healthy());
    first.reset();
    again.reset();
    // Dropped by every loop (a reload removed it): added back later, it starts afresh.
    EXPECT_TRUE(registry.obtain("http://a:1", settings)->healthy());
}

TEST(BackendState, ReconfigureKeepsAnOpenBreakerWhenItsSettingsStay) {
    auto settings = breaker_config();
    gw::backend_state state("http://b:1", settings, false);
    for (int i = 0; i < 5; ++i) {
        const auto now = std::chrono::steady_clock::now();
        state.record(*state.try_acquire(now), false, now);
    }
    state.reconfigure(settings);
    EXPECT_EQ(state.breaker_state(std::chrono::steady_clock::now()), gw::circuit_breaker::state::open);
    settings.circuit_breaker.min_requests = 7;
    state.reconfigure(settings);
    EXPECT_EQ(state.breaker_state(std::chrono::steady_clock::now()), gw::circuit_breaker::state::closed);
}

}  // namespace
