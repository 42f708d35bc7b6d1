#include "gatewayd/config/duration.hpp"

#include <gtest/gtest.h>

namespace gw {
namespace {

using namespace std::chrono_literals;

TEST(parse_duration, reads_each_unit) {
    EXPECT_EQ(parse_duration("250ms"), 250ms);
    EXPECT_EQ(parse_duration("3s"), 3s);
    EXPECT_EQ(parse_duration("1m"), 1min);
    EXPECT_EQ(parse_duration("1h"), 1h);
}

TEST(parse_duration, reads_zero) {
    EXPECT_EQ(parse_duration("0s"), 0ms);
    EXPECT_EQ(parse_duration("0ms"), 0ms);
}

TEST(parse_duration, adds_units_written_largest_first) {
    EXPECT_EQ(parse_duration("1m30s"), 90s);
    EXPECT_EQ(parse_duration("1h30m15s250ms"), 1h + 30min + 15s + 250ms);
    EXPECT_EQ(parse_duration("2h5ms"), 2h + 5ms);
}

TEST(parse_duration, rejects_a_missing_unit) {
    EXPECT_EQ(parse_duration("3"), std::nullopt);
    EXPECT_EQ(parse_duration("0"), std::nullopt);
    EXPECT_EQ(parse_duration("1m30"), std::nullopt);
}

TEST(parse_duration, rejects_signs_fractions_and_unknown_units) {
    EXPECT_EQ(parse_duration("-1s"), std::nullopt);
    EXPECT_EQ(parse_duration("+1s"), std::nullopt);
    EXPECT_EQ(parse_duration("1.5s"), std::nullopt);
    EXPECT_EQ(parse_duration("1.5x"), std::nullopt);
    EXPECT_EQ(parse_duration("1d"), std::nullopt);
    EXPECT_EQ(parse_duration("3S"), std::nullopt);
    EXPECT_EQ(parse_duration("1us"), std::nullopt);
}

TEST(parse_duration, rejects_empty_and_spaced_text) {
    EXPECT_EQ(parse_duration(""), std::nullopt);
    EXPECT_EQ(parse_duration("s"), std::nullopt);
    EXPECT_EQ(parse_duration(" 3s"), std::nullopt);
    EXPECT_EQ(parse_duration("3s "), std::nullopt);
    EXPECT_EQ(parse_duration("3 s"), std::nullopt);
    EXPECT_EQ(parse_duration("1m 30s"), std::nullopt);
}

TEST(parse_duration, rejects_repeated_or_reordered_units) {
    EXPECT_EQ(parse_duration("1s1s"), std::nullopt);
    EXPECT_EQ(parse_duration("30s1m"), std::nullopt);
    EXPECT_EQ(parse_duration("5ms1s"), std::nullopt);
}

TEST(parse_duration, rejects_overflow) {
    // 2562047788015h is the largest whole number of hours that fits in int64 milliseconds.
    EXPECT_EQ(parse_duration("2562047788015h"), 2562047788015h);
    EXPECT_EQ(parse_duration("2562047788016h"), std::nullopt);
    EXPECT_EQ(parse_duration("2562047788015h59m"), std::nullopt);
    EXPECT_EQ(parse_duration("9223372036854775807ms"), std::chrono::milliseconds{INT64_MAX});
    EXPECT_EQ(parse_duration("9223372036854775808ms"), std::nullopt);
    EXPECT_EQ(parse_duration("99999999999999999999999s"), std::nullopt);
}

TEST(format_duration, writes_largest_units_first) {
    EXPECT_EQ(format_duration(0ms), "0s");
    EXPECT_EQ(format_duration(250ms), "250ms");
    EXPECT_EQ(format_duration(3s), "3s");
    EXPECT_EQ(format_duration(90s), "1m30s");
    EXPECT_EQ(format_duration(1h), "1h");
    EXPECT_EQ(format_duration(1500ms), "1s500ms");
    EXPECT_EQ(format_duration(1h + 1ms), "1h1ms");
}

TEST(format_duration, is_read_back_as_the_same_value) {
    for (auto value : {0ms, 1ms, 999ms, 1000ms, 61001ms, std::chrono::milliseconds{3723004},
                       std::chrono::milliseconds{INT64_MAX}}) {
        EXPECT_EQ(parse_duration(format_duration(value)), value) << format_duration(value);
    }
}

}  // namespace
}  // namespace gw
