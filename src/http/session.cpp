#include "gatewayd/http/session.hpp"

#include "gatewayd/app/event_loop.hpp"
#include "gatewayd/chain/chain.hpp"
#include "gatewayd/chain/client_identity.hpp"
#include "gatewayd/http/body_relay.hpp"
#include "gatewayd/http/client_connection.hpp"
#include "gatewayd/http/local_reply.hpp"
#include "gatewayd/http/request_head_scanner.hpp"
#include "gatewayd/log/logging.hpp"

#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <spdlog/spdlog.h>

#include <limits>
#include <memory>
#include <optional>

namespace gw {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

using net::nothrow;

// The client's read buffer holds a head and a little more; body chunks are blocks of the
// loop's pool.
constexpr std::size_t client_read_slack = 32 * 1024;
// What an idle keep-alive connection holds for the next request: enough for a typical API
// request head in one read; a longer head takes another read. The buffer a request grew is
// released before the connection idles, so idle connections stay small.
constexpr std::size_t idle_read_size = 1024;
constexpr std::uint64_t unlimited = std::numeric_limits<std::uint64_t>::max();
constexpr auto linger_time = std::chrono::milliseconds(500);

std::string peer_text(const tcp::endpoint& endpoint) {
    auto address = endpoint.address();
    if (address.is_v6() && address.to_v6().is_v4_mapped()) {
        address = asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
    }
    return address.to_string();
}

gateway_error header_failure(const beast::error_code& ec) {
    if (ec == http::error::header_limit || ec == http::error::buffer_overflow) return gateway_error::headers_too_large;
    if (ec == http::error::body_limit) return gateway_error::body_too_large;
    return gateway_error::bad_request;
}

// How waiting for a request head ended: with the head parsed, with an answer owed, or quietly
// (the client went away).
struct head_result {
    bool parsed = false;
    std::optional<gateway_error> error;
};

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
        client.stream.expires_at(deadline, timed_stream::on_expiry::cancel);
        const auto ec = client.stream.outcome(co_await read_more(client.stream, client.buffer));
        if (ec == beast::error::timeout) co_return head_result{false, gateway_error::header_timeout};
        if (ec) co_return head_result{false, std::nullopt};
    }
}

// The access line and the metrics of an answer given before any request could be read.
void log_refused_head(event_loop& loop, const client_connection& client, const config& settings, gateway_error error,
                      steady_clock::time_point started) {
    const auto took = std::chrono::duration_cast<std::chrono::microseconds>(steady_clock::now() - started);
    loop.metrics().observe(describe(error).status, took);
    if (!settings.log.access_log) return;
    log_access({client.peer_ip, "-", "-", describe(error).status, "-", "-", took, "-", {}});
    loop.flush_access_log_soon();
}

// Waits for the first byte of the next request: the header clock runs from accept for the
// first request, and a keep-alive connection idles quietly up to idle_timeout. False when the
// connection ends here (answered 408 when the first request never came).
net::awaitable<bool> await_next_request(client_connection& client, event_loop& loop, idle_session& idle,
                                        const config& settings, std::optional<steady_clock::time_point> header_deadline,
                                        steady_clock::time_point accepted_at) {
    if (client.buffer.size() != 0) co_return true;
    loop.enter_idle(idle);
    // The header deadline cancels the read instead of closing, so the client can be told 408.
    if (header_deadline) {
        client.stream.expires_at(*header_deadline, timed_stream::on_expiry::cancel);
    } else {
        client.stream.expires_after(settings.client.idle_timeout);
    }
    if (client.buffer.capacity() > idle_read_size) client.buffer.shrink_to_fit();
    auto [ec, n] = co_await client.stream.async_read_some(client.buffer.prepare(idle_read_size), nothrow);
    event_loop::leave_idle(idle);
    if (!ec) {
        client.buffer.commit(n);
        co_return true;
    }
    if (header_deadline && client.stream.timed_out()) {
        const reply_details no_request{};  // named: no braced list inside a co_await (GCC 12)
        co_await write_error(client, gateway_error::header_timeout, no_request, false, settings.client.body_timeout);
        log_refused_head(loop, client, settings, gateway_error::header_timeout, accepted_at);
    }
    co_return false;
}

// Half-close and read briefly what the client still sends, so that our last answer is not
// destroyed by a reset caused by unread data. Over TLS a close_notify goes first (without
// waiting for the client's), and what is still read is dropped undecrypted.
net::awaitable<void> linger_close(client_connection& client) {
    if (client.stream.secure()) tls::send_close_notify(client.stream.ssl());
    beast::error_code ec;
    client.stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) co_return;
    client.stream.expires_after(linger_time);
    std::array<char, 4096> sink{};
    for (int reads = 0; reads < 64; ++reads) {
        auto [read_ec, n] = co_await client.stream.timed().async_read_some(asio::buffer(sink), nothrow);
        if (read_ec) break;
    }
    client.stream.socket().close(ec);
}

// The TLS handshake of a connection to the TLS listener, within `deadline` (header_timeout
// from accept). A failure ends this connection only: closed without an answer, counted.
net::awaitable<bool> accept_tls(client_connection& client, event_loop& loop, const tls::server_contexts& certificates,
                                steady_clock::time_point deadline) {
    auto ssl = certificates.new_session();
    if (!ssl) {
        loop.count_handshake(false);
        co_return false;
    }
    client.stream.start_tls(std::move(ssl));
    client.stream.expires_at(deadline);
    auto [handshake_ec, unused] = co_await client.stream.async_handshake(nothrow);
    const auto ec = client.stream.outcome(handshake_ec);
    loop.count_handshake(!ec);
    if (ec) {
        spdlog::debug("TLS handshake with {} failed: {}", client.peer_ip, ec.message());
        co_return false;
    }
    client.secure = true;
    co_return true;
}

}  // namespace

// GCC 12 reports -Wmismatched-new-delete at the end of this coroutine: its frame comes from
// Asio's recycling allocator and goes back to it, which GCC cannot see through (a known false
// positive), so the warning is silenced here only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
net::awaitable<void> run_session(net::socket socket, event_loop& loop, bool secure) {
    // The max_connections slot goes back however the session ends, an exception included.
    struct connection_slot {
        event_loop& loop;
        ~connection_slot() { loop.connection_closed(); }
    } slot{loop};
    beast::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    const auto remote = socket.remote_endpoint(ignored);
    client_connection client(std::move(socket));
    client.peer_ip = peer_text(remote);
    client.peer_address = parse_ip_address(client.peer_ip).value_or(ip_address{});
    auto accepted_at = steady_clock::now();
    idle_session idle_entry(client.stream.timed());
    // Kept while the connection lives: a reload gives new handshakes a new set, not this one.
    std::shared_ptr<const tls::server_contexts> certificates;
    if (secure) {
        certificates = loop.tls_listener();
        const auto handshake_deadline = accepted_at + loop.settings()->client.header_timeout;
        if (!certificates || !co_await accept_tls(client, loop, *certificates, handshake_deadline)) co_return;
        // The first request's header clock starts once the handshake is done.
        accepted_at = steady_clock::now();
    }

    for (bool first = true; !loop.draining() || first; first = false) {
        const std::shared_ptr<const config> settings = loop.settings();
        client.peer_trusted = is_trusted_proxy(client.peer_address, settings->client.trusted_proxies);
        client.buffer.max_size(settings->client.max_header_bytes + client_read_slack);
        std::optional<steady_clock::time_point> header_deadline;
        if (first) header_deadline = accepted_at + settings->client.header_timeout;
        if (!co_await await_next_request(client, loop, idle_entry, *settings, header_deadline, accepted_at)) break;

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
                const reply_details no_request{};
                co_await write_error(client, *head.error, no_request, false, settings->client.body_timeout);
                log_refused_head(loop, client, *settings, *head.error, started);
            }
            break;
        }

        // The config and routing this request runs with to the end, whatever a reload does.
        const std::shared_ptr<const config> request_settings = loop.settings();
        const std::shared_ptr<backend_set> routing = loop.backends();
        request_context context(client, parser, loop, *request_settings, *routing);
        const auto outcome = co_await run_chain(context);
        const auto took = std::chrono::duration_cast<std::chrono::microseconds>(steady_clock::now() - started);
        loop.metrics().observe(outcome.status, took);
        if (request_settings->log.access_log) {
            const auto& facts = context.facts;
            log_access({facts.client.empty() ? std::string_view(client.peer_ip) : std::string_view(facts.client),
                        facts.method, facts.target, outcome.status, outcome.backend, facts.route, took, facts.id(),
                        facts.shadow_limited});
            loop.flush_access_log_soon();
        }
        if (!outcome.keep_alive) break;
    }
    co_await linger_close(client);
}
#pragma GCC diagnostic pop

}  // namespace gw
