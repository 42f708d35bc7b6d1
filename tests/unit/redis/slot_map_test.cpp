#include "gatewayd/redis/slot_map.hpp"

#include "reply_builders.hpp"

#include <gtest/gtest.h>

namespace {

using gw::test::array;
using gw::test::integer;
using gw::test::text;

gw::redis_reply node(std::string host, long long port) {
    return array({text(std::move(host)), integer(port), text("09dbe9720cda62f7865eabc5fd8857c5d2678366"), array({})});
}

// Three primaries with a replica each, as CLUSTER SLOTS answers on Redis 7.
gw::redis_reply three_primaries() {
    return array({
        array({integer(0), integer(5460), node("127.0.0.1", 30001), node("127.0.0.1", 30004)}),
        array({integer(5461), integer(10922), node("127.0.0.1", 30002), node("127.0.0.1", 30005)}),
        array({integer(10923), integer(16383), node("127.0.0.1", 30003), node("127.0.0.1", 30006)}),
    });
}

const gw::host_port& owner(const gw::slot_map& map, std::uint16_t slot) { return map.nodes().at(map.owner(slot)); }

TEST(SlotMap, ReadsEachRangesPrimaryAndSkipsReplicas) {
    const auto map = gw::slot_map::from_cluster_slots(three_primaries(), "127.0.0.1");
    ASSERT_TRUE(map);
    ASSERT_EQ(map->nodes().size(), 3u);
    EXPECT_EQ(owner(*map, 0), (gw::host_port{"127.0.0.1", 30001}));
    EXPECT_EQ(owner(*map, 5460), (gw::host_port{"127.0.0.1", 30001}));
    EXPECT_EQ(owner(*map, 5461), (gw::host_port{"127.0.0.1", 30002}));
    EXPECT_EQ(owner(*map, 16383), (gw::host_port{"127.0.0.1", 30003}));
    EXPECT_EQ(map->covered(), 16384u);
}

TEST(SlotMap, SeveralRangesOfOnePrimaryAreOneNodeAndGapsHaveNoOwner) {
    const auto reply = array({
        array({integer(0), integer(99), node("10.0.0.1", 6379)}),
        array({integer(200), integer(299), node("10.0.0.2", 6379)}),
        array({integer(300), integer(399), node("10.0.0.1", 6379)}),
    });
    const auto map = gw::slot_map::from_cluster_slots(reply, "10.0.0.9");
    ASSERT_TRUE(map);
    EXPECT_EQ(map->nodes().size(), 2u);
    EXPECT_EQ(map->owner(100), gw::slot_map::no_node);
    EXPECT_EQ(map->owner(16383), gw::slot_map::no_node);
    EXPECT_EQ(owner(*map, 350), (gw::host_port{"10.0.0.1", 6379}));
    EXPECT_EQ(map->covered(), 300u);
}

TEST(SlotMap, AnUnknownEndpointMeansTheHostAsked) {
    gw::redis_reply nil;
    const auto reply = array({
        array({integer(0), integer(10), array({text(""), integer(7000)})}),
        array({integer(11), integer(20), array({text("?"), integer(7001)})}),
        array({integer(21), integer(30), array({nil, integer(7002)})}),
    });
    const auto map = gw::slot_map::from_cluster_slots(reply, "192.168.1.5");
    ASSERT_TRUE(map);
    EXPECT_EQ(owner(*map, 5), (gw::host_port{"192.168.1.5", 7000}));
    EXPECT_EQ(owner(*map, 15), (gw::host_port{"192.168.1.5", 7001}));
    EXPECT_EQ(owner(*map, 25), (gw::host_port{"192.168.1.5", 7002}));
}

TEST(SlotMap, HostNamesAndIpv6AreKept) {
    const auto reply = array({
        array({integer(0), integer(10), node("redis-1.example", 6379)}),
        array({integer(11), integer(20), node("::1", 7001)}),
    });
    const auto map = gw::slot_map::from_cluster_slots(reply, "x");
    ASSERT_TRUE(map);
    EXPECT_EQ(owner(*map, 0), (gw::host_port{"redis-1.example", 6379}));
    EXPECT_EQ(owner(*map, 11), (gw::host_port{"::1", 7001}));
}

TEST(SlotMap, AnythingElseIsNoMap) {
    gw::redis_reply error;
    error.type = gw::redis_reply::kind::error;
    error.text = "ERR This instance has cluster support disabled";
    EXPECT_FALSE(gw::slot_map::from_cluster_slots(error, "h"));
    EXPECT_FALSE(gw::slot_map::from_cluster_slots(array({integer(0)}), "h"));
    EXPECT_FALSE(gw::slot_map::from_cluster_slots(array({array({integer(0), integer(16384), node("h", 1)})}), "h"))
        << "slot 16384 does not exist";
    EXPECT_FALSE(gw::slot_map::from_cluster_slots(array({array({integer(9), integer(3), node("h", 1)})}), "h"));
    EXPECT_FALSE(gw::slot_map::from_cluster_slots(array({array({integer(0), integer(3), node("h", 0)})}), "h"));
    EXPECT_FALSE(gw::slot_map::from_cluster_slots(array({array({integer(0), integer(3), text("h:1")})}), "h"));
    EXPECT_FALSE(gw::slot_map::from_cluster_slots(array({array({integer(0), integer(3), node("a b", 1)})}), "h"));
    const auto empty = gw::slot_map::from_cluster_slots(array({}), "h");
    ASSERT_TRUE(empty) << "a cluster with no slot assigned yet answers an empty list";
    EXPECT_EQ(empty->covered(), 0u);
}

TEST(SlotMap, MovedPatchesOneSlotAndAddsANewNode) {
    auto map = *gw::slot_map::from_cluster_slots(three_primaries(), "127.0.0.1");
    const auto before = map;
    EXPECT_TRUE(map.same_as(before));
    EXPECT_EQ(map.move(100, {"127.0.0.1", 30002}), 1);
    EXPECT_EQ(owner(map, 100), (gw::host_port{"127.0.0.1", 30002}));
    EXPECT_EQ(owner(map, 101), (gw::host_port{"127.0.0.1", 30001}));
    EXPECT_FALSE(map.same_as(before));
    EXPECT_EQ(map.move(7, {"127.0.0.1", 30007}), 3);
    EXPECT_EQ(map.nodes().size(), 4u);
    EXPECT_EQ(map.covered(), 16384u);
    gw::slot_map empty;
    empty.move(5, {"h", 1});
    EXPECT_EQ(empty.covered(), 1u) << "a slot that had no owner counts once it has one";
}

TEST(SlotMap, SameAsComparesAddressesNotNodeOrder) {
    const auto a = gw::slot_map::from_cluster_slots(array({
        array({integer(0), integer(8191), node("h", 1)}),
        array({integer(8192), integer(16383), node("h", 2)}),
    }), "h");
    const auto b = gw::slot_map::from_cluster_slots(array({
        array({integer(8192), integer(16383), node("h", 2)}),
        array({integer(0), integer(8191), node("h", 1)}),
    }), "h");
    ASSERT_TRUE(a && b);
    EXPECT_TRUE(a->same_as(*b));
    EXPECT_FALSE(a->same_as(gw::slot_map{}));
}

}  // namespace
