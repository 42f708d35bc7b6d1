#include "gatewayd/upstream/upstream_pool.hpp"

#include <openssl/ssl.h>

#include <cstddef>

#include <sys/socket.h>
#include <cerrno>

namespace gw {

namespace asio = boost::asio;
namespace beast = boost::beast;

namespace {

// An idle connection must have nothing to read: data or EOF means the backend closed or broke it
// (for TLS, bytes already taken into the session's buffer count too).
bool still_open(idle_connection& connection) {
    if (!connection.socket.is_open() || (connection.ssl && SSL_has_pending(connection.ssl.get()) == 1)) return false;
    char byte = 0;
    const auto n = ::recv(connection.socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

void close_connection(idle_connection& connection) {
    if (connection.ssl && connection.socket.is_open()) tls::send_close_notify(connection.ssl.get());
    connection.ssl.reset();
    beast::error_code ignored;
    connection.socket.close(ignored);
}

}  // namespace

bool upstream_pool::acquire(backend& target, steady_clock::time_point now, timed_stream& into) {
    while (!target.idle.empty()) {
        idle_connection& candidate = target.idle.back();
        const bool usable = now - candidate.idle_since < limits_.idle_timeout && still_open(candidate);
        if (usable) {
            into.adopt(candidate.socket, candidate.ssl);
        } else {
            close_connection(candidate);
        }
        target.idle.pop_back();
        if (usable) return true;
    }
    return false;
}

void upstream_pool::release(backend& target, timed_stream& from, steady_clock::time_point now) {
    if (limits_.max_idle == 0) {
        from.close();
        return;
    }
    // Braces, not emplace_back: aggregate construction in emplace is C++20 that clang 14 lacks.
    target.idle.push_back(idle_connection{std::move(from.socket()), from.release_tls(), now});
}

void upstream_pool::clear(backend& target) {
    for (auto& idle : target.idle) close_connection(idle);
    target.idle.clear();
}

void upstream_pool::sweep(backend& target, steady_clock::time_point now) {
    const std::size_t closed = sweep_count(
        target.idle.size(), [&](std::size_t i) { return now - target.idle[i].idle_since; }, limits_);
    for (std::size_t i = 0; i < closed; ++i) close_connection(target.idle[i]);
    target.idle.erase(target.idle.begin(), target.idle.begin() + static_cast<std::ptrdiff_t>(closed));
}

net::awaitable<beast::error_code> connect_upstream(timed_stream& stream, asio::ip::tcp::endpoint endpoint,
                                                   duration timeout) {
    stream.close();
    stream.expires_after(timeout);
    auto [connect_ec] = co_await stream.socket().async_connect(endpoint, net::nothrow);
    const auto ec = stream.outcome(connect_ec);
    if (!ec) {
        beast::error_code ignored;
        stream.socket().set_option(asio::ip::tcp::no_delay(true), ignored);
    }
    co_return ec;
}

net::awaitable<beast::error_code> start_upstream_tls(timed_stream& stream, const tls::client_context& context,
                                                     backend& target, duration timeout) {
    auto ssl = context.new_session(target.settings.host, target.tls_session);
    if (!ssl) co_return asio::error::no_memory;
    stream.start_tls(std::move(ssl));
    stream.expires_after(timeout);
    auto [handshake_ec, unused] = co_await stream.async_handshake(net::nothrow);
    co_return stream.outcome(handshake_ec);
}

}  // namespace gw
