#include "gatewayd/upstream/health_state.hpp"

#include <gtest/gtest.h>

namespace {

TEST(HealthState, StartsHealthy) {
    gw::health_state state(2, 3);
    EXPECT_TRUE(state.healthy());
}

TEST(HealthState, GoesDownAfterUnhealthyThresholdBadProbesInARow) {
    gw::health_state state(2, 3);
    EXPECT_FALSE(state.record_probe(false));
    EXPECT_FALSE(state.record_probe(false));
    EXPECT_TRUE(state.healthy());
    EXPECT_TRUE(state.record_probe(false));
    EXPECT_FALSE(state.healthy());
    EXPECT_FALSE(state.record_probe(false));  // already down: no change reported
}

TEST(HealthState, AGoodProbeResetsTheBadRun) {
    gw::health_state state(2, 3);
    state.record_probe(false);
    state.record_probe(false);
    state.record_probe(true);
    state.record_probe(false);
    state.record_probe(false);
    EXPECT_TRUE(state.healthy());
}

TEST(HealthState, ComesBackAfterHealthyThresholdGoodProbesInARow) {
    gw::health_state state(2, 1);
    ASSERT_TRUE(state.record_probe(false));
    EXPECT_FALSE(state.record_probe(true));
    EXPECT_FALSE(state.healthy());
    EXPECT_TRUE(state.record_probe(true));
    EXPECT_TRUE(state.healthy());
}

TEST(HealthState, BadProbeInterruptsRecovery) {
    gw::health_state state(2, 1);
    state.record_probe(false);
    state.record_probe(true);
    state.record_probe(false);
    state.record_probe(true);
    EXPECT_FALSE(state.healthy());
    state.record_probe(true);
    EXPECT_TRUE(state.healthy());
}

TEST(HealthState, PassiveMarkDownIsImmediateAndNeedsFullRecovery) {
    gw::health_state state(2, 3);
    state.record_probe(true);
    EXPECT_TRUE(state.mark_down());
    EXPECT_FALSE(state.healthy());
    EXPECT_FALSE(state.mark_down());
    EXPECT_FALSE(state.record_probe(true));
    EXPECT_TRUE(state.record_probe(true));
}

TEST(StatusLine, ParsesValidLines) {
    EXPECT_EQ(gw::parse_status_line("HTTP/1.1 200 OK"), 200u);
    EXPECT_EQ(gw::parse_status_line("HTTP/1.0 503 Service Unavailable\r"), 503u);
    EXPECT_EQ(gw::parse_status_line("HTTP/1.1 204"), 204u);
}

TEST(StatusLine, RejectsGarbage) {
    EXPECT_FALSE(gw::parse_status_line(""));
    EXPECT_FALSE(gw::parse_status_line("HTTP/2 200 OK"));
    EXPECT_FALSE(gw::parse_status_line("HTTP/1.1 2000 OK"));
    EXPECT_FALSE(gw::parse_status_line("HTTP/1.1 20x OK"));
    EXPECT_FALSE(gw::parse_status_line("HTTP/1.1 099 OK"));
    EXPECT_FALSE(gw::parse_status_line("SSH-2.0-OpenSSH_9"));
}

}  // namespace
