#include "gatewayd/log/log_escape.hpp"

#include <gtest/gtest.h>

namespace {

TEST(LogEscape, JsonEscapesQuotesBackslashesAndControls) {
    EXPECT_EQ(gw::json_escape("plain /path?a=1"), "plain /path?a=1");
    EXPECT_EQ(gw::json_escape("a\"b\\c"), "a\\\"b\\\\c");
    EXPECT_EQ(gw::json_escape("line\nbreak\r\t"), "line\\nbreak\\r\\t");
    EXPECT_EQ(gw::json_escape(std::string("nul\0x", 5)), "nul\\u0000x");
    EXPECT_EQ(gw::json_escape("\x1b[31m"), "\\u001b[31m");
    EXPECT_EQ(gw::json_escape("caf\xc3\xa9"), "caf\xc3\xa9");
}

TEST(LogEscape, TextCannotSplitOrForgeLines) {
    EXPECT_EQ(gw::text_escape("/ok/path?x=1"), "/ok/path?x=1");
    EXPECT_EQ(gw::text_escape("/a\nfake status=200"), "/a\\x0afake\\x20status=200");
    EXPECT_EQ(gw::text_escape("q\"b\\"), "q\\x22b\\x5c");
    EXPECT_EQ(gw::text_escape("\x7f"), "\\x7f");
}

}  // namespace

namespace {

TEST(LogEscape, JsonKeepsWellFormedUtf8AndEscapesEveryOtherHighByte) {
    EXPECT_EQ(gw::json_escape("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"), "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
    EXPECT_EQ(gw::json_escape("/high\xff\xfe\x80"), "/high\\u00ff\\u00fe\\u0080");
    EXPECT_EQ(gw::json_escape("\xc3"), "\\u00c3");                       // cut short
    EXPECT_EQ(gw::json_escape("\xc0\xaf"), "\\u00c0\\u00af");            // overlong '/'
    EXPECT_EQ(gw::json_escape("\xed\xa0\x80"), "\\u00ed\\u00a0\\u0080"); // a surrogate
    EXPECT_EQ(gw::json_escape("\xf4\x90\x80\x80"), "\\u00f4\\u0090\\u0080\\u0080");  // above U+10FFFF
}

}  // namespace
