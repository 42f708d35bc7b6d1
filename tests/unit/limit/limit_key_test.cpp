#include "gatewayd/limit/limit_key.hpp"

#include <gtest/gtest.h>

namespace {

gw::ip_address address(std::string_view text) { return gw::parse_ip_address(text).value(); }

TEST(LimitKey, ParsesTheThreeKindsAndNothingElse) {
    EXPECT_EQ(gw::parse_limit_key("client_ip"), (gw::limit_key{gw::limit_key::kind::client_ip, ""}));
    EXPECT_EQ(gw::parse_limit_key("global"), (gw::limit_key{gw::limit_key::kind::global, ""}));
    EXPECT_EQ(gw::parse_limit_key("header:X-Api-Key"), (gw::limit_key{gw::limit_key::kind::header, "X-Api-Key"}));
    for (const auto* bad : {"", "header:", "header", "header:X Api", "cookie:x", "Client_IP", "ip", "header:a:b"}) {
        EXPECT_FALSE(gw::parse_limit_key(bad)) << bad;
    }
}

TEST(LimitKey, AnApiKeyIsCountedByItsHashNeverAsItIs) {
    const gw::limit_key api{gw::limit_key::kind::header, "X-Api-Key"};
    // sha256("secret-key-1"), as `printf %s secret-key-1 | sha256sum` gives it.
    EXPECT_EQ(gw::limit_key_part(api, address("10.0.0.7"), "secret-key-1"),
              "a6c1eaef9d5f23f4e13d9b574cbbe07ae877227d92be87d077005dc6776bcdcc");
    EXPECT_EQ(gw::limit_key_part(api, address("10.0.0.7"), std::nullopt), "ip:10.0.0.7");
    EXPECT_EQ(gw::limit_key_part(api, address("2001:db8:1:2:3:4:5:6"), std::nullopt), "ip:2001:db8:1:2::/64");
}

TEST(LimitKey, ClientIpAndGlobal) {
    EXPECT_EQ(gw::limit_key_part({gw::limit_key::kind::client_ip, ""}, address("192.0.2.1"), "ignored"), "192.0.2.1");
    EXPECT_EQ(gw::limit_key_part({gw::limit_key::kind::global, ""}, address("192.0.2.1"), std::nullopt), "all");
}

}  // namespace
