#include "gatewayd/chain/client_identity.hpp"

#include <gtest/gtest.h>

namespace {

gw::ip_address ip(std::string_view text) { return *gw::parse_ip_address(text); }

std::vector<gw::ip_network> nets(std::initializer_list<std::string_view> list) {
    std::vector<gw::ip_network> out;
    for (auto text : list) out.push_back(*gw::parse_ip_network(text));
    return out;
}

std::string who(std::string_view peer, std::string_view xff, const std::vector<gw::ip_network>& trusted) {
    return gw::to_string(gw::client_identity(ip(peer), xff, trusted));
}

TEST(ClientIdentity, UntrustedPeerIsTheClientWhateverItClaims) {
    EXPECT_EQ(who("203.0.113.9", "1.2.3.4", {}), "203.0.113.9");
    EXPECT_EQ(who("203.0.113.9", "1.2.3.4", nets({"10.0.0.0/8"})), "203.0.113.9");
}

TEST(ClientIdentity, TrustedPeerRightMostUntrustedAddressWins) {
    const auto trusted = nets({"10.0.0.0/8"});
    EXPECT_EQ(who("10.0.0.1", "1.2.3.4", trusted), "1.2.3.4");
    EXPECT_EQ(who("10.0.0.1", "6.6.6.6, 1.2.3.4", trusted), "1.2.3.4");
    EXPECT_EQ(who("10.0.0.1", "6.6.6.6, 1.2.3.4, 10.9.9.9", trusted), "1.2.3.4");
    EXPECT_EQ(who("10.0.0.1", " 1.2.3.4 ,10.2.2.2 ", trusted), "1.2.3.4");
}

TEST(ClientIdentity, GarbageNeverBecomesTheClient) {
    const auto trusted = nets({"10.0.0.0/8"});
    EXPECT_EQ(who("10.0.0.1", "not-an-ip", trusted), "10.0.0.1");
    EXPECT_EQ(who("10.0.0.1", "1.2.3.4, garbage", trusted), "10.0.0.1");
    EXPECT_EQ(who("10.0.0.1", "garbage, 1.2.3.4", trusted), "1.2.3.4");
    EXPECT_EQ(who("10.0.0.1", "1.2.3.4:80", trusted), "10.0.0.1");
    EXPECT_EQ(who("10.0.0.1", "[2001:db8::1]", trusted), "10.0.0.1");
    EXPECT_EQ(who("10.0.0.1", "10.3.3.3, bad", trusted), "10.0.0.1");
    EXPECT_EQ(who("10.0.0.1", "bad, 10.3.3.3", trusted), "10.3.3.3");
}

TEST(ClientIdentity, AllTrustedGivesTheLeftMost) {
    EXPECT_EQ(who("10.0.0.1", "10.5.5.5, 10.6.6.6", nets({"10.0.0.0/8"})), "10.5.5.5");
    EXPECT_EQ(who("10.0.0.1", "", nets({"10.0.0.0/8"})), "10.0.0.1");
    EXPECT_EQ(who("10.0.0.1", " , ,", nets({"10.0.0.0/8"})), "10.0.0.1");
}

TEST(ClientIdentity, Ipv6AndMappedPeers) {
    EXPECT_EQ(who("::ffff:10.0.0.1", "1.2.3.4", nets({"10.0.0.0/8"})), "1.2.3.4");
    EXPECT_EQ(who("2001:db8::1", "1.2.3.4", nets({"2001:db8::/32"})), "1.2.3.4");
    EXPECT_EQ(who("10.0.0.1", "2001:db8:a:b:c:d:e:f", nets({"10.0.0.0/8"})), "2001:db8:a:b:c:d:e:f");
}

TEST(ClientKey, Ipv4AsItIsIpv6ByItsSlash64) {
    EXPECT_EQ(gw::client_key(ip("127.0.0.1")), "127.0.0.1");
    EXPECT_EQ(gw::client_key(ip("::ffff:192.0.2.1")), "192.0.2.1");
    EXPECT_EQ(gw::client_key(ip("2001:db8:1:2:3:4:5:6")), "2001:db8:1:2::/64");
    EXPECT_EQ(gw::client_key(ip("2001:db8:1:2:ffff::1")), "2001:db8:1:2::/64");
    EXPECT_EQ(gw::client_key(ip("::1")), "::/64");
}

}  // namespace
