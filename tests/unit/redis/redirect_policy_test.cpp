#include "gatewayd/redis/redirect_policy.hpp"

#include "reply_builders.hpp"

#include <gtest/gtest.h>

namespace {

using gw::test::error;
using action = gw::redirect_step::action;
using namespace std::chrono_literals;

gw::redis_reply ok() {
    gw::redis_reply reply;
    reply.type = gw::redis_reply::kind::array;
    return reply;
}

TEST(RedisError, ReadsRedirectsWithTheirSlotAndNode) {
    auto moved = gw::classify_error(error("MOVED 3999 127.0.0.1:6381"), "10.0.0.1");
    EXPECT_EQ(moved.what, gw::redis_error::kind::moved);
    EXPECT_EQ(moved.slot, 3999);
    EXPECT_EQ(moved.target, (gw::host_port{"127.0.0.1", 6381}));
    auto ask = gw::classify_error(error("ASK 16383 redis-2.example:7000"), "10.0.0.1");
    EXPECT_EQ(ask.what, gw::redis_error::kind::ask);
    EXPECT_EQ(ask.slot, 16383);
    EXPECT_EQ(ask.target, (gw::host_port{"redis-2.example", 7000}));
    auto v6 = gw::classify_error(error("MOVED 1 ::1:7001"), "x");
    EXPECT_EQ(v6.target, (gw::host_port{"::1", 7001}));
}

TEST(RedisError, AnEmptyHostInARedirectIsTheHostAlreadyUsed) {
    auto moved = gw::classify_error(error("MOVED 3999 :6380"), "10.0.0.7");
    EXPECT_EQ(moved.what, gw::redis_error::kind::moved);
    EXPECT_EQ(moved.target, (gw::host_port{"10.0.0.7", 6380}));
}

TEST(RedisError, KnowsTheErrorsAClusterClientActsOn) {
    EXPECT_EQ(gw::classify_error(error("TRYAGAIN Multiple keys request during rehashing of slot"), "").what,
              gw::redis_error::kind::tryagain);
    EXPECT_EQ(gw::classify_error(error("CLUSTERDOWN The cluster is down"), "").what, gw::redis_error::kind::clusterdown);
    EXPECT_EQ(gw::classify_error(error("NOSCRIPT No matching script. Please use EVAL."), "").what,
              gw::redis_error::kind::noscript);
    EXPECT_EQ(gw::classify_error(error("READONLY You can't write against a read only replica."), "").what,
              gw::redis_error::kind::readonly);
    EXPECT_EQ(gw::classify_error(error("CROSSSLOT Keys in request don't hash to the same slot"), "").what,
              gw::redis_error::kind::other);
    EXPECT_EQ(gw::classify_error(ok(), "").what, gw::redis_error::kind::none);
}

TEST(RedisError, AMalformedRedirectIsJustAnError) {
    for (const char* text : {"MOVED", "MOVED ", "MOVED 3999", "MOVED x 1.2.3.4:5", "MOVED 16384 h:1", "MOVED 1 h:0",
                             "MOVED 1 h:70000", "MOVED 1 h", "ASK 1 :", "MOVEDX 1 h:1", "MOVED -1 h:1"}) {
        EXPECT_EQ(gw::classify_error(error(text), "h").what, gw::redis_error::kind::other) << text;
    }
}

TEST(RedirectPolicy, AReplyThatIsNoErrorIsTheAnswer) {
    gw::redirect_policy policy;
    EXPECT_EQ(policy.next(ok(), "h").what, action::done);
    gw::redis_reply integer;
    integer.type = gw::redis_reply::kind::integer;
    EXPECT_EQ(policy.next(integer, "h").what, action::done);
}

TEST(RedirectPolicy, MovedFixesTheSlotAsksForANewMapAndSendsThere) {
    gw::redirect_policy policy;
    const auto step = policy.next(error("MOVED 42 :7002"), "127.0.0.1");
    EXPECT_EQ(step.what, action::send_to);
    EXPECT_EQ(step.target, (gw::host_port{"127.0.0.1", 7002}));
    EXPECT_EQ(step.slot, 42);
    EXPECT_TRUE(step.move_slot);
    EXPECT_TRUE(step.refresh);
    EXPECT_FALSE(policy.asking());
    EXPECT_EQ(policy.next(ok(), "127.0.0.1").what, action::done);
}

TEST(RedirectPolicy, AskIsFollowedOnceWithAsking) {
    gw::redirect_policy policy;
    const auto step = policy.next(error("ASK 42 127.0.0.1:7003"), "127.0.0.1");
    EXPECT_EQ(step.what, action::ask);
    EXPECT_EQ(step.target, (gw::host_port{"127.0.0.1", 7003}));
    EXPECT_FALSE(step.move_slot) << "ASK is for this command only";
    EXPECT_FALSE(step.refresh);
    EXPECT_TRUE(policy.asking());
    const auto again = policy.next(error("ASK 42 127.0.0.1:7004"), "127.0.0.1");
    EXPECT_EQ(again.what, action::store_error);
}

TEST(RedirectPolicy, MovedAfterAskIsFollowedWithoutAsking) {
    gw::redirect_policy policy;
    policy.next(error("ASK 42 127.0.0.1:7003"), "127.0.0.1");
    const auto step = policy.next(error("MOVED 42 127.0.0.1:7003"), "127.0.0.1");
    EXPECT_EQ(step.what, action::send_to);
    EXPECT_FALSE(policy.asking());
}

TEST(RedirectPolicy, TryagainWaitsLongerEachTimeThenGivesUp) {
    gw::redirect_policy policy;
    std::chrono::milliseconds last{0};
    for (int i = 0; i < gw::redirect_policy::max_retries; ++i) {
        const auto step = policy.next(error("TRYAGAIN Multiple keys request during rehashing of slot"), "h");
        ASSERT_EQ(step.what, action::wait_then_send) << i;
        EXPECT_GT(step.wait, last);
        last = step.wait;
    }
    EXPECT_EQ(last, 80ms);
    EXPECT_EQ(policy.next(error("TRYAGAIN"), "h").what, action::store_error);
}

TEST(RedirectPolicy, TryagainStartsOverSoAnAskMayBeFollowedAgain) {
    gw::redirect_policy policy;
    policy.next(error("ASK 1 h:2"), "h");
    EXPECT_EQ(policy.next(error("TRYAGAIN"), "h").what, action::wait_then_send);
    EXPECT_FALSE(policy.asking());
    EXPECT_EQ(policy.next(error("ASK 1 h:2"), "h").what, action::ask);
}

TEST(RedirectPolicy, RedirectsAreCapped) {
    gw::redirect_policy policy;
    for (int i = 0; i < gw::redirect_policy::max_redirects; ++i) {
        ASSERT_EQ(policy.next(error("MOVED 1 h:" + std::to_string(7000 + i % 2)), "h").what, action::send_to) << i;
    }
    const auto step = policy.next(error("MOVED 1 h:7000"), "h");
    EXPECT_EQ(step.what, action::store_error);
    EXPECT_EQ(step.reason, "too many redirects");
    EXPECT_TRUE(step.refresh);
}

TEST(RedirectPolicy, NoscriptSendsTheScriptTextOnceWithAskingKept) {
    gw::redirect_policy policy;
    policy.next(error("ASK 1 h:2"), "h");
    const auto step = policy.next(error("NOSCRIPT No matching script. Please use EVAL."), "h");
    EXPECT_EQ(step.what, action::script_text);
    EXPECT_TRUE(policy.script_text());
    EXPECT_TRUE(policy.asking()) << "the EVAL goes where the ASK said, with ASKING again";
    EXPECT_EQ(policy.next(error("NOSCRIPT"), "h").what, action::store_error);
}

TEST(RedirectPolicy, ClusterdownReadonlyAndNoAnswerAreStoreErrorsThatAskForANewMap) {
    for (const char* text : {"CLUSTERDOWN The cluster is down", "READONLY You can't write against a read only replica."}) {
        gw::redirect_policy policy;
        const auto step = policy.next(error(text), "h");
        EXPECT_EQ(step.what, action::store_error) << text;
        EXPECT_TRUE(step.refresh) << text;
    }
    gw::redirect_policy policy;
    const auto step = policy.next(std::nullopt, "h");
    EXPECT_EQ(step.what, action::store_error);
    EXPECT_TRUE(step.refresh);
}

TEST(RedirectPolicy, OtherErrorsAreStoreErrors) {
    for (const char* text : {"CROSSSLOT Keys in request don't hash to the same slot", "ERR unknown command",
                             "LOADING Redis is loading the dataset in memory", "MOVED garbage"}) {
        gw::redirect_policy policy;
        const auto step = policy.next(error(text), "h");
        EXPECT_EQ(step.what, action::store_error) << text;
        EXPECT_FALSE(step.refresh) << text;
    }
}

}  // namespace
