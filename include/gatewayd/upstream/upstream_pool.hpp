#pragma once

#include "gatewayd/upstream/backend.hpp"
#include "gatewayd/upstream/pool_trim.hpp"

#include "gatewayd/io/net.hpp"
#include "gatewayd/io/timed_stream.hpp"

#include <optional>
#include <tuple>

namespace gw {

// Keep-alive connections to backends, reused most-recent-first so that idle ones age out.
class upstream_pool {
public:
    upstream_pool(std::size_t max_idle_per_backend, duration idle_timeout)
        : limits_{max_idle_per_backend, idle_timeout} {}

    // An idle connection that has not been idle longer than idle_timeout and has nothing to
    // read, if any. One that has (EOF: the backend closed it; bytes: a response to nothing,
    // which would be taken for the next request's answer, or a TLS close_notify) is closed:
    // one non-blocking peek per reuse, the price of never relaying a poisoned connection.
    // Bare sockets: the one found is moved into `into`, the timed_stream a session keeps for its
    // whole life; false when there is none.
    bool acquire(backend& target, steady_clock::time_point now, timed_stream& into);

    // Keeps the connection of `from`, whose last exchange ended cleanly (leaving `from` closed);
    // closes it when pooling is off. Beyond max_idle it is kept as surplus, which the sweep
    // closes after surplus_grace unless a request takes it first.
    void release(backend& target, timed_stream& from, steady_clock::time_point now);

    // Closes every idle connection of a backend: after one turned out stale the rest likely are.
    static void clear(backend& target);

    // Closes connections idle for longer than idle_timeout and surplus past its grace.
    void sweep(backend& target, steady_clock::time_point now);

private:
    pool_limits limits_;
};

// Connects `stream` (closed) with a deadline and TCP_NODELAY.
net::awaitable<boost::system::error_code> connect_upstream(timed_stream& stream, boost::asio::ip::tcp::endpoint endpoint,
                                                           duration timeout);

// TLS over the connected `stream` toward an https backend, under the same kind of deadline:
// SNI and the certificate check for its host, its last session resumed.
net::awaitable<boost::system::error_code> start_upstream_tls(timed_stream& stream, const tls::client_context& context,
                                                             backend& target, duration timeout);

}  // namespace gw
