#include "gatewayd/limit/fixed_window.hpp"
#include "gatewayd/limit/limit_script.hpp"

#include <gtest/gtest.h>

namespace {

using namespace std::chrono_literals;

TEST(LimitScript, HoldsEveryAlgorithmsDecisionInItsOwnBranch) {
    const std::string& script = gw::limit_script();
    for (const auto* algorithm : gw::limit_algorithms()) {
        EXPECT_NE(script.find("kind == '" + std::string(algorithm->name()) + "' then " +
                              std::string(algorithm->lua_decide())),
                  std::string::npos)
            << algorithm->name();
    }
    EXPECT_EQ(script.find("function"), std::string::npos) << "no closure is built on every call";
}

TEST(LimitScript, ArgumentsAreTheTimeAndTheStepThenFiveValuesPerCheck) {
    const gw::fixed_window window;
    const auto first = gw::make_limit_rule("default", &window, {100, 60s, 0}, false, "p:");
    const auto second = gw::make_limit_rule("burst", &window, {5, 1500ms, 7}, true, "p:burst:");
    const std::vector<gw::limit_check> checks{{&first, "p:k1"}, {&second, "p:burst:k2"}};
    std::array<char, 24> now_text;
    gw::limit_args args;
    gw::limit_script_args(checks, 1'733'000'000'123, now_text, args);
    const std::vector<std::string_view> expected{"1733000000123", "c", "fixed_window", "100", "60000", "0", "0",
                                                 "fixed_window", "5", "1500", "7", "1"};
    EXPECT_EQ(std::vector<std::string_view>(args.begin(), args.end()), expected);

    // Decide-only, over the second check alone (a request whose keys span hash slots).
    gw::limit_script_head(1'733'000'000'124, gw::limit_step::decide_only, now_text, args);
    gw::append_check_args(checks[1], args);
    const std::vector<std::string_view> second_only{"1733000000124", "d", "fixed_window", "5", "1500", "7", "1"};
    EXPECT_EQ(std::vector<std::string_view>(args.begin(), args.end()), second_only);
}

gw::redis_reply integers(std::initializer_list<long long> values) {
    gw::redis_reply reply;
    reply.type = gw::redis_reply::kind::array;
    for (const long long value : values) {
        gw::redis_reply element;
        element.type = gw::redis_reply::kind::integer;
        element.integer = value;
        reply.elements.push_back(element);
    }
    return reply;
}

// Remaining when allowed, -1 minus the retry-after when refused; then the reset.
TEST(LimitScript, RepliesAreTwoIntegersPerCheck) {
    gw::limit_verdicts verdicts;
    ASSERT_TRUE(gw::decode_limit_reply(integers({99, 60000, -1201, 1500, 0, 30000}), 3, verdicts));
    ASSERT_EQ(verdicts.size(), 3u);
    EXPECT_TRUE(verdicts[0].allowed);
    EXPECT_EQ(verdicts[0].remaining, 99u);
    EXPECT_EQ(verdicts[0].reset, 60s);
    EXPECT_FALSE(verdicts[1].allowed);
    EXPECT_EQ(verdicts[1].remaining, 0u);
    EXPECT_EQ(verdicts[1].retry_after, 1200ms);
    EXPECT_EQ(verdicts[1].reset, 1500ms);
    EXPECT_TRUE(verdicts[2].allowed) << "the last request a rule allows leaves 0, and is allowed";
    EXPECT_FALSE(gw::decode_limit_reply(integers({99, 60000, 5}), 1, verdicts));
    EXPECT_FALSE(gw::decode_limit_reply(integers({99}), 1, verdicts));
    gw::redis_reply text;
    text.type = gw::redis_reply::kind::string;
    EXPECT_FALSE(gw::decode_limit_reply(text, 1, verdicts));
}

}  // namespace
