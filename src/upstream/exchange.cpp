#include "gatewayd/upstream/exchange.hpp"

#include "gatewayd/app/event_loop.hpp"
#include "gatewayd/http/body_relay.hpp"
#include "gatewayd/http/header_rewrite.hpp"
#include "gatewayd/http/local_reply.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/beast/core/flat_static_buffer.hpp>
#include <spdlog/spdlog.h>

#include <limits>

namespace gw {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

using net::nothrow;
using boost::system::error_code;

constexpr std::size_t upstream_header_limit = block_pool::block_size - 4096;
constexpr std::uint64_t unlimited = std::numeric_limits<std::uint64_t>::max();

// A reset or an orderly close before any byte: what a backend's idle-timeout race looks like
// (over TLS also a close without close_notify).
bool looks_stale(const error_code& ec) {
    return ec == http::error::end_of_stream || ec == asio::error::eof || ec == asio::error::connection_reset ||
           ec == asio::error::broken_pipe || ec == http::error::partial_message ||
           ec == asio::ssl::error::stream_truncated;
}

// Shared by the two halves of an exchange whose request has a body.
struct duplex_state {
    explicit duplex_state(const net::executor& executor) : response_deadline(executor) {}
    net::steady_timer response_deadline;  // upstream.timeout, armed once the request is out
    bool upload_done = false;
    bool header_received = false;
    bool response_timed_out = false;
    bool download_done = false;
};

// Relays the client's body to the backend chunk by chunk. It runs beside the response reader
// so that a backend that answers while it still reads (an echo, an early error) cannot
// deadlock the two directions.
net::awaitable<relay_errors> upload_body(request_context& context, pending_head head, bool& body_read,
                                         std::span<char> chunk, duplex_state& state) {
    auto& client = context.client;
    auto& body = context.facts.body;
    timed_stream& upstream = client.upstream;
    body_read = true;
    // A read error is the client's, a write error the backend's.
    const auto errors = co_await relay_body(client.stream, client.buffer, body, upstream, head, body.is_chunked(),
                                            chunk, context.settings.client.body_timeout);
    state.upload_done = true;
    error_code ignored;
    if (errors.read) {
        // Half a request went out: unless an answer is already flowing, abandon the backend.
        // Closed, not cancelled: the response reader beside this may not have started yet (a
        // bad chunk already in the buffer fails before any wait).
        if (!state.header_received && !state.download_done) upstream.socket().close(ignored);
        co_return errors;
    }
    if (errors.write || state.header_received || state.download_done) co_return errors;
    // The request is out: from now on the backend has upstream.timeout to start its answer.
    state.response_deadline.expires_after(context.settings.upstream.timeout);
    auto [ec] = co_await state.response_deadline.async_wait(nothrow);
    if (!ec && !state.header_received && !state.download_done) {
        state.response_timed_out = true;
        upstream.socket().cancel(ignored);
    }
    co_return errors;
}

// Reads a response head into `parser` under the deadline already set on `upstream`; `came`
// says whether any byte of it arrived (a reused connection that fails before one is stale).
net::awaitable<error_code> read_response_head(timed_stream& upstream, beast::flat_static_buffer_base& buffer,
                                              response_parser& parser, bool& came) {
    for (;;) {
        error_code ec;
        if (parse_buffered(parser, buffer, ec)) co_return ec;
        const std::size_t before = buffer.size();
        ec = co_await read_more(upstream, buffer);
        came = came || buffer.size() > before;
        if (ec == asio::error::eof && buffer.size() > 0) co_return http::error::partial_message;
        if (ec) co_return ec;
    }
}

// The response body's framing (RFC 9112 6.3): none (HEAD, 1xx, 204, 304, a zero length), a
// length, chunked, or whatever comes until the backend closes.
body_decoder response_body(const response_parser& parser) {
    if (parser.is_done()) return body_decoder::none();
    if (parser.chunked()) return body_decoder::chunked(0);
    if (parser.content_length()) return body_decoder::with_length(*parser.content_length());
    return body_decoder::until_close();
}

// Sets the response's framing toward the client; false when the body must end with a close.
bool frame_response(response_message& response, const response_parser& parser, const request_facts& facts) {
    const unsigned status = response.result_int();
    if (facts.head || status == 204 || status == 304) return true;
    if (parser.content_length()) {
        response.content_length(*parser.content_length());
        return true;
    }
    // Chunked or read-until-close upstream: re-chunk for HTTP/1.1 clients, close for 1.0 ones.
    if (facts.version >= 11) {
        response.chunked(true);
        return true;
    }
    return false;
}

// Whatever way the response side ends, the upload beside it must not wait on the client.
struct finish_duplex {
    duplex_state* state;
    client_connection& client;
    ~finish_duplex() {
        if (state == nullptr) return;
        state->download_done = true;
        state->response_deadline.cancel();
        error_code ignored;
        if (!state->upload_done) client.stream.socket().cancel(ignored);
    }
};

// Reads the response head, skipping interim 1xx answers (the client's Expect was answered by
// us already); `result` says what went wrong when nothing usable came.
net::awaitable<bool> receive_response_head(request_context& context, beast::flat_static_buffer_base& buffer,
                                           std::optional<response_parser>& reader, bool reused, duplex_state* duplex,
                                           exchange_result& result) {
    bool came = false;
    for (;;) {
        reader.emplace();
        reader->header_limit(upstream_header_limit);
        reader->body_limit(unlimited);
        if (context.facts.head) reader->skip(true);
        const auto read_ec = co_await read_response_head(context.client.upstream, buffer, *reader, came);
        if (const auto ec = context.client.upstream.outcome(read_ec)) {
            result.stage = exchange_stage::before_response;
            result.stale = reused && !came && looks_stale(ec);
            const bool timed_out = ec == beast::error::timeout || (duplex != nullptr && duplex->response_timed_out);
            result.error = timed_out ? gateway_error::gateway_timeout : gateway_error::bad_gateway;
            co_return false;
        }
        const unsigned status = reader->get().result_int();
        // The parser takes any three digits; RFC 9110 status codes are 100-599. Anything else
        // (and an upgrade we did not ask for) is a broken response: 502, connection dropped.
        const bool switching = status == 101 && !context.facts.upgrade.empty();
        if (status < 100 || status > 599 || (status == 101 && !switching)) {
            result.stage = exchange_stage::before_response;
            co_return false;
        }
        if (status >= 200 || switching) co_return true;
    }
}

// The backend agreed to switch protocols: its 101 goes to the client with whatever bytes of the
// new protocol came with it, and the connection becomes a tunnel (run by the proxy once the
// breaker has counted the 101 as a success).
net::awaitable<exchange_result> relay_switch(request_context& context, response_message& response,
                                             beast::flat_static_buffer_base& upstream_buffer, std::span<char> chunk) {
    auto& client = context.client;
    const auto& facts = context.facts;
    exchange_result result;
    result.status = 101;
    rewrite_switching_headers(response, facts.id());
    if (facts.rate) set_rate_limit_headers(response, *facts.rate, {facts.rate_headers, facts.rate_policy}, false);
    response.version(11);
    std::string overflow;
    const pending_head head = place_head(response.base(), chunk, overflow);
    const std::array<asio::const_buffer, 2> pieces{asio::buffer(head.bytes), upstream_buffer.data()};
    client.stream.expires_after(context.settings.client.body_timeout);
    auto [ec, n] = co_await asio::async_write(client.stream, pieces, nothrow);
    result.tunnel = !ec;
    co_return result;
}

// Reads the backend's response and relays it to the client. With `duplex` the request body is
// still being uploaded beside it.
net::awaitable<exchange_result> relay_response(request_context& context, bool reused, std::span<char> chunk,
                                               duplex_state* duplex) {
    auto& client = context.client;
    const auto& facts = context.facts;
    const auto& settings = context.settings;
    exchange_result result;
    const finish_duplex finish{duplex, client};
    const auto read_block = context.loop.blocks().acquire();
    beast::flat_static_buffer_base upstream_buffer(read_block.span().data(), read_block.span().size());
    std::optional<response_parser> reader;
    if (duplex != nullptr) {
        client.upstream.expires_never();
    } else {
        client.upstream.expires_after(settings.upstream.timeout);
    }
    if (!co_await receive_response_head(context, upstream_buffer, reader, reused, duplex, result)) co_return result;
    if (duplex != nullptr) {
        duplex->header_received = true;
        duplex->response_deadline.cancel();
    }

    auto& response = reader->get();
    result.status = response.result_int();
    if (result.status == 101) co_return co_await relay_switch(context, response, upstream_buffer, chunk);
    bool backend_keep_alive = reader->keep_alive();
    rewrite_response_headers(response, facts.id());
    if (facts.rate) set_rate_limit_headers(response, *facts.rate, {facts.rate_headers, facts.rate_policy}, false);
    result.client_keep_alive = frame_response(response, *reader, facts) && facts.keep_alive;
    body_decoder body = response_body(*reader);
    if (!body.done() && !body.is_chunked() && !body.has_length()) backend_keep_alive = false;  // ends with a close
    response.version(facts.version >= 11 ? 11 : 10);
    response.keep_alive(result.client_keep_alive);

    std::string overflow;
    pending_head head = place_head(response.base(), chunk, overflow);
    // When the body (or its start) came with the header, both go out in one write; otherwise the
    // header goes first so that the client sees it before a slow body.
    if (upstream_buffer.size() == 0 && !body.done()) {
        client.stream.expires_after(settings.client.body_timeout);
        if (auto [ec, n] = co_await asio::async_write(client.stream, asio::buffer(head.bytes), nothrow); ec) {
            result.client_keep_alive = false;
            co_return result;
        }
        head = {};
    }
    const auto relayed = co_await relay_body(client.upstream, upstream_buffer, body, client.stream, head,
                                             response.chunked(), chunk, settings.client.body_timeout);
    // Once the head is out all we can do is cut the client off, so it sees a short body.
    if (relayed.read) spdlog::warn("backend response cut short: {}", relayed.read.message());
    if (relayed.read || relayed.write) {
        result.client_keep_alive = false;
        co_return result;
    }
    if (duplex != nullptr && !duplex->upload_done) {
        // The backend answered without taking the whole body: the rest of it is still in the
        // client's stream, so this connection cannot carry another request.
        result.client_keep_alive = false;
        backend_keep_alive = false;
    }
    result.upstream_reusable = backend_keep_alive && body.done() && upstream_buffer.size() == 0;
    co_return result;
}

}  // namespace

net::awaitable<exchange_result> exchange(request_context& context, bool reused, std::span<char> chunk) {
    auto& client = context.client;
    auto& facts = context.facts;
    const auto& settings = context.settings;
    // The head is written into the chunk that carries the request body (or, without a body,
    // into the one the response will use once the head is out).
    std::optional<block_pool::lease> upload_block;
    if (!facts.body.done()) upload_block.emplace(context.loop.blocks().acquire());
    const std::span<char> upload_chunk = upload_block ? upload_block->span() : chunk;
    std::string overflow;
    pending_head head = place_head(context.head().base(), upload_chunk, overflow);
    // A body that arrived with the header goes out with it, in one write, by the upload below.
    const bool header_with_body = !facts.body.done() && client.buffer.size() > 0 && !facts.expects_continue;
    if (!header_with_body) {
        client.upstream.expires_after(settings.client.body_timeout);
        auto [write_ec, n] = co_await asio::async_write(client.upstream, asio::buffer(head.bytes), nothrow);
        head = {};
        if (const auto ec = client.upstream.outcome(write_ec)) {
            exchange_result result;
            result.stage = exchange_stage::before_response;
            result.stale = reused && looks_stale(ec);
            result.error = ec == beast::error::timeout ? gateway_error::gateway_timeout : gateway_error::bad_gateway;
            co_return result;
        }
    }
    if (facts.body.done()) co_return co_await relay_response(context, reused, chunk, nullptr);

    // Ask for the body only now: every check passed and a backend is connected.
    if (facts.expects_continue) {
        facts.expects_continue = false;
        co_await write_continue(client, settings.client.body_timeout);
    }
    using namespace asio::experimental::awaitable_operators;
    duplex_state state(co_await asio::this_coro::executor);
    bool body_read = false;
    auto [sent, received] = co_await (upload_body(context, head, body_read, upload_chunk, state) &&
                                      relay_response(context, reused, chunk, &state));
    received.body_read = body_read;
    // A client failure counts unless it was only our own cancel after the backend failed.
    if (received.stage == exchange_stage::before_response && sent.read &&
        sent.read != asio::error::operation_aborted) {
        received.stage = exchange_stage::client_gone;
        received.client_error = sent.read;
    }
    co_return received;
}

}  // namespace gw
