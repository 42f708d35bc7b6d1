#include "gatewayd/upstream/upstream_pool.hpp"


#include <algorithm>

#include <sys/socket.h>
#include <cerrno>

namespace gw {

namespace asio = boost::asio;
namespace beast = boost::beast;

namespace {

// An idle connection must have nothing to read: data or EOF means the backend closed or broke it.
bool still_open(net::socket& socket) {
    char byte = 0;
    const auto n = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

}  // namespace

std::optional<net::socket> upstream_pool::acquire(backend& target, steady_clock::time_point now) {
    while (!target.idle.empty()) {
        idle_connection candidate = std::move(target.idle.back());
        target.idle.pop_back();
        if (now - candidate.idle_since < idle_timeout_ && candidate.socket.is_open() &&
            still_open(candidate.socket)) {
            return std::move(candidate.socket);
        }
        beast::error_code ignored;
        candidate.socket.close(ignored);
    }
    return std::nullopt;
}

void upstream_pool::release(backend& target, net::socket socket, steady_clock::time_point now) {
    if (target.idle.size() >= max_idle_ || max_idle_ == 0) {
        beast::error_code ignored;
        socket.close(ignored);
        return;
    }
    target.idle.push_back(idle_connection{std::move(socket), now});
}

void upstream_pool::clear(backend& target) {
    for (auto& connection : target.idle) {
        beast::error_code ignored;
        connection.socket.close(ignored);
    }
    target.idle.clear();
}

void upstream_pool::sweep(backend& target, steady_clock::time_point now) {
    // Oldest first: stop at the first one still young enough.
    const auto young = std::find_if(target.idle.begin(), target.idle.end(),
                                    [&](const idle_connection& c) { return now - c.idle_since < idle_timeout_; });
    for (auto it = target.idle.begin(); it != young; ++it) {
        beast::error_code ignored;
        it->socket.close(ignored);
    }
    target.idle.erase(target.idle.begin(), young);
}

net::awaitable<beast::error_code> connect_upstream(timed_socket& stream, asio::ip::tcp::endpoint endpoint,
                                                   duration timeout) {
    stream.expires_after(timeout);
    auto [connect_ec] = co_await stream.socket().async_connect(endpoint, net::nothrow);
    const auto ec = stream.outcome(connect_ec);
    if (!ec) {
        beast::error_code ignored;
        stream.socket().set_option(asio::ip::tcp::no_delay(true), ignored);
    }
    co_return ec;
}

}  // namespace gw
