#include "gatewayd/redis/refresh_schedule.hpp"

#include <gtest/gtest.h>

namespace {

using namespace std::chrono_literals;
using clock_type = gw::refresh_schedule::clock;

const clock_type::time_point t0{std::chrono::seconds(1000)};

TEST(RefreshSchedule, TheFirstReadStartsAtOnce) {
    gw::refresh_schedule schedule(250ms);
    EXPECT_EQ(schedule.request(t0), t0);
    EXPECT_FALSE(schedule.request(t0)) << "already due";
    schedule.started(t0);
    EXPECT_FALSE(schedule.finished(t0 + 5ms)) << "nobody asked again";
    EXPECT_FALSE(schedule.busy());
}

TEST(RefreshSchedule, AStormOfWishesDuringAReadIsOneMoreReadAfterTheGap) {
    gw::refresh_schedule schedule(250ms);
    schedule.request(t0);
    schedule.started(t0);
    for (int i = 0; i < 100; ++i) EXPECT_FALSE(schedule.request(t0 + std::chrono::milliseconds(i)));
    EXPECT_EQ(schedule.finished(t0 + 10ms), t0 + 250ms);
    EXPECT_FALSE(schedule.request(t0 + 20ms)) << "the next read is due already";
    schedule.started(t0 + 250ms);
    EXPECT_FALSE(schedule.finished(t0 + 260ms));
}

TEST(RefreshSchedule, AWishWithinTheGapWaitsForItsEnd) {
    gw::refresh_schedule schedule(250ms);
    schedule.request(t0);
    schedule.started(t0);
    schedule.finished(t0 + 10ms);
    EXPECT_EQ(schedule.request(t0 + 100ms), t0 + 250ms);
    schedule.started(t0 + 250ms);
    schedule.finished(t0 + 251ms);
    EXPECT_EQ(schedule.request(t0 + 900ms), t0 + 900ms) << "past the gap: at once";
}

TEST(RefreshSchedule, AReadThatTookLongerThanTheGapIsFollowedAtOnce) {
    gw::refresh_schedule schedule(250ms);
    schedule.request(t0);
    schedule.started(t0);
    schedule.request(t0 + 1ms);
    EXPECT_EQ(schedule.finished(t0 + 2s), t0 + 2s);
}

}  // namespace
