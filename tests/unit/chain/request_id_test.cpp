#include "gatewayd/chain/request_id.hpp"

#include <gtest/gtest.h>

#include <array>
#include <set>
#include <string>

namespace {

TEST(RequestId, GeneratedIdsAre32LowercaseHexAndDistinct) {
    gw::request_id_generator ids(42);
    std::set<std::string> seen;
    for (int i = 0; i < 1000; ++i) {
        const auto id = ids.next();
        const std::string text(id.data(), id.size());
        ASSERT_EQ(text.find_first_not_of("0123456789abcdef"), std::string::npos) << text;
        seen.insert(text);
    }
    EXPECT_EQ(seen.size(), 1000u);
}

TEST(RequestId, EveryPositionTakesEveryHexDigit) {
    gw::request_id_generator ids(7);
    std::array<std::set<char>, 32> seen;
    for (int i = 0; i < 2000; ++i) {
        const auto id = ids.next();
        for (std::size_t p = 0; p < id.size(); ++p) seen[p].insert(id[p]);
    }
    for (std::size_t p = 0; p < seen.size(); ++p) EXPECT_EQ(seen[p].size(), 16u) << "position " << p;
}

TEST(RequestId, DifferentSeedsDiffer) {
    gw::request_id_generator a(1), b(2);
    EXPECT_NE(a.next(), b.next());
}

TEST(RequestId, ClientIdsAcceptedOnlyWhenPrintable) {
    EXPECT_TRUE(gw::acceptable_request_id("abc-123_XYZ.42"));
    EXPECT_TRUE(gw::acceptable_request_id(std::string(128, 'a')));
    EXPECT_FALSE(gw::acceptable_request_id(""));
    EXPECT_FALSE(gw::acceptable_request_id(std::string(129, 'a')));
    EXPECT_FALSE(gw::acceptable_request_id("has space"));
    EXPECT_FALSE(gw::acceptable_request_id("quote\"d"));
    EXPECT_FALSE(gw::acceptable_request_id("new\nline"));
    EXPECT_FALSE(gw::acceptable_request_id("caf\xc3\xa9"));
}

}  // namespace
