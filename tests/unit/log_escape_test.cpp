#include "gatewayd/log_escape.hpp"

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
