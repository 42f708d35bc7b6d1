#pragma once

#include "gatewayd/upstream/backend.hpp"

#include "gatewayd/io/net.hpp"
#include "gatewayd/io/timed_socket.hpp"

#include <optional>
#include <tuple>

namespace gw {

// Keep-alive connections to backends, reused most-recent-first so that idle ones age out.
class upstream_pool {
public:
    upstream_pool(std::size_t max_idle_per_backend, duration idle_timeout)
        : max_idle_(max_idle_per_backend), idle_timeout_(idle_timeout) {}

    // An idle connection that has not been idle longer than idle_timeout and has nothing to
    // read, if any. One that has (EOF: the backend closed it; bytes: a response to nothing,
    // which would be taken for the next request's answer) is closed: one non-blocking peek per
    // reuse, the price of never relaying a poisoned connection.
    // Bare sockets: a session moves one into the timed_socket it keeps for its whole life.
    std::optional<net::socket> acquire(backend& target, steady_clock::time_point now);

    // Keeps a connection whose last exchange ended cleanly; closes it when the pool is full.
    void release(backend& target, net::socket socket, steady_clock::time_point now);

    // Closes every idle connection of a backend: after one turned out stale the rest likely are.
    static void clear(backend& target);

    // Closes connections idle for longer than idle_timeout.
    void sweep(backend& target, steady_clock::time_point now);

private:
    std::size_t max_idle_;
    duration idle_timeout_;
};

// Connects `stream` (its socket closed) with a deadline and TCP_NODELAY.
net::awaitable<boost::system::error_code> connect_upstream(timed_socket& stream,
                                                                   boost::asio::ip::tcp::endpoint endpoint,
                                                                   duration timeout);

}  // namespace gw
