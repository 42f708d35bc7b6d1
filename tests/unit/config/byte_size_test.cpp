#include "gatewayd/config/byte_size.hpp"

#include <gtest/gtest.h>

namespace gw {
namespace {

TEST(parse_byte_size, reads_plain_bytes) {
    EXPECT_EQ(parse_byte_size("0"), 0u);
    EXPECT_EQ(parse_byte_size("1024"), 1024u);
    EXPECT_EQ(parse_byte_size("1048576"), 1048576u);
}

TEST(parse_byte_size, reads_binary_units) {
    EXPECT_EQ(parse_byte_size("16KiB"), 16u * 1024);
    EXPECT_EQ(parse_byte_size("1MiB"), 1024u * 1024);
    EXPECT_EQ(parse_byte_size("1GiB"), 1024u * 1024 * 1024);
    EXPECT_EQ(parse_byte_size("0KiB"), 0u);
}

TEST(parse_byte_size, rejects_fractions_and_signs) {
    EXPECT_EQ(parse_byte_size("1.5KiB"), std::nullopt);
    EXPECT_EQ(parse_byte_size("-1"), std::nullopt);
    EXPECT_EQ(parse_byte_size("+1"), std::nullopt);
    EXPECT_EQ(parse_byte_size("1e3"), std::nullopt);
    EXPECT_EQ(parse_byte_size("0x10"), std::nullopt);
}

TEST(parse_byte_size, rejects_decimal_and_misspelt_units) {
    // "KB" could mean 1000 or 1024; only the unambiguous binary units are accepted.
    EXPECT_EQ(parse_byte_size("1KB"), std::nullopt);
    EXPECT_EQ(parse_byte_size("1K"), std::nullopt);
    EXPECT_EQ(parse_byte_size("1kib"), std::nullopt);
    EXPECT_EQ(parse_byte_size("1TiB"), std::nullopt);
    EXPECT_EQ(parse_byte_size("1B"), std::nullopt);
}

TEST(parse_byte_size, rejects_empty_and_spaced_text) {
    EXPECT_EQ(parse_byte_size(""), std::nullopt);
    EXPECT_EQ(parse_byte_size("KiB"), std::nullopt);
    EXPECT_EQ(parse_byte_size("1 KiB"), std::nullopt);
    EXPECT_EQ(parse_byte_size(" 1KiB"), std::nullopt);
    EXPECT_EQ(parse_byte_size("1KiB "), std::nullopt);
}

TEST(parse_byte_size, rejects_overflow) {
    EXPECT_EQ(parse_byte_size("18446744073709551615"), UINT64_MAX);
    EXPECT_EQ(parse_byte_size("18446744073709551616"), std::nullopt);
    EXPECT_EQ(parse_byte_size("17179869183GiB"), 17179869183ull << 30);
    EXPECT_EQ(parse_byte_size("17179869184GiB"), std::nullopt);
}

}  // namespace
}  // namespace gw
