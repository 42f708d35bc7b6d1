#include "gatewayd/http/body_decoder.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace {

using gw::body_decoder;
using gw::body_error;

struct decoded {
    std::string body;
    std::size_t consumed = 0;
    bool done = false;
    std::optional<body_error> error;
};

// Feeds `wire` in pieces of `piece` bytes into buffers of `room` bytes, as a relay would.
decoded run(body_decoder decoder, std::string_view wire, std::size_t piece = 1 << 20, std::size_t room = 1 << 20) {
    decoded out;
    std::string space(room, '\0');
    std::string pending;
    std::size_t fed = 0;
    while (!decoder.done() && !decoder.failed()) {
        if (pending.empty()) {
            if (fed == wire.size()) break;
            const auto take = std::min(piece, wire.size() - fed);
            pending.assign(wire.substr(fed, take));
            fed += take;
        }
        const auto step = decoder.decode(pending, space);
        out.body.append(space.data(), step.produced);
        out.consumed += step.consumed;
        pending.erase(0, step.consumed);
    }
    out.done = decoder.done();
    if (decoder.failed()) {
        out.error = static_cast<body_error>(decoder.error().value());
        EXPECT_EQ(&decoder.error().category(), &gw::body_error_category());
    }
    return out;
}

TEST(BodyDecoder, LengthTakesExactlyThatManyBytesAndLeavesTheRest) {
    const auto out = run(body_decoder::with_length(5), "helloGET /next");
    EXPECT_TRUE(out.done);
    EXPECT_EQ(out.body, "hello");
    EXPECT_EQ(out.consumed, 5u);
}

TEST(BodyDecoder, ZeroLengthAndNoBodyAreDoneAtOnce) {
    EXPECT_TRUE(body_decoder::with_length(0).done());
    EXPECT_TRUE(body_decoder::none().done());
}

TEST(BodyDecoder, UntilCloseEndsOnlyAtTheEndOfInput) {
    body_decoder decoder = body_decoder::until_close();
    std::string room(16, '\0');
    const auto step = decoder.decode(std::string_view("abc"), room);
    EXPECT_EQ(step.produced, 3u);
    EXPECT_FALSE(decoder.done());
    decoder.end_of_input();
    EXPECT_TRUE(decoder.done());
    EXPECT_FALSE(decoder.failed());
}

TEST(BodyDecoder, ALengthCutShortIsAnError) {
    body_decoder decoder = body_decoder::with_length(10);
    std::string room(16, '\0');
    decoder.decode(std::string_view("abc"), room);
    decoder.end_of_input();
    EXPECT_TRUE(decoder.failed());
    EXPECT_EQ(decoder.error(), make_error_code(body_error::cut_short));
}

// Every split of the input and every room size gives the same body.
TEST(BodyDecoder, ChunkedDecodesTheSameWhateverTheSplit) {
    const std::string wire = "5\r\nhello\r\n1a;name=value;q=\"a \\\" b\"\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nX-T: 1\r\n\r\nNEXT";
    for (std::size_t piece = 1; piece <= 9; ++piece) {
        for (std::size_t room : {1u, 3u, 64u}) {
            const auto out = run(body_decoder::chunked(0), wire, piece, room);
            EXPECT_TRUE(out.done) << piece << "/" << room;
            EXPECT_EQ(out.body, "helloabcdefghijklmnopqrstuvwxyz") << piece << "/" << room;
            EXPECT_EQ(out.consumed, wire.size() - 4) << piece << "/" << room;
        }
    }
}

TEST(BodyDecoder, ChunkedAcceptsWhatTheGrammarAllows) {
    const std::string_view good[] = {
        "0\r\n\r\n",
        "A\r\n0123456789\r\n0\r\n\r\n",
        "a\r\n0123456789\r\n0\r\n\r\n",
        "000003\r\nabc\r\n0\r\n\r\n",
        "3;ext\r\nabc\r\n0\r\n\r\n",
        "3 ; ext = value ; other\r\nabc\r\n0\r\n\r\n",
        "3;ext=\"quoted;with\\\\stuff\"\r\nabc\r\n0;last\r\n\r\n",
        "0\r\nTrailer-One: a b\r\nTrailer-Two:\r\n\r\n",
    };
    for (const auto wire : good) {
        const auto out = run(body_decoder::chunked(0), wire);
        EXPECT_TRUE(out.done) << wire;
        EXPECT_FALSE(out.error) << wire;
    }
}

// Each of these fails at the byte that breaks the grammar, never by waiting for more.
TEST(BodyDecoder, MalformedChunkedFramingFailsAtOnce) {
    const std::string_view bad[] = {
        "5;a=\"b\r\nhello\r\n0\r\n\r\n",   // quote left open across the line end
        "5\r\nhello\r\n0\r\n\n",            // last chunk's trailer section ended by a bare LF
        "5\nhello\r\n0\r\n\r\n",            // bare LF after the size
        "5\r\nhello\n0\r\n\r\n",            // bare LF after the data
        "5\r\nhelloX\r\n0\r\n\r\n",         // more data than the size
        "5\rhello",                         // bare CR
        "\r\n",                             // no size
        "-5\r\n",                           // not hex
        "0x5\r\n",
        "5 \r\nhello\r\n0\r\n\r\n",         // whitespace with no extension after it
        "5;\r\n",                           // extension without a name
        "5;=v\r\n",
        "5;a=\r\n",                         // '=' without a value
        "5;a=\"v\"x\r\n",                   // bytes after a quoted value
        "5;a=\"\x01\"\r\n",                  // control byte in a quoted value
        "1000000000000000\r\n",             // 16 hex digits: no such chunk
        "0\r\n Folded: x\r\n\r\n",          // trailer starting with whitespace
        "0\r\nNo-Colon\r\n\r\n",
        "0\r\nX: a\nb\r\n\r\n",
        "0\r\n\rx",
    };
    for (const auto wire : bad) {
        const auto out = run(body_decoder::chunked(0), wire);
        EXPECT_FALSE(out.done) << wire;
        ASSERT_TRUE(out.error) << wire;
        EXPECT_EQ(*out.error, body_error::bad_framing) << wire;
    }
}

TEST(BodyDecoder, ChunkLinesAndTrailersAreBounded) {
    std::string long_extension = "5;" + std::string(body_decoder::max_chunk_line, 'a') + "\r\nhello\r\n0\r\n\r\n";
    EXPECT_EQ(run(body_decoder::chunked(0), long_extension).error, body_error::bad_framing);
    std::string long_trailer = "0\r\nX: " + std::string(body_decoder::max_trailer, 'a') + "\r\n\r\n";
    EXPECT_EQ(run(body_decoder::chunked(0), long_trailer).error, body_error::bad_framing);
}

TEST(BodyDecoder, ChunkedBodyOverTheLimitIsTooLargeBeforeItsDataArrives) {
    auto out = run(body_decoder::chunked(8), "5\r\nhello\r\n4\r\n");
    EXPECT_EQ(out.error, body_error::too_large);
    EXPECT_EQ(out.body, "hello");
    out = run(body_decoder::chunked(8), "5\r\nhello\r\n3\r\nabc\r\n0\r\n\r\n");
    EXPECT_TRUE(out.done);
    EXPECT_EQ(out.body, "helloabc");
    EXPECT_EQ(run(body_decoder::chunked(8), "fffffffffffffff\r\n").error, body_error::too_large);
}

TEST(BodyDecoder, ChunkedCutShortIsAnError) {
    body_decoder decoder = body_decoder::chunked(0);
    std::string room(16, '\0');
    decoder.decode(std::string_view("5\r\nhel"), room);
    decoder.end_of_input();
    EXPECT_EQ(decoder.error(), make_error_code(body_error::cut_short));
}

}  // namespace

namespace {

// Body data a relay read straight into its chunk counts as decoded; framing never can be.
TEST(BodyDecoderDirect, ALengthBodyCanBeReadStraightThroughToItsEnd) {
    auto decoder = body_decoder::with_length(100'000);
    EXPECT_EQ(decoder.direct_room(), 100'000u);
    decoder.took_direct(65'536);
    EXPECT_EQ(decoder.direct_room(), 100'000u - 65'536u);
    EXPECT_FALSE(decoder.done());
    decoder.took_direct(100'000 - 65'536);
    EXPECT_TRUE(decoder.done());
    EXPECT_EQ(decoder.direct_room(), 0u);
}

TEST(BodyDecoderDirect, AChunkedBodyOffersOnlyTheRestOfTheCurrentChunk) {
    auto decoder = body_decoder::chunked(0);
    EXPECT_EQ(decoder.direct_room(), 0u);  // a chunk-size line comes first
    std::string out(64, '\0');
    const std::string_view line = "2710\r\n";  // 10,000 bytes
    EXPECT_EQ(decoder.decode(line, out).consumed, line.size());
    EXPECT_EQ(decoder.direct_room(), 10'000u);
    decoder.took_direct(10'000);
    EXPECT_EQ(decoder.direct_room(), 0u);  // the CRLF after the data is framing
    const std::string_view rest = "\r\n0\r\n\r\n";
    const auto step = decoder.decode(rest, out);
    EXPECT_EQ(step.consumed, rest.size());
    EXPECT_EQ(step.produced, 0u);
    EXPECT_TRUE(decoder.done());
    EXPECT_FALSE(decoder.failed());
}

TEST(BodyDecoderDirect, AnUntilCloseBodyTakesAnyAmountUntilTheSourceCloses) {
    auto decoder = body_decoder::until_close();
    EXPECT_GT(decoder.direct_room(), std::uint64_t{1} << 40);
    decoder.took_direct(1'000'000);
    EXPECT_FALSE(decoder.done());
    decoder.end_of_input();
    EXPECT_TRUE(decoder.done());
}

TEST(BodyDecoderDirect, MoreThanTheRoomIsAFramingError) {
    auto decoder = body_decoder::with_length(10);
    decoder.took_direct(11);
    ASSERT_TRUE(decoder.failed());
    EXPECT_EQ(decoder.error(), gw::make_error_code(body_error::bad_framing));
    EXPECT_EQ(decoder.direct_room(), 0u);
}

TEST(BodyDecoderDirect, NoBodyOffersNothing) {
    EXPECT_EQ(body_decoder::none().direct_room(), 0u);
    EXPECT_EQ(body_decoder::with_length(0).direct_room(), 0u);
}

}  // namespace
