#include "gatewayd/upstream/pool_trim.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstddef>
#include <vector>

namespace {

using namespace std::chrono_literals;
using ms = std::chrono::milliseconds;

// How many connections a sweep closes, given how long each has been idle, oldest first.
std::size_t swept(const std::vector<ms>& idle_for, gw::pool_limits limits) {
    return gw::sweep_count(idle_for.size(), [&](std::size_t i) { return idle_for[i]; }, limits);
}

constexpr gw::pool_limits two_for_a_minute{2, 60s};

TEST(PoolTrim, KeepsUpToMaxIdleHoweverLongTheyWaitedWithinIdleTimeout) {
    EXPECT_EQ(swept({59s, 30s}, two_for_a_minute), 0u);
}

TEST(PoolTrim, ClosesWhatOutlivedIdleTimeoutEvenBelowMaxIdle) {
    EXPECT_EQ(swept({60s, 10s}, two_for_a_minute), 1u);
    EXPECT_EQ(swept({61s, 60s}, two_for_a_minute), 2u);
}

TEST(PoolTrim, SurplusWithinItsGraceIsKeptForTheNextBurst) {
    EXPECT_EQ(swept({999ms, 500ms, 10ms, 0ms}, two_for_a_minute), 0u);
}

TEST(PoolTrim, SurplusPastItsGraceIsClosedDownToMaxIdle) {
    // Five idle, two allowed: the three oldest go, although the fourth also waited past the grace.
    EXPECT_EQ(swept({5s, 3s, 1s, 1s, 0ms}, two_for_a_minute), 3u);
}

TEST(PoolTrim, StopsAtTheFirstYoungSurplusConnection) {
    // Oldest first: a younger one ends the sweep, so older-than-grace ones behind it cannot exist.
    EXPECT_EQ(swept({2s, 400ms, 300ms, 200ms}, two_for_a_minute), 1u);
}

TEST(PoolTrim, WithPoolingOffAnythingLeftIsSurplus) {
    EXPECT_EQ(swept({1s, 0ms}, {0, 60s}), 1u);
}

TEST(PoolTrim, ShortIdleTimeoutWinsOverTheGrace) {
    EXPECT_EQ(swept({300ms, 250ms, 100ms}, {1, 250ms}), 2u);
}

}  // namespace
