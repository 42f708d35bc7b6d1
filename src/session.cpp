#include "gatewayd/session.hpp"

#include "gatewayd/body_decoder.hpp"
#include "gatewayd/client_identity.hpp"
#include "gatewayd/error_response.hpp"
#include "gatewayd/gateway.hpp"
#include "gatewayd/head_writer.hpp"
#include "gatewayd/header_rewrite.hpp"
#include "gatewayd/host_header.hpp"
#include "gatewayd/logging.hpp"
#include "gatewayd/request_framing.hpp"
#include "gatewayd/request_head.hpp"
#include "gatewayd/request_path.hpp"
#include "gatewayd/route_table.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/container/small_vector.hpp>
#include <boost/beast/http.hpp>
#include <boost/static_string/static_string.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace gw {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

using net::nothrow;

// Body chunks and upstream read buffers are blocks from the loop's pool: a busy exchange holds
// two or three, an idle connection none. The client's own read buffer holds a header and a
// little more.
constexpr std::size_t client_read_slack = 32 * 1024;
// What an idle keep-alive connection holds for the next request: enough for a typical API
// request head in one read; a longer head takes another read. The buffer a request grew is
// released before the connection idles, so idle connections stay small.
constexpr std::size_t idle_read_size = 1024;
constexpr std::size_t upstream_header_limit = block_pool::block_size - 4096;
constexpr std::uint64_t unlimited = std::numeric_limits<std::uint64_t>::max();
constexpr auto linger_time = std::chrono::milliseconds(500);

// Beast parses heads only; bodies are framed by body_decoder, which fails on malformed chunks
// at once where Beast would wait for more bytes.
using request_parser = http::request_parser<http::empty_body, recycling_allocator<char>>;
using response_parser = http::response_parser<http::empty_body, recycling_allocator<char>>;
// Reads of a body or a head ask for at most this much at a time.
constexpr std::size_t max_read_size = 64 * 1024;

// Below this much room behind a head in its chunk, the head goes out alone first.
constexpr std::size_t min_body_room = 4096;

struct client_connection {
    explicit client_connection(net::socket socket)
        : stream(std::move(socket)), upstream(stream.get_executor()) {}

    timed_socket stream;
    // The backend connection of the current request: pooled sockets are moved in and out of
    // this one, which keeps its deadline timer for the whole session.
    timed_socket upstream;
    beast::flat_buffer buffer;
    std::string peer_ip;
    ip_address peer_address;
    bool peer_trusted = false;
};

// The request as the gateway saw it before rewriting, for retries, errors and the access log.
struct request_facts {
    std::string method;
    std::string target;
    boost::static_string<128> request_id;  // acceptable_request_id() caps a client's at 128
    std::string_view id() const { return {request_id.data(), request_id.size()}; }
    unsigned version = 11;
    bool head = false;
    bool idempotent = false;
    bool keep_alive = false;
    bool expects_continue = false;
    std::string_view route = "-";       // the matched route's name, for the access log
    std::string client;                 // who a trusted peer says the client is; empty: the peer
    std::optional<rate_decision> rate;  // for the X-RateLimit-* headers
    bool rate_headers = false;
    std::uint64_t retry_after = 1;      // seconds, on a 503
    body_decoder body = body_decoder::none();  // the request body's framing, as it is read
};

// How far one try against one backend got; it decides what the caller may still do.
enum class exchange_stage {
    completed,        // the response reached the client, possibly cut short by either side
    before_response,  // nothing came back from the backend; the client has not been answered
    client_gone,      // the client broke off or sent a body we refuse; see client_error
};

struct exchange_result {
    exchange_stage stage = exchange_stage::completed;
    unsigned status = 0;            // sent to the client, when completed
    bool client_keep_alive = false;
    bool stale = false;             // a reused connection failed before any byte came back
    bool body_read = false;         // some of the client's body was consumed
    gateway_error error = gateway_error::bad_gateway;  // the answer owed, when before_response
    beast::error_code client_error;
};

bool is_idempotent(http::verb method) {
    switch (method) {
    case http::verb::get:
    case http::verb::head:
    case http::verb::options:
    case http::verb::put:
    case http::verb::delete_:
    case http::verb::trace: return true;
    default: return false;
    }
}

// A reset or an orderly close before any byte: what a backend's idle-timeout race looks like.
bool looks_stale(const beast::error_code& ec) {
    return ec == http::error::end_of_stream || ec == asio::error::eof || ec == asio::error::connection_reset ||
           ec == asio::error::broken_pipe || ec == http::error::partial_message;
}

std::string peer_text(const tcp::endpoint& endpoint) {
    auto address = endpoint.address();
    if (address.is_v6() && address.to_v6().is_v4_mapped()) {
        address = asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
    }
    return address.to_string();
}

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

net::awaitable<bool> write_error(client_connection& client, gateway_error error, const request_facts* facts,
                                  bool keep_alive, duration timeout) {
    const error_reply reply = describe(error);
    http::response<http::empty_body, header_fields> response{static_cast<http::status>(reply.status), 11};
    response.set(http::field::content_type, "application/json");
    if (facts != nullptr) response.set("X-Request-Id", facts->id());
    if (reply.status == 503) response.set(http::field::retry_after, std::to_string(facts ? facts->retry_after : 1));
    if (facts != nullptr && facts->rate && facts->rate_headers) {
        set_rate_limit_headers(response, *facts->rate, error == gateway_error::rate_limited);
    } else if (facts != nullptr && facts->rate && error == gateway_error::rate_limited) {
        response.set(http::field::retry_after, std::to_string(facts->rate->retry_after));
    }
    const std::string body = json_error_body(error);
    response.content_length(body.size());
    response.keep_alive(keep_alive && !closes_connection(error));
    // Head and body in one write; an error head is small (a request id of at most 128 bytes).
    std::array<char, 2048> head_space;
    std::string overflow;
    const std::span<const char> head = place_head(response.base(), head_space, overflow).bytes;
    // An answer to HEAD keeps its Content-Length but has no body (RFC 9110 9.3.2): body bytes
    // would be read as the start of the next response on the connection.
    const bool with_body = facts == nullptr || !facts->head;
    const std::array<asio::const_buffer, 2> pieces{asio::buffer(head), asio::buffer(body.data(), with_body ? body.size() : 0)};
    client.stream.expires_after(timeout);
    auto [ec, written] = co_await asio::async_write(client.stream, pieces, nothrow);
    co_return !ec && response.keep_alive();
}

net::awaitable<void> write_continue(client_connection& client, duration timeout) {
    static constexpr std::string_view interim = "HTTP/1.1 100 Continue\r\n\r\n";
    client.stream.expires_after(timeout);
    co_await asio::async_write(client.stream, asio::buffer(interim), nothrow);
}

// Where a body relay stopped, if it did not finish: the side that failed and how.
struct relay_errors {
    beast::error_code read;
    beast::error_code write;
};

// One parse step over bytes already buffered, the step an asynchronous read takes before it
// reads: false when the parser needs more input (the caller reads), else true with the step's
// result in `ec`. A head that arrived whole is parsed here, without an asynchronous operation
// that would complete at once (a post and a scheduler round per request).
template <bool is_request, class DynamicBuffer>
bool parse_buffered(http::basic_parser<is_request>& parser, DynamicBuffer& buffer, beast::error_code& ec) {
    if (buffer.size() == 0) return false;
    buffer.consume(parser.put(buffer.data(), ec));
    if (ec != http::error::need_more) return true;
    ec = {};
    return false;
}

template <class DynamicBuffer>
std::span<const char> buffered_bytes(const DynamicBuffer& buffer) {
    const auto data = buffer.data();
    return {static_cast<const char*>(data.data()), data.size()};
}

// Reads into `buffer` what its room allows (and at most max_read_size); the buffer's deadline
// is the socket's.
template <class DynamicBuffer>
net::awaitable<beast::error_code> read_more(timed_socket& source, DynamicBuffer& buffer) {
    const std::size_t room = std::min(buffer.max_size() - buffer.size(), max_read_size);
    if (room == 0) co_return http::error::buffer_overflow;
    auto [ec, n] = co_await source.async_read_some(buffer.prepare(room), nothrow);
    buffer.commit(n);
    co_return ec;
}

// Moves one message body from `source` to `destination` a chunk at a time as `body` decodes
// it, framed chunked or as is; a pending head goes out with the first bytes. Every read and
// write gets `gap` to make progress. A framing error is a read error (body_error).
template <class DynamicBuffer>
net::awaitable<relay_errors> relay_body(timed_socket& source, DynamicBuffer& source_buffer, body_decoder& body,
                                        timed_socket& destination, pending_head head, bool chunked,
                                        std::span<char> chunk, duration gap) {
    if (!head.bytes.empty() && chunk.size() - head.chunk_offset < min_body_room) {
        destination.expires_after(gap);
        auto [ec, n] = co_await asio::async_write(destination, asio::buffer(head.bytes), nothrow);
        if (ec) co_return relay_errors{{}, destination.outcome(ec)};
        head = {};
    }
    for (;;) {
        const std::span<char> room = chunk.subspan(head.chunk_offset);
        std::size_t got = 0;
        while (!body.done()) {
            const auto step = body.decode(buffered_bytes(source_buffer), room);
            source_buffer.consume(step.consumed);
            got = step.produced;
            if (body.failed()) co_return relay_errors{body.error(), {}};
            if (got > 0 || body.done()) break;
            source.expires_after(gap);
            if (const auto ec = co_await read_more(source, source_buffer)) {
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
            destination.expires_after(gap);
            auto [ec, n] = co_await asio::async_write(destination, std::span(pieces.data(), count), nothrow);
            if (ec) co_return relay_errors{{}, destination.outcome(ec)};
            head = {};
        }
        if (last) co_return relay_errors{};
    }
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
net::awaitable<relay_errors> upload_body(client_connection& client, body_decoder& body,
                                         timed_socket& upstream, pending_head head,
                                         const config& settings, bool& body_read, std::span<char> chunk,
                                         duplex_state& state) {
    body_read = true;
    // A read error is the client's, a write error the backend's.
    const auto errors = co_await relay_body(client.stream, client.buffer, body, upstream, head, body.is_chunked(),
                                            chunk, settings.client.body_timeout);
    state.upload_done = true;
    beast::error_code ignored;
    if (errors.read) {
        // Half a request went out: unless an answer is already flowing, abandon the backend.
        // Closed, not cancelled: the response reader beside this may not have started yet (a
        // bad chunk already in the buffer fails before any wait).
        if (!state.header_received && !state.download_done) upstream.socket().close(ignored);
        co_return errors;
    }
    if (errors.write || state.header_received || state.download_done) co_return errors;
    // The request is out: from now on the backend has upstream.timeout to start its answer.
    state.response_deadline.expires_after(settings.upstream.timeout);
    auto [ec] = co_await state.response_deadline.async_wait(nothrow);
    if (!ec && !state.header_received && !state.download_done) {
        state.response_timed_out = true;
        upstream.socket().cancel(ignored);
    }
    co_return errors;
}

// Sets the response's framing toward the client; false when the body must end with a close.
bool frame_response(http::response<http::empty_body, header_fields>& response, const response_parser& parser,
                    const request_facts& facts) {
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

// Reads a response head into `parser` under the deadline already set on `upstream`; `came`
// says whether any byte of it arrived (a reused connection that fails before one is stale).
net::awaitable<beast::error_code> read_response_head(timed_socket& upstream, beast::flat_static_buffer_base& buffer,
                                                     response_parser& parser, bool& came) {
    for (;;) {
        beast::error_code ec;
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

// Reads the backend's response header and relays the response to the client. With `duplex`
// the request body is still being uploaded beside it.
net::awaitable<exchange_result> relay_response(client_connection& client, timed_socket& upstream,
                                                block_pool& blocks,
                                                bool reused, const config& settings, const request_facts& facts,
                                                bool& upstream_reusable, std::span<char> chunk,
                                                duplex_state* duplex) {
    exchange_result result;
    // Whatever way this ends, the upload beside it must not wait on the client any longer.
    struct finish_duplex {
        duplex_state* state;
        client_connection& client;
        ~finish_duplex() {
            if (state == nullptr) return;
            state->download_done = true;
            state->response_deadline.cancel();
            beast::error_code ignored;
            if (!state->upload_done) client.stream.socket().cancel(ignored);
        }
    } finish{duplex, client};

    // Interim 1xx answers are dropped: the client's Expect was answered by us already.
    const auto read_block = blocks.acquire();
    beast::flat_static_buffer_base upstream_buffer(read_block.span().data(), read_block.span().size());
    std::optional<response_parser> response_reader;
    if (duplex != nullptr) {
        upstream.expires_never();
    } else {
        upstream.expires_after(settings.upstream.timeout);
    }
    bool came = false;
    for (;;) {
        response_reader.emplace();
        response_reader->header_limit(upstream_header_limit);
        response_reader->body_limit(unlimited);
        if (facts.head) response_reader->skip(true);
        const auto read_ec = co_await read_response_head(upstream, upstream_buffer, *response_reader, came);
        if (const auto ec = upstream.outcome(read_ec)) {
            result.stage = exchange_stage::before_response;
            result.stale = reused && !came && looks_stale(ec);
            const bool timed_out =
                ec == beast::error::timeout || (duplex != nullptr && duplex->response_timed_out);
            result.error = timed_out ? gateway_error::gateway_timeout : gateway_error::bad_gateway;
            co_return result;
        }
        const unsigned status = response_reader->get().result_int();
        // The parser takes any three digits; RFC 9110 status codes are 100-599. Anything else
        // (and an upgrade we did not ask for) is a broken response: 502, connection dropped.
        if (status < 100 || status > 599 || status == 101) {
            result.stage = exchange_stage::before_response;
            co_return result;
        }
        if (status >= 200) break;
    }
    if (duplex != nullptr) {
        duplex->header_received = true;
        duplex->response_deadline.cancel();
    }

    auto& response = response_reader->get();
    result.status = response.result_int();
    bool backend_keep_alive = response_reader->keep_alive();
    rewrite_response_headers(response, facts.id());
    if (facts.rate && facts.rate_headers) set_rate_limit_headers(response, *facts.rate, false);
    result.client_keep_alive = frame_response(response, *response_reader, facts) && facts.keep_alive;
    body_decoder body = response_body(*response_reader);
    if (!body.done() && !body.is_chunked() && !body.has_length()) {
        backend_keep_alive = false;  // the body ends when the backend closes
    }
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
    const auto relayed = co_await relay_body(upstream, upstream_buffer, body, client.stream, head,
                                             response.chunked(), chunk, settings.client.body_timeout);
    if (relayed.read) {
        // Headers are out: all we can do is cut the client off so it sees a short body.
        spdlog::warn("backend response cut short: {}", relayed.read.message());
    }
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
    upstream_reusable = backend_keep_alive && body.done() && upstream_buffer.size() == 0;
    co_return result;
}

// One try against one backend over one connection: send the request, read the response
// header, relay the response. `upstream_reusable` says whether the connection may be pooled.
net::awaitable<exchange_result> exchange(client_connection& client, request_parser& parser, block_pool& blocks,
                                          timed_socket& upstream, bool reused, const config& settings,
                                          request_facts& facts, bool& upstream_reusable, std::span<char> chunk) {
    upstream_reusable = false;
    // The head is written into the chunk that carries the request body (or, without a body,
    // into the one the response will use once the head is out).
    std::optional<block_pool::lease> upload_block;
    if (!facts.body.done()) upload_block.emplace(blocks.acquire());
    const std::span<char> upload_chunk = upload_block ? upload_block->span() : chunk;
    std::string overflow;
    pending_head head = place_head(parser.get().base(), upload_chunk, overflow);
    // A body that arrived with the header goes out with it, in one write, by the upload below.
    const bool header_with_body = !facts.body.done() && client.buffer.size() > 0 && !facts.expects_continue;
    if (!header_with_body) {
        upstream.expires_after(settings.client.body_timeout);
        auto [write_ec, n] = co_await asio::async_write(upstream, asio::buffer(head.bytes), nothrow);
        head = {};
        if (const auto ec = upstream.outcome(write_ec)) {
            exchange_result result;
            result.stage = exchange_stage::before_response;
            result.stale = reused && looks_stale(ec);
            result.error =
                ec == beast::error::timeout ? gateway_error::gateway_timeout : gateway_error::bad_gateway;
            co_return result;
        }
    }
    if (facts.body.done()) {
        co_return co_await relay_response(client, upstream, blocks, reused, settings, facts, upstream_reusable, chunk, nullptr);
    }

    // Ask for the body only now: every check passed and a backend is connected.
    if (facts.expects_continue) {
        facts.expects_continue = false;
        co_await write_continue(client, settings.client.body_timeout);
    }
    using namespace asio::experimental::awaitable_operators;
    duplex_state state(co_await asio::this_coro::executor);
    bool body_read = false;
    auto [sent, received] =
        co_await (upload_body(client, facts.body, upstream, head, settings, body_read, upload_chunk, state) &&
                  relay_response(client, upstream, blocks, reused, settings, facts, upstream_reusable, chunk, &state));
    received.body_read = body_read;
    // A client failure counts unless it was only our own cancel after the backend failed.
    if (received.stage == exchange_stage::before_response && sent.read &&
        sent.read != asio::error::operation_aborted) {
        received.stage = exchange_stage::client_gone;
        received.client_error = sent.read;
    }
    co_return received;
}

struct request_outcome {
    unsigned status = 0;
    std::string_view backend = "-";
    bool keep_alive = false;
};

net::awaitable<request_outcome> answer_with(client_connection& client, gateway_error error,
                                             const request_facts& facts, bool body_pending,
                                             const config& settings) {
    // With unread body bytes in the stream the next request could not be found: close.
    const bool keep = co_await write_error(client, error, &facts, facts.keep_alive && !body_pending,
                                           settings.client.body_timeout);
    co_return request_outcome{describe(error).status, "-", keep};
}

// When none of a pool's backends is available: the soonest one may be again, in whole seconds
// (an open breaker's remaining time, or one health-check interval for a down backend).
std::uint64_t seconds_until_a_backend(backend_pool& pool, const config& settings) {
    using std::chrono::milliseconds;
    const auto now = steady_clock::now();
    auto soonest = milliseconds::max();
    for (const auto& member : pool.members) {
        milliseconds wait{};
        if (!member->state->healthy()) {
            wait = std::chrono::duration_cast<milliseconds>(settings.health_check.interval);
        } else if (member->state->breaker_enabled()) {
            wait = std::chrono::duration_cast<milliseconds>(member->state->time_until_half_open(now));
        }
        soonest = std::min(soonest, wait);
    }
    if (soonest == milliseconds::max()) return 1;
    return std::clamp<std::uint64_t>(static_cast<std::uint64_t>((soonest.count() + 999) / 1000), 1, 3600);
}

// Round robin over available backends, a stale pooled connection retried once on a fresh one,
// failures before any response byte retried on another backend as the contract allows. Each
// backend tried takes a breaker ticket, reported once: success, failure (connect error,
// timeout, 5xx) or, when the client went away, neither.
net::awaitable<request_outcome> proxy_request(client_connection& client, request_parser& parser, gateway& owner,
                                               const config& settings, request_facts& facts, backend_pool& pool) {
    auto& backends = pool.members;
    // The backends this request already tried: a handful at most, kept without a heap allocation.
    boost::container::small_vector<std::size_t, 4> tried;
    const auto chunk_block = owner.blocks().acquire();
    const std::span<char> chunk = chunk_block.span();

    gateway_error owed = gateway_error::no_backend;
    bool body_read = false;
    std::uint64_t tries_left = settings.upstream.retries + 1;
    while (tries_left > 0) {
        const auto now = steady_clock::now();
        std::optional<std::uint64_t> generation;
        const auto choice = pool.balancer.next(backends.size(), [&](std::size_t i) {
            backend& candidate = *backends[i];
            if (std::find(tried.begin(), tried.end(), i) != tried.end() || !candidate.state->healthy()) return false;
            if (!candidate.state->breaker_enabled()) return true;
            generation = candidate.state->try_acquire(now);
            return generation.has_value();
        });
        if (!choice) break;
        --tries_left;
        tried.push_back(*choice);
        backend& target = *backends[*choice];
        backend_ticket ticket = generation ? backend_ticket(target.state.get(), *generation) : backend_ticket{};
        ++target.requests;
        if (parser.get().count(http::field::host) == 0) {
            parser.get().set(http::field::host, target.config.host + ":" + std::to_string(target.config.port));
        }

        bool fresh_only = false;
        bool may_retry = false;
        for (;;) {
            timed_socket& upstream = client.upstream;
            // Whatever happens below, a connection not handed back to the pool is closed.
            struct close_unless_pooled {
                timed_socket& stream;
                ~close_unless_pooled() {
                    beast::error_code ignored;
                    stream.socket().close(ignored);
                }
            } closer{upstream};
            bool reused = false;
            if (!fresh_only) {
                if (auto pooled = owner.pool().acquire(target, now)) {
                    upstream.socket() = std::move(*pooled);
                    reused = true;
                }
            }
            if (!reused) {
                const auto ec = co_await connect_upstream(upstream, target.endpoint, settings.upstream.connect_timeout);
                if (ec) {
                    const bool timed_out = ec == beast::error::timeout;
                    ticket.failure();
                    ++target.failures;
                    owner.mark_down(target, timed_out ? "connect timeout" : "connect refused");
                    spdlog::debug("connect to {} failed: {}", target.config.url, ec.message());
                    owed = timed_out ? gateway_error::gateway_timeout : gateway_error::bad_gateway;
                    may_retry = !body_read;  // nothing reached the backend
                    break;
                }
            }

            bool reusable = false;
            const auto result = co_await exchange(client, parser, owner.blocks(), upstream, reused, settings, facts, reusable, chunk);
            body_read = body_read || result.body_read;
            if (reusable && !target.retired) {
                upstream.expires_never();
                owner.pool().release(target, std::move(upstream.socket()), steady_clock::now());
            }

            if (result.stage == exchange_stage::completed) {
                if (result.status >= 500) {
                    ticket.failure();
                    ++target.failures;
                } else {
                    ticket.success();
                    ++target.successes;
                }
                co_return request_outcome{result.status, target.config.url, result.client_keep_alive};
            }
            if (result.stage == exchange_stage::client_gone) {
                if (result.client_error == body_error::too_large) {
                    co_return co_await answer_with(client, gateway_error::body_too_large, facts, true, settings);
                }
                // A body the decoder refused (a bad chunk): the backend got a request cut short,
                // which it cannot take for a whole one; the client is told and disconnected.
                if (result.client_error == body_error::bad_framing) {
                    co_return co_await answer_with(client, gateway_error::bad_request, facts, true, settings);
                }
                if (result.client_error == beast::error::timeout) {
                    // The body stalled past body_timeout; the stream is closed already.
                    co_return request_outcome{408, target.config.url, false};
                }
                // 499 as nginx logs it: the client went away before it was answered.
                co_return request_outcome{499, target.config.url, false};
            }
            owed = result.error;
            if (result.stale && !fresh_only && !body_read) {
                upstream_pool::clear(target);
                fresh_only = true;
                continue;
            }
            ticket.failure();
            ++target.failures;
            // A body already read cannot be sent again (it is streamed, not kept), and a backend
            // too slow to answer is not handed the same work twice.
            may_retry = !body_read && owed != gateway_error::gateway_timeout;
            break;
        }
        if (!may_retry) break;
    }
    if (owed == gateway_error::no_backend) facts.retry_after = seconds_until_a_backend(pool, settings);
    co_return co_await answer_with(client, owed, facts, !facts.body.done(), settings);
}

// The rate-limit settings for a request: a route's own `rate_limit` overrides the top level and
// counts under `<key_prefix><route>:`. Without an override the top level is used as it is, so
// the common case copies no strings.
const rate_limit_config& limits_for(const config& settings, const route_config* route,
                                    std::optional<rate_limit_config>& storage) {
    if (route == nullptr || !route->rate_limit) return settings.rate_limit;
    rate_limit_config& limits = storage.emplace(settings.rate_limit);
    const auto& own = *route->rate_limit;
    if (own.enabled) limits.enabled = *own.enabled;
    if (own.requests) limits.requests = *own.requests;
    if (own.window) limits.window = *own.window;
    limits.key_prefix += route->name + ":";
    return limits;
}

// Everything between the request header and the backend: route, rate limit, header rewrite.
// `settings` and `routing` are snapshots taken together, so a reload cannot mix two configs.
net::awaitable<request_outcome> serve_request(client_connection& client, request_parser& parser, gateway& owner,
                                               const config& settings, backend_set& routing, request_facts& facts) {
    auto& request = parser.get();
    facts.method = request.method_string();
    if (settings.log.access_log) facts.target = request.target();
    facts.version = request.version();
    facts.head = request.method() == http::verb::head;
    facts.idempotent = is_idempotent(request.method());
    facts.keep_alive = request.keep_alive() && !owner.draining();
    facts.expects_continue = facts.version >= 11 && beast::iequals(request[http::field::expect], "100-continue");
    request.erase(http::field::expect);
    if (!parser.is_done()) {
        const std::uint64_t limit = settings.client.max_body_bytes;
        facts.body = parser.chunked() ? body_decoder::chunked(limit) : body_decoder::with_length(*parser.content_length());
    }

    const auto client_id = request.find("X-Request-Id");
    if (client_id != request.end() && acceptable_request_id(client_id->value())) {
        facts.request_id.assign(client_id->value().data(), client_id->value().size());
    } else {
        const auto id = owner.request_ids().next();
        facts.request_id.assign(id.data(), id.size());
    }

    // Framing and target before anything else: a request we cannot forward in one unambiguous
    // form is refused, and the connection closed, before it is counted, routed or sent on.
    if (request.count(http::field::transfer_encoding) != 0) {
        std::vector<std::string_view> codings;
        auto [first, last] = request.equal_range(http::field::transfer_encoding);
        for (auto it = first; it != last; ++it) codings.push_back(it->value());
        if (!acceptable_transfer_encoding(codings, facts.version)) {
            co_return co_await answer_with(client, gateway_error::bad_request, facts, true, settings);
        }
    }
    // RFC 9112 3.2: one Host in HTTP/1.1 (at most one in 1.0), and a valid one.
    const std::size_t hosts = request.count(http::field::host);
    if (hosts > 1 || (hosts == 0 && facts.version >= 11) || (hosts == 1 && !valid_host(request[http::field::host]))) {
        co_return co_await answer_with(client, gateway_error::bad_request, facts, true, settings);
    }
    if (request.method() != http::verb::connect) {
        const auto form = normalize_target(request.target(), request.method() == http::verb::options);
        if (!form) co_return co_await answer_with(client, gateway_error::bad_request, facts, true, settings);
        if (!form->authority.empty()) {
            // The authority of an absolute-form target is the host (RFC 9112 3.2.2).
            if (!valid_host(form->authority)) {
                co_return co_await answer_with(client, gateway_error::bad_request, facts, true, settings);
            }
            request.target(form->path);
            request.set(http::field::host, form->authority);
        }
        // Routes see, and the backend gets, the path in its one canonical form.
        if (request.target() != "*") {
            const auto normalized = normalize_path(request.target(), settings.client.paths);
            if (normalized.problem) co_return co_await answer_with(client, gateway_error::bad_request, facts, true, settings);
            if (normalized.target) request.target(*normalized.target);
        }
    }

    const auto route_index = routing.routes.match(request.target(), request[http::field::host], request.method_string());
    const route_config* route = route_index ? &settings.routes[*route_index] : nullptr;
    if (route != nullptr) facts.route = route->name;

    // Who the client is, for the limiter and the access log: the peer itself, or the address a
    // trusted peer's X-Forwarded-For names (read before it is rewritten for the backend).
    ip_address who = client.peer_address;
    if (client.peer_trusted) {
        std::string forwarded;
        auto [first, last] = request.equal_range("X-Forwarded-For");
        for (auto it = first; it != last; ++it) {
            if (!forwarded.empty()) forwarded += ',';
            forwarded += it->value();
        }
        who = client_identity(client.peer_address, forwarded, settings.client.trusted_proxies);
        facts.client = to_string(who);
    }

    std::optional<rate_limit_config> route_limits;
    const rate_limit_config& limits = limits_for(settings, route, route_limits);
    if (limits.enabled) {
        std::string key = limits.key_prefix + client_key(who);
        const auto outcome = co_await owner.limiter().check(std::move(key), limits, settings.redis);
        facts.rate = outcome.decision;
        facts.rate_headers = limits.headers;
        if (outcome.result == limit_outcome::verdict::limited) {
            co_return co_await answer_with(client, gateway_error::rate_limited, facts, !facts.body.done(), settings);
        }
        if (outcome.result == limit_outcome::verdict::unavailable) {
            co_return co_await answer_with(client, gateway_error::rate_limit_unavailable, facts, !facts.body.done(),
                                           settings);
        }
    }

    if (request.method() == http::verb::connect) {
        co_return co_await answer_with(client, gateway_error::bad_request, facts, true, settings);
    }

    if (route == nullptr && routing.default_pool.members.empty()) {
        co_return co_await answer_with(client, gateway_error::no_route, facts, !facts.body.done(), settings);
    }
    if (route != nullptr && route->strip_prefix) request.target(strip_path_prefix(request.target(), route->path_prefix));

    const forwarding_info info{client.peer_ip, client.peer_trusted, facts.id()};
    if (!rewrite_request_headers(request, info)) {
        // A trusted chain too long to append to: more than a header field can hold.
        co_return co_await answer_with(client, gateway_error::headers_too_large, facts, true, settings);
    }
    // Framing toward the backend is ours to choose; the client's was checked by the parser.
    request.version(11);
    if (parser.chunked()) {
        request.chunked(true);
    } else if (parser.content_length()) {
        request.content_length(*parser.content_length());
    }
    request.keep_alive(true);

    backend_pool& pool = route_index ? routing.route_pools[*route_index] : routing.default_pool;
    co_return co_await proxy_request(client, parser, owner, settings, facts, pool);
}

void log_bad_request(gateway& owner, const client_connection& client, const config& settings, gateway_error error,
                     steady_clock::time_point started) {
    const auto took = std::chrono::duration_cast<std::chrono::microseconds>(steady_clock::now() - started);
    owner.metrics().observe(describe(error).status, took);
    if (!settings.log.access_log) return;
    log_access({client.peer_ip, "-", "-", describe(error).status, "-", "-", took, "-"});
    owner.flush_access_log_soon();
}

// How waiting for a request head ended: with the head parsed, with an answer owed, or quietly
// (the client went away).
struct head_result {
    bool parsed = false;
    std::optional<gateway_error> error;
};

gateway_error header_failure(const beast::error_code& ec);

// Reads the next request head up to `deadline`. The scanner looks at it first: blank lines
// before it are dropped, and what Beast cannot hold or should not take is refused before
// Beast is asked; then Beast parses exactly the head.
net::awaitable<head_result> read_request_head(client_connection& client, request_parser& parser,
                                              std::size_t max_head_bytes, steady_clock::time_point deadline) {
    request_head_scanner scanner(max_head_bytes);
    for (;;) {
        const auto bytes = buffered_bytes(client.buffer);
        const head_scan scan = scanner.scan({bytes.data(), bytes.size()});
        switch (scan.verdict) {
        case head_verdict::complete: {
            client.buffer.consume(scan.skip);
            beast::error_code ec;
            client.buffer.consume(parser.put(asio::buffer(client.buffer.data().data(), scan.size), ec));
            if (ec || !parser.is_header_done()) co_return head_result{false, header_failure(ec)};
            co_return head_result{true, std::nullopt};
        }
        case head_verdict::bad_request: co_return head_result{false, gateway_error::bad_request};
        case head_verdict::too_large: co_return head_result{false, gateway_error::headers_too_large};
        case head_verdict::target_too_long: co_return head_result{false, gateway_error::uri_too_long};
        case head_verdict::need_more: break;
        }
        client.stream.expires_at(deadline, timed_socket::on_expiry::cancel);
        const auto ec = client.stream.outcome(co_await read_more(client.stream, client.buffer));
        if (ec == beast::error::timeout) co_return head_result{false, gateway_error::header_timeout};
        if (ec) co_return head_result{false, std::nullopt};
    }
}

gateway_error header_failure(const beast::error_code& ec) {
    if (ec == beast::error::timeout) return gateway_error::header_timeout;
    if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
        return gateway_error::headers_too_large;
    }
    if (ec == http::error::body_limit) return gateway_error::body_too_large;
    return gateway_error::bad_request;
}

// Half-close and read briefly what the client still sends, so that our last answer is not
// destroyed by a reset caused by unread data.
net::awaitable<void> linger_close(client_connection& client) {
    beast::error_code ec;
    client.stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) co_return;
    client.stream.expires_after(linger_time);
    std::array<char, 4096> sink{};
    for (int reads = 0; reads < 64; ++reads) {
        auto [read_ec, n] = co_await client.stream.async_read_some(asio::buffer(sink), nothrow);
        if (read_ec) break;
    }
    client.stream.socket().close(ec);
}

}  // namespace

// GCC 12 reports -Wmismatched-new-delete at the end of this coroutine: its frame comes from
// Asio's recycling allocator and goes back to it, which GCC cannot see through (a known false
// positive), so the warning is silenced here only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
net::awaitable<void> run_session(net::socket socket, gateway& owner) {
    // The max_connections slot goes back however the session ends, an exception included.
    struct connection_slot {
        gateway& owner;
        ~connection_slot() { owner.connection_closed(); }
    } slot{owner};
    beast::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    const auto remote = socket.remote_endpoint(ignored);
    client_connection client(std::move(socket));
    client.peer_ip = peer_text(remote);
    client.peer_address = parse_ip_address(client.peer_ip).value_or(ip_address{});
    const auto accepted_at = steady_clock::now();
    idle_session idle_entry(client.stream);

    for (bool first = true; !owner.draining() || first; first = false) {
        const std::shared_ptr<const config> settings = owner.settings();
        client.peer_trusted = is_trusted_proxy(client.peer_address, settings->client.trusted_proxies);
        client.buffer.max_size(settings->client.max_header_bytes + client_read_slack);

        // Wait for the next request: the header clock runs from accept for the first one and
        // from its first byte for the others; a keep-alive connection idles quietly.
        std::optional<steady_clock::time_point> header_deadline;
        if (first) header_deadline = accepted_at + settings->client.header_timeout;
        if (client.buffer.size() == 0) {
            owner.enter_idle(idle_entry);
            // The header deadline cancels the read instead of closing, so the client can be told 408.
            if (first) {
                client.stream.expires_at(*header_deadline, timed_socket::on_expiry::cancel);
            } else {
                client.stream.expires_after(settings->client.idle_timeout);
            }
            if (client.buffer.capacity() > idle_read_size) client.buffer.shrink_to_fit();
            auto [ec, n] = co_await client.stream.async_read_some(client.buffer.prepare(idle_read_size), nothrow);
            gateway::leave_idle(idle_entry);
            const bool late = first && client.stream.timed_out();
            if (ec) {
                if (late) {
                    co_await write_error(client, gateway_error::header_timeout, nullptr, false,
                                         settings->client.body_timeout);
                    log_bad_request(owner, client, *settings, gateway_error::header_timeout, accepted_at);
                }
                break;
            }
            client.buffer.commit(n);
        }

        const auto started = steady_clock::now();
        if (!header_deadline) header_deadline = started + settings->client.header_timeout;
        request_parser parser;
        parser.header_limit(static_cast<std::uint32_t>(settings->client.max_header_bytes));
        parser.body_limit(settings->client.max_body_bytes == 0 ? unlimited : settings->client.max_body_bytes);
        const head_result head =
            co_await read_request_head(client, parser, settings->client.max_header_bytes, *header_deadline);
        if (!head.parsed) {
            if (head.error) {
                spdlog::debug("bad request from {}: {}", client.peer_ip, describe(*head.error).code);
                co_await write_error(client, *head.error, nullptr, false, settings->client.body_timeout);
                log_bad_request(owner, client, *settings, *head.error, started);
            }
            break;
        }

        // The config and routing this request runs with to the end, whatever a reload does.
        const std::shared_ptr<const config> request_settings = owner.settings();
        const std::shared_ptr<backend_set> routing = owner.backends();
        request_facts facts;
        const auto outcome = co_await serve_request(client, parser, owner, *request_settings, *routing, facts);
        const auto took = std::chrono::duration_cast<std::chrono::microseconds>(steady_clock::now() - started);
        owner.metrics().observe(outcome.status, took);
        if (request_settings->log.access_log) {
            log_access({facts.client.empty() ? std::string_view(client.peer_ip) : std::string_view(facts.client),
                        facts.method, facts.target, outcome.status, outcome.backend, facts.route,
                        took, facts.id()});
            owner.flush_access_log_soon();
        }
        if (!outcome.keep_alive) break;
    }
    co_await linger_close(client);
}
#pragma GCC diagnostic pop

}  // namespace gw
