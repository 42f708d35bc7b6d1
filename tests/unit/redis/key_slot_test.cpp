#include "gatewayd/redis/key_slot.hpp"

#include <gtest/gtest.h>

namespace {

TEST(KeySlot, Crc16IsXmodem) {
    // The check value of CRC-16/XMODEM, as the Redis Cluster specification gives it.
    EXPECT_EQ(gw::crc16_xmodem("123456789"), 0x31C3);
    EXPECT_EQ(gw::crc16_xmodem(""), 0);
    EXPECT_EQ(gw::crc16_xmodem(std::string_view("\0", 1)), 0);
}

TEST(KeySlot, KnownSlots) {
    // Values CLUSTER KEYSLOT gives (tests/redis/cluster_test.cpp compares many more with a cluster).
    EXPECT_EQ(gw::key_slot("foo"), 12182);
    EXPECT_EQ(gw::key_slot("somekey"), 11058);
    EXPECT_EQ(gw::key_slot("foo{hash_tag}"), 2515);
    EXPECT_EQ(gw::key_slot("bar{hash_tag}"), 2515);
    EXPECT_EQ(gw::key_slot("123456789"), 0x31C3 % 16384);
    EXPECT_EQ(gw::key_slot("rate_limit:127.0.0.1"), gw::crc16_xmodem("rate_limit:127.0.0.1") % 16384);
}

TEST(KeySlot, HashTagIsBetweenTheFirstOpeningBraceAndTheFirstClosingOneAfterIt) {
    EXPECT_EQ(gw::hash_tag("{user1000}.following"), "user1000");
    EXPECT_EQ(gw::hash_tag("{user1000}.followers"), "user1000");
    EXPECT_EQ(gw::hash_tag("foo{bar}{zap}"), "bar");
    EXPECT_EQ(gw::hash_tag("foo{{bar}}zap"), "{bar");
    EXPECT_EQ(gw::hash_tag("a}b{c}"), "c") << "a closing brace before the first opening one does not count";
}

TEST(KeySlot, AnEmptyOrUnclosedTagMeansTheWholeKey) {
    EXPECT_EQ(gw::hash_tag("foo{}{bar}"), "foo{}{bar}");
    EXPECT_EQ(gw::hash_tag("{}"), "{}");
    EXPECT_EQ(gw::hash_tag("foo{bar"), "foo{bar");
    EXPECT_EQ(gw::hash_tag("plain"), "plain");
    EXPECT_EQ(gw::key_slot("foo{}{bar}"), gw::crc16_xmodem("foo{}{bar}") % 16384);
    EXPECT_NE(gw::key_slot("foo{}{bar}"), gw::key_slot("bar"));
}

TEST(KeySlot, KeysWithOneTagShareASlot) {
    EXPECT_EQ(gw::key_slot("rate_limit:{10.0.0.1}"), gw::key_slot("rate_limit:burst:{10.0.0.1}"));
    EXPECT_EQ(gw::key_slot("{10.0.0.1}"), gw::key_slot("10.0.0.1"));
}

}  // namespace
