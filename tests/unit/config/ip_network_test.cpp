#include "gatewayd/config/ip_network.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>

#include <array>
#include <cstdint>

namespace gw {
namespace {

ip_address address(std::string_view text) {
    auto parsed = parse_ip_address(text);
    EXPECT_TRUE(parsed) << text;
    return parsed.value_or(ip_address{});
}

TEST(parse_ip_address, keeps_ipv4_in_mapped_form) {
    auto parsed = address("192.0.2.7");
    EXPECT_TRUE(parsed.v4);
    std::array<std::uint8_t, 16> mapped{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 7};
    EXPECT_EQ(parsed.bytes, mapped);
    EXPECT_EQ(to_string(parsed), "192.0.2.7");
}

TEST(parse_ip_address, reads_ipv6) {
    auto parsed = address("2001:db8::1");
    EXPECT_FALSE(parsed.v4);
    EXPECT_EQ(parsed.bytes[0], 0x20);
    EXPECT_EQ(parsed.bytes[1], 0x01);
    EXPECT_EQ(parsed.bytes[15], 0x01);
    EXPECT_EQ(to_string(parsed), "2001:db8::1");
    EXPECT_EQ(to_string(address("::")), "::");
    EXPECT_EQ(to_string(address("::1")), "::1");
}

TEST(parse_ip_address, treats_a_mapped_ipv6_address_as_the_ipv4_one) {
    // A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d.
    EXPECT_EQ(address("::ffff:10.1.2.3"), address("10.1.2.3"));
    EXPECT_EQ(address("::FFFF:a01:203"), address("10.1.2.3"));
    EXPECT_EQ(to_string(address("::ffff:10.1.2.3")), "10.1.2.3");
}

TEST(parse_ip_address, rejects_loose_ipv4_forms) {
    for (auto text : {"1.2.3", "01.2.3.4", "1.2.3.4.5", "256.1.1.1", "1.2.3.-1", "0x1.2.3.4", "16909060"}) {
        EXPECT_EQ(parse_ip_address(text), std::nullopt) << text;
    }
}

TEST(parse_ip_address, rejects_anything_around_the_address) {
    for (auto text : {"", " 1.2.3.4", "1.2.3.4 ", "1.2.3.4:80", "[::1]", "[::1]:80", "fe80::1%eth0",
                      "::1/128", "localhost", "1:2:3:4:5:6:7:8:9", "2001:db8:::1", "garbage"}) {
        EXPECT_EQ(parse_ip_address(text), std::nullopt) << text;
    }
    EXPECT_EQ(parse_ip_address(std::string_view{"1.2.3.4\0x", 9}), std::nullopt);
}

TEST(parse_ip_network, stores_ipv4_prefixes_over_the_mapped_form) {
    auto network = parse_ip_network("10.0.0.0/8");
    ASSERT_TRUE(network);
    EXPECT_EQ(network->prefix_length, 104u);
    EXPECT_EQ(network->base, address("10.0.0.0"));
    EXPECT_TRUE(network->contains(address("10.255.1.2")));
    EXPECT_TRUE(network->contains(address("::ffff:10.9.9.9")));
    EXPECT_FALSE(network->contains(address("11.0.0.1")));
    EXPECT_FALSE(network->contains(address("::a00:1")));
}

TEST(parse_ip_network, reads_a_bare_address_as_a_block_of_one) {
    auto v4 = parse_ip_network("192.0.2.1");
    ASSERT_TRUE(v4);
    EXPECT_EQ(v4->prefix_length, 128u);
    EXPECT_TRUE(v4->contains(address("192.0.2.1")));
    EXPECT_FALSE(v4->contains(address("192.0.2.2")));
    EXPECT_EQ(parse_ip_network("192.0.2.1/32"), v4);

    auto v6 = parse_ip_network("2001:db8::1");
    ASSERT_TRUE(v6);
    EXPECT_EQ(v6->prefix_length, 128u);
    EXPECT_EQ(parse_ip_network("2001:db8::1/128"), v6);
}

TEST(parse_ip_network, reads_ipv6_prefixes) {
    auto network = parse_ip_network("2001:db8::/32");
    ASSERT_TRUE(network);
    EXPECT_EQ(network->prefix_length, 32u);
    EXPECT_TRUE(network->contains(address("2001:db8:ffff::1")));
    EXPECT_FALSE(network->contains(address("2001:db9::1")));
}

TEST(parse_ip_network, zero_prefixes_cover_their_whole_family_or_everything) {
    auto all_v4 = parse_ip_network("0.0.0.0/0");
    ASSERT_TRUE(all_v4);
    EXPECT_EQ(all_v4->prefix_length, 96u);
    EXPECT_TRUE(all_v4->contains(address("203.0.113.9")));
    EXPECT_FALSE(all_v4->contains(address("2001:db8::1")));

    auto everything = parse_ip_network("::/0");
    ASSERT_TRUE(everything);
    EXPECT_EQ(everything->prefix_length, 0u);
    EXPECT_TRUE(everything->contains(address("203.0.113.9")));
    EXPECT_TRUE(everything->contains(address("2001:db8::1")));
}

TEST(parse_ip_network, prefixes_that_are_not_byte_aligned) {
    auto network = parse_ip_network("192.168.4.0/22");
    ASSERT_TRUE(network);
    EXPECT_TRUE(network->contains(address("192.168.7.255")));
    EXPECT_FALSE(network->contains(address("192.168.8.0")));
    EXPECT_FALSE(network->contains(address("192.168.3.255")));
}

TEST(parse_ip_network, drops_host_bits_like_go) {
    EXPECT_EQ(parse_ip_network("10.1.2.3/8"), parse_ip_network("10.0.0.0/8"));
    EXPECT_EQ(parse_ip_network("2001:db8::1/64"), parse_ip_network("2001:db8::/64"));
}

TEST(parse_ip_network, rejects_bad_prefixes) {
    for (auto text : {"10.0.0.0/33", "2001:db8::/129", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/+8",
                      "10.0.0.0/08", "10.0.0.0/8/8", "10.0.0.0/ 8", "10.0.0.0/a", "10.0.0.0/99999999999"}) {
        EXPECT_EQ(parse_ip_network(text), std::nullopt) << text;
    }
}

TEST(parse_ip_network, rejects_garbage) {
    for (auto text : {"", "/8", "garbage", "10.0.0/8", "example.com/24", "10.0.0.0 /8", "[::1]/128"}) {
        EXPECT_EQ(parse_ip_network(text), std::nullopt) << text;
    }
}

}  // namespace
}  // namespace gw

namespace {

TEST(to_string, ipv4_matches_inet_ntop_for_every_octet_width) {
    for (const unsigned octet : {0u, 1u, 9u, 10u, 42u, 99u, 100u, 199u, 250u, 255u}) {
        for (const unsigned other : {0u, 7u, 77u, 255u}) {
            const std::array<std::uint8_t, 4> raw{static_cast<std::uint8_t>(octet), static_cast<std::uint8_t>(other),
                                                  static_cast<std::uint8_t>(other), static_cast<std::uint8_t>(octet)};
            char expected[INET_ADDRSTRLEN] = {};
            inet_ntop(AF_INET, raw.data(), expected, sizeof expected);
            const auto parsed = gw::parse_ip_address(expected);
            ASSERT_TRUE(parsed) << expected;
            EXPECT_EQ(gw::to_string(*parsed), expected);
        }
    }
}

}  // namespace
