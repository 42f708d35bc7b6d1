#pragma once

#include "gatewayd/http/body_decoder.hpp"
#include "gatewayd/http/head_writer.hpp"
#include "gatewayd/io/net.hpp"
#include "gatewayd/io/timed_stream.hpp"

#include <boost/asio/write.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>

#include <algorithm>
#include <array>
#include <span>
#include <string>
#include <tuple>

namespace gw {

// Reads of a body or a head ask for at most this much at a time.
inline constexpr std::size_t max_read_size = 64 * 1024;
// Below this much room behind a head in its chunk, the head goes out alone first.
inline constexpr std::size_t min_body_room = 4096;
// Body data read straight into the outgoing chunk when at least this much of it is expected;
// less goes through the read buffer, where one read also takes the framing that follows.
inline constexpr std::size_t min_direct_read = 8192;

// A head waiting to go out with the first body bytes behind it.
struct pending_head {
    std::span<const char> bytes;
    std::size_t chunk_offset = 0;  // bytes of the chunk it occupies (0: it lives elsewhere)
};

// Writes `head` at the front of `chunk`, or into `overflow` when it is larger than the chunk
// (possible only with a max_header_bytes near its 1 MiB limit).
template <class Head>
pending_head place_head(const Head& head, std::span<char> chunk, std::string& overflow) {
    if (const std::size_t size = write_head(head, chunk); size != 0) return {{chunk.data(), size}, size};
    overflow.resize(head_size(head));
    write_head(head, overflow);
    return {{overflow.data(), overflow.size()}, 0};
}

// Where a body relay stopped, if it did not finish: the side that failed and how.
struct relay_errors {
    boost::system::error_code read;
    boost::system::error_code write;
};

// One parse step over bytes already buffered, the step an asynchronous read takes before it
// reads: false when the parser needs more input (the caller reads), else true with the step's
// result in `ec`. A head that arrived whole is parsed here, without an asynchronous operation
// that would complete at once (a post and a scheduler round per request).
template <bool is_request, class DynamicBuffer>
bool parse_buffered(boost::beast::http::basic_parser<is_request>& parser, DynamicBuffer& buffer,
                    boost::system::error_code& ec) {
    if (buffer.size() == 0) return false;
    buffer.consume(parser.put(buffer.data(), ec));
    if (ec != boost::beast::http::error::need_more) return true;
    ec = {};
    return false;
}

template <class DynamicBuffer>
std::span<const char> buffered_bytes(const DynamicBuffer& buffer) {
    const auto data = buffer.data();
    return {static_cast<const char*>(data.data()), data.size()};
}

// Reads into `buffer` what its room allows (at most max_read_size), under the socket's deadline.
template <class DynamicBuffer>
net::awaitable<boost::system::error_code> read_more(timed_stream& source, DynamicBuffer& buffer) {
    const std::size_t room = std::min(buffer.max_size() - buffer.size(), max_read_size);
    if (room == 0) co_return boost::beast::http::error::buffer_overflow;
    auto [ec, n] = co_await source.async_read_some(buffer.prepare(room), net::nothrow);
    buffer.commit(n);
    co_return ec;
}

// The write side of a relay while more of the body is coming: Asio's composed write over
// timed_stream::async_write_some_more (MSG_MORE on every piece).
struct more_to_come {
    using executor_type = timed_stream::executor_type;
    timed_stream& stream;
    executor_type get_executor() { return stream.get_executor(); }
    template <class ConstBuffers, class Token>
    auto async_write_some(const ConstBuffers& buffers, Token&& token) {
        return stream.async_write_some_more(buffers, std::forward<Token>(token));
    }
};

// Moves one message body from `source` to `destination` a chunk at a time as `body` decodes
// it, framed chunked or as is; a pending head goes out with the first bytes. Every read and
// write gets `gap` to make progress. A framing error is a read error (body_error).
// Between plain sockets, a piece of min_direct_read or more with body still to come is written
// with MSG_MORE (held back by the kernel until a full segment or the next write); the read that
// follows first looks without waiting, and when nothing is there yet it releases what was held
// before it waits, so a pause of the source never keeps data from the destination.
template <class DynamicBuffer>
net::awaitable<relay_errors> relay_body(timed_stream& source, DynamicBuffer& source_buffer, body_decoder& body,
                                        timed_stream& destination, pending_head head, bool chunked,
                                        std::span<char> chunk, duration gap) {
    namespace asio = boost::asio;
    if (!head.bytes.empty() && chunk.size() - head.chunk_offset < min_body_room) {
        destination.expires_after(gap);
        auto [ec, n] = co_await asio::async_write(destination, asio::buffer(head.bytes), net::nothrow);
        if (ec) co_return relay_errors{{}, destination.outcome(ec)};
        head = {};
    }
    const bool plain = !source.secure() && !destination.secure();
    bool held = false;  // the last write went with MSG_MORE
    for (;;) {
        const std::span<char> room = chunk.subspan(head.chunk_offset);
        std::size_t got = 0;
        while (!body.done()) {
            const auto step = body.decode(buffered_bytes(source_buffer), room);
            source_buffer.consume(step.consumed);
            got = step.produced;
            if (body.failed()) co_return relay_errors{body.error(), {}};
            if (got > 0 || body.done()) break;
            // Inside a large stretch of body data the read lands in the chunk: one copy less.
            const bool direct = source_buffer.size() == 0 && body.direct_room() >= min_direct_read;
            asio::mutable_buffer into;
            if (direct) {
                into = asio::buffer(room.data(), static_cast<std::size_t>(std::min<std::uint64_t>(
                                                     body.direct_room(), std::min(room.size(), max_read_size))));
            } else {
                const std::size_t space = std::min(source_buffer.max_size() - source_buffer.size(), max_read_size);
                if (space == 0) co_return relay_errors{boost::beast::http::error::buffer_overflow, {}};
                into = source_buffer.prepare(space);
            }
            boost::system::error_code ec;
            std::size_t n = 0;
            if (held) {
                n = source.read_some_now(into, ec);
                if (ec == asio::error::would_block) {
                    destination.release_held();
                    held = false;
                }
            }
            if (!held) {
                source.expires_after(gap);
                std::tie(ec, n) = co_await source.async_read_some(into, net::nothrow);
            }
            if (direct) {
                body.took_direct(n);
                got = n;
                if (!ec || n > 0) break;
            } else {
                source_buffer.commit(n);
            }
            if (ec) {
                if (ec != asio::error::eof) co_return relay_errors{source.outcome(ec), {}};
                body.end_of_input();
                if (body.failed()) co_return relay_errors{body.error(), {}};
            }
        }
        const bool last = body.done();
        // An empty piece is no chunk of its own: it is left out, as is framing with no data.
        const chunk_size_line size_line(got);
        std::array<asio::const_buffer, 5> pieces;
        std::size_t count = 0;
        if (!head.bytes.empty()) pieces[count++] = asio::buffer(head.bytes);
        if (got > 0 && chunked) pieces[count++] = asio::buffer(size_line.text());
        if (got > 0) pieces[count++] = asio::buffer(room.data(), got);
        if (got > 0 && chunked) pieces[count++] = asio::buffer(crlf);
        if (last && chunked) pieces[count++] = asio::buffer(last_chunk);
        if (count > 0) {
            const std::span<const asio::const_buffer> out(pieces.data(), count);
            destination.expires_after(gap);
            held = plain && !last && got >= min_direct_read;
            more_to_come more{destination};
            auto [ec, n] = held ? co_await asio::async_write(more, out, net::nothrow)
                                : co_await asio::async_write(destination, out, net::nothrow);
            if (ec) co_return relay_errors{{}, destination.outcome(ec)};
            head = {};
        }
        if (last) co_return relay_errors{};
    }
}

}  // namespace gw
