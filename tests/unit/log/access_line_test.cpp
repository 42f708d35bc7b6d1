#include "gatewayd/log/access_line.hpp"

#include <gtest/gtest.h>
#include <spdlog/details/log_msg.h>
#include <spdlog/pattern_formatter.h>

#include <chrono>
#include <string>

namespace {

using namespace std::chrono_literals;

gw::access_entry sample() {
    return {"203.0.113.9", "GET", "/items?id=7", 200, "http://10.0.0.2:8080", "api", 2475us, "abc123"};
}

TEST(AccessLine, TextLineHasEveryFieldInOrder) {
    std::string out = "earlier\n";
    gw::append_access_line(out, sample(), "2026-11-28T14:35:30.359+00:00", false);
    EXPECT_EQ(out, "earlier\n2026-11-28T14:35:30.359+00:00 [info] access client=203.0.113.9 method=GET "
                   "path=/items?id=7 status=200 backend=http://10.0.0.2:8080 route=api duration_ms=2.475 "
                   "request_id=abc123\n");
}

TEST(AccessLine, JsonLineIsOneObject) {
    std::string out;
    gw::append_access_line(out, sample(), "2026-11-28T14:35:30.359+00:00", true);
    EXPECT_EQ(out, R"({"time":"2026-11-28T14:35:30.359+00:00","level":"info","msg":"access","client":"203.0.113.9",)"
                   R"("method":"GET","path":"/items?id=7","status":200,"backend":"http://10.0.0.2:8080",)"
                   R"("route":"api","duration_ms":2.475,"request_id":"abc123"})"
                   "\n");
}

TEST(AccessLine, ClientControlledFieldsAreEscaped) {
    auto entry = sample();
    entry.method = "G\"T";
    entry.target = "/a b\n\\";
    entry.request_id = "x\ty";
    std::string text;
    gw::append_access_line(text, entry, "T", false);
    EXPECT_NE(text.find(R"(method=G\x22T path=/a\x20b\x0a\x5c status=)"), std::string::npos) << text;
    EXPECT_NE(text.find(R"(request_id=x\x09y)"), std::string::npos) << text;
    EXPECT_EQ(text.find('\n'), text.size() - 1);
    std::string json;
    gw::append_access_line(json, entry, "T", true);
    EXPECT_NE(json.find(R"("method":"G\"T","path":"/a b\n\\")"), std::string::npos) << json;
    EXPECT_EQ(json.find('\n'), json.size() - 1);
}

TEST(AccessLine, DurationsPrintLikeThreeDecimalMilliseconds) {
    for (const auto micros : {0, 1, 9, 10, 999, 1000, 1001, 123456, 99999999}) {
        auto entry = sample();
        entry.duration = std::chrono::microseconds(micros);
        std::string out;
        gw::append_access_line(out, entry, "T", true);
        char expected[64];
        std::snprintf(expected, sizeof expected, "\"duration_ms\":%.3f,", micros / 1000.0);
        EXPECT_NE(out.find(expected), std::string::npos) << out;
    }
}

// The timestamp must read exactly as the main logger's pattern writes it.
TEST(LogTimestamp, MatchesSpdlogsPattern) {
    spdlog::pattern_formatter formatter("%Y-%m-%dT%H:%M:%S.%e%z", spdlog::pattern_time_type::local, "");
    gw::log_timestamp stamp;
    const auto base = std::chrono::system_clock::now();
    for (const auto step : {0ms, 1ms, 999ms, 1000ms, 61001ms, 3600007ms, 86400123ms}) {
        const auto at = base + step;
        spdlog::details::log_msg msg(at, spdlog::source_loc{}, "x", spdlog::level::info, "");
        spdlog::memory_buf_t expected;
        formatter.format(msg, expected);
        EXPECT_EQ(stamp.format(at), std::string_view(expected.data(), expected.size()));
    }
}

}  // namespace
