#include "gatewayd/redis/sentinel_replies.hpp"

#include "reply_builders.hpp"

#include <gtest/gtest.h>

namespace {

using gw::test::array;
using gw::test::integer;
using gw::test::text;

TEST(SentinelReplies, MasterAddressIsHostAndPortAsTwoStrings) {
    EXPECT_EQ(gw::parse_master_address(array({text("127.0.0.1"), text("6380")})), (gw::host_port{"127.0.0.1", 6380}));
    EXPECT_EQ(gw::parse_master_address(array({text("::1"), text("6380")})), (gw::host_port{"::1", 6380}));
    EXPECT_EQ(gw::parse_master_address(array({text("redis-a"), text("6379")})), (gw::host_port{"redis-a", 6379}));
}

TEST(SentinelReplies, AnUnknownNameOrAnythingElseIsNoAddress) {
    EXPECT_FALSE(gw::parse_master_address(gw::redis_reply{}));  // nil: not monitored
    gw::redis_reply error;
    error.type = gw::redis_reply::kind::error;
    error.text = "NOAUTH Authentication required.";
    EXPECT_FALSE(gw::parse_master_address(error));
    EXPECT_FALSE(gw::parse_master_address(array({text("127.0.0.1")})));
    EXPECT_FALSE(gw::parse_master_address(array({text("127.0.0.1"), integer(6379)})));
    EXPECT_FALSE(gw::parse_master_address(array({text("127.0.0.1"), text("0")})));
    EXPECT_FALSE(gw::parse_master_address(array({text(""), text("6379")})));
    EXPECT_FALSE(gw::parse_master_address(array({text("a b"), text("6379")})));
}

TEST(SentinelReplies, RoleSaysWhetherTheNodeIsThePrimary) {
    EXPECT_TRUE(gw::is_primary_role(array({text("master"), integer(3129659), array({})})));
    const auto replica = array({text("slave"), text("127.0.0.1"), integer(9999), text("connected"), integer(3167038)});
    EXPECT_FALSE(gw::is_primary_role(replica));
    EXPECT_EQ(gw::role_name(replica), "slave");
    EXPECT_FALSE(gw::is_primary_role(array({text("sentinel"), array({text("mymaster")})})));
    EXPECT_FALSE(gw::is_primary_role(text("master")));
    EXPECT_EQ(gw::role_name(text("master")), "?");
}

TEST(SentinelReplies, SwitchMasterNamesTheOldAndTheNewPrimary) {
    const auto change = gw::parse_switch_master(
        array({text("message"), text("+switch-master"), text("mymaster 127.0.0.1 6380 127.0.0.1 6381")}));
    ASSERT_TRUE(change);
    EXPECT_EQ(change->name, "mymaster");
    EXPECT_EQ(change->from, (gw::host_port{"127.0.0.1", 6380}));
    EXPECT_EQ(change->to, (gw::host_port{"127.0.0.1", 6381}));
}

TEST(SentinelReplies, OtherMessagesAreNoSwitch) {
    EXPECT_FALSE(gw::parse_switch_master(array({text("message"), text("+sdown"), text("master mymaster 127.0.0.1 6380")})));
    EXPECT_FALSE(gw::parse_switch_master(array({text("subscribe"), text("+switch-master"), integer(1)})));
    EXPECT_FALSE(gw::parse_switch_master(array({text("message"), text("+switch-master"), text("mymaster 1.2.3.4 6380")})));
    EXPECT_FALSE(gw::parse_switch_master(
        array({text("message"), text("+switch-master"), text("mymaster 1.2.3.4 6380 1.2.3.5 x")})));
}

TEST(SentinelRotation, OneThatAnsweredIsAskedFirstAndTheOthersKeepTheirOrder) {
    gw::sentinel_rotation rotation({{"a", 1}, {"b", 2}, {"c", 3}});
    rotation.answered(0);
    EXPECT_EQ(rotation.order(), (std::vector<gw::host_port>{{"a", 1}, {"b", 2}, {"c", 3}}));
    rotation.answered(2);
    EXPECT_EQ(rotation.order(), (std::vector<gw::host_port>{{"c", 3}, {"a", 1}, {"b", 2}}));
    rotation.answered(2);
    EXPECT_EQ(rotation.order(), (std::vector<gw::host_port>{{"b", 2}, {"c", 3}, {"a", 1}}));
    rotation.answered(7);
    EXPECT_EQ(rotation.order(), (std::vector<gw::host_port>{{"b", 2}, {"c", 3}, {"a", 1}}));
}

}  // namespace
