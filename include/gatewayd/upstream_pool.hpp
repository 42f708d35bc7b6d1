#pragma once

#include "gatewayd/backend.hpp"

#include <boost/asio/awaitable.hpp>

#include <optional>
#include <tuple>

namespace gw {

// Keep-alive connections to backends, reused most-recent-first so that idle ones age out.
class upstream_pool {
public:
    upstream_pool(std::size_t max_idle_per_backend, duration idle_timeout)
        : max_idle_(max_idle_per_backend), idle_timeout_(idle_timeout) {}

    // An idle connection that has not been idle longer than idle_timeout, if any. With
    // `verify`, one the backend has already closed is skipped (one extra system call): for
    // requests whose streamed body could not be sent again after a failed try.
    std::optional<boost::beast::tcp_stream> acquire(backend& target, steady_clock::time_point now,
                                                    bool verify = false);

    // Keeps a connection whose last exchange ended cleanly; closes it when the pool is full.
    void release(backend& target, boost::beast::tcp_stream stream, steady_clock::time_point now);

    // Closes every idle connection of a backend: after one turned out stale the rest likely are.
    static void clear(backend& target);

    // Closes connections idle for longer than idle_timeout.
    void sweep(backend& target, steady_clock::time_point now);

private:
    std::size_t max_idle_;
    duration idle_timeout_;
};

// Connects with a deadline and TCP_NODELAY.
boost::asio::awaitable<std::tuple<boost::system::error_code, boost::beast::tcp_stream>>
connect_upstream(boost::asio::ip::tcp::endpoint endpoint, duration timeout);

}  // namespace gw
