#include "gatewayd/redis/redis_protocol.hpp"

#include <gtest/gtest.h>

namespace {

TEST(RedisProtocol, FormatsCommandsAsResp) {
    EXPECT_EQ(gw::format_command({"INCR", "rate_limit:127.0.0.1"}), "*2\r\n$4\r\nINCR\r\n$20\r\nrate_limit:127.0.0.1\r\n");
    EXPECT_EQ(gw::format_command({"SET", std::string_view("a\0b", 3)}), std::string("*2\r\n$3\r\nSET\r\n$3\r\na\0b\r\n", 22));
}

TEST(RedisProtocol, ReadsRepliesInOrderAcrossPartialFeeds) {
    gw::reply_reader reader;
    ASSERT_TRUE(reader.feed("+OK\r\n:4"));
    auto first = reader.next();
    ASSERT_TRUE(first);
    EXPECT_EQ(first->type, gw::redis_reply::kind::status);
    EXPECT_EQ(first->text, "OK");
    EXPECT_FALSE(reader.next()) << "half an integer is not a reply yet";
    ASSERT_TRUE(reader.feed("2\r\n*2\r\n:7\r\n:59000\r\n-NOSCRIPT No matching script\r\n$-1\r\n"));
    auto integer = reader.next();
    ASSERT_TRUE(integer);
    EXPECT_EQ(integer->integer, 42);
    auto array = reader.next();
    ASSERT_TRUE(array);
    ASSERT_EQ(array->type, gw::redis_reply::kind::array);
    ASSERT_EQ(array->elements.size(), 2u);
    EXPECT_EQ(array->elements[0].integer, 7);
    EXPECT_EQ(array->elements[1].integer, 59000);
    auto error = reader.next();
    ASSERT_TRUE(error);
    EXPECT_TRUE(gw::is_noscript(*error));
    auto nil = reader.next();
    ASSERT_TRUE(nil);
    EXPECT_EQ(nil->type, gw::redis_reply::kind::nil);
    EXPECT_FALSE(reader.next());
    EXPECT_FALSE(reader.failed());
}

TEST(RedisProtocol, GarbageFailsTheReader) {
    gw::reply_reader reader;
    reader.feed("HTTP/1.1 200 OK\r\n");
    EXPECT_FALSE(reader.next());
    EXPECT_TRUE(reader.failed());
}

TEST(RedisProtocol, OnlyANoscriptErrorIsNoscript) {
    gw::reply_reader reader;
    reader.feed("*1\r\n:1\r\n$8\r\nNOSCRIPT\r\n-ERR boom\r\n+NOSCRIPT\r\n");
    for (int i = 0; i < 4; ++i) {
        auto reply = reader.next();
        ASSERT_TRUE(reply) << i;
        EXPECT_FALSE(gw::is_noscript(*reply)) << i;
    }
}

}  // namespace

namespace {

TEST(ReplyReader, AnArrayHeaderOfAMillionElementsFailsTheStreamBeforeHiredisAllocatesIt) {
    EXPECT_FALSE(gw::has_oversized_array_header("*2\r\n:1\r\n:5000\r\n"));
    EXPECT_FALSE(gw::has_oversized_array_header("*999999\r\n"));
    EXPECT_TRUE(gw::has_oversized_array_header("*1000000\r\n"));
    EXPECT_TRUE(gw::has_oversized_array_header("+OK\r\n*404444444\r\n"));

    gw::reply_reader reader;
    EXPECT_FALSE(reader.feed("*404444444\r\n"));
    EXPECT_TRUE(reader.failed());
    EXPECT_FALSE(reader.next().has_value());
}

TEST(ReplyReader, AHugeArrayHeaderSplitAcrossFeedsIsSeenToo) {
    gw::reply_reader reader;
    EXPECT_TRUE(reader.feed(":1\r\n*4044"));
    EXPECT_FALSE(reader.feed("44444\r\n"));
    EXPECT_TRUE(reader.failed());
}

TEST(ReplyReader, NestedArraysKeepTheirShapeWithNilsAndEmptyArrays) {
    gw::reply_reader reader;
    // A CLUSTER SLOTS-like reply, then an empty array and a nil array.
    ASSERT_TRUE(reader.feed("*2\r\n*3\r\n:0\r\n:5460\r\n*2\r\n$9\r\n127.0.0.1\r\n:7000\r\n"
                            "*4\r\n$-1\r\n+OK\r\n-ERR x\r\n*0\r\n*0\r\n*-1\r\n"));
    const auto slots = reader.next();
    ASSERT_TRUE(slots.has_value());
    ASSERT_EQ(slots->elements.size(), 2u);
    const auto& range = slots->elements[0];
    ASSERT_EQ(range.elements.size(), 3u);
    EXPECT_EQ(range.elements[1].integer, 5460);
    ASSERT_EQ(range.elements[2].elements.size(), 2u);
    EXPECT_EQ(range.elements[2].elements[0].text, "127.0.0.1");
    EXPECT_EQ(range.elements[2].elements[1].integer, 7000);
    const auto& mixed = slots->elements[1];
    ASSERT_EQ(mixed.elements.size(), 4u);
    EXPECT_EQ(mixed.elements[0].type, gw::redis_reply::kind::nil);
    EXPECT_EQ(mixed.elements[1].type, gw::redis_reply::kind::status);
    EXPECT_EQ(mixed.elements[2].type, gw::redis_reply::kind::error);
    EXPECT_EQ(mixed.elements[2].text, "ERR x");
    EXPECT_EQ(mixed.elements[3].type, gw::redis_reply::kind::array);
    EXPECT_TRUE(mixed.elements[3].elements.empty());
    const auto empty = reader.next();
    ASSERT_TRUE(empty.has_value());
    EXPECT_EQ(empty->type, gw::redis_reply::kind::array);
    EXPECT_TRUE(empty->elements.empty());
    const auto nil = reader.next();
    ASSERT_TRUE(nil.has_value());
    EXPECT_EQ(nil->type, gw::redis_reply::kind::nil);
    EXPECT_FALSE(reader.next().has_value());
    EXPECT_FALSE(reader.failed());
}

TEST(ReplyReader, GarbageInsideAnArrayFailsTheStreamAfterTheRepliesBeforeIt) {
    gw::reply_reader reader;
    reader.feed(":1\r\n*3\r\n*2\r\n:1\r\n");
    const auto first = reader.next();
    ASSERT_TRUE(first.has_value());
    EXPECT_EQ(first->integer, 1);
    EXPECT_FALSE(reader.next().has_value()) << "the array is not complete yet";
    EXPECT_FALSE(reader.failed());
    reader.feed("?garbage\r\n");
    EXPECT_FALSE(reader.next().has_value());
    EXPECT_TRUE(reader.failed());
}

TEST(ReplyReader, OrdinaryRepliesStillDecodeOneByteAtATime) {
    gw::reply_reader reader;
    const std::string_view stream = "*2\r\n:3\r\n:59000\r\n";
    for (const char byte : stream) ASSERT_TRUE(reader.feed(std::string_view(&byte, 1)));
    const auto reply = reader.next();
    ASSERT_TRUE(reply.has_value());
    ASSERT_EQ(reply->elements.size(), 2u);
    EXPECT_EQ(reply->elements[1].integer, 59000);
}

}  // namespace

TEST(RedisProtocol, AppendCommandEncodesExactlyAsHiredisDoes) {
    const std::string long_value(12345, 'v');
    const std::string_view evalsha[] = {"EVALSHA", "e0e1f9fabfc9d4800c877a703b823ac0578ff831", "1",
                                        "rate_limit:203.0.113.9", "60000"};
    const std::string_view odd[] = {"SET", std::string_view("a\0b\r\n", 5), "", long_value};
    for (const auto args : {std::span<const std::string_view>(evalsha), std::span<const std::string_view>(odd)}) {
        std::string appended = "already here";
        gw::append_command(appended, args);
        EXPECT_EQ(appended, "already here" + gw::format_command({args.begin(), args.end()}));
    }
}
