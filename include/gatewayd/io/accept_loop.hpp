#pragma once

#include "gatewayd/io/net.hpp"

#include <spdlog/spdlog.h>

#include <string_view>

namespace gw {

// Accepts until the acceptor is closed and hands each connection to `serve` (a plain callable
// that starts the connection's coroutine). A failed accept, such as running out of file
// descriptors, waits a little instead of spinning.
template <class Serve>
net::awaitable<void> accept_connections(net::acceptor& acceptor, std::string_view name,
                                                Serve serve) {
    namespace asio = boost::asio;
    net::steady_timer backoff(acceptor.get_executor());
    for (;;) {
        auto [ec, socket] = co_await acceptor.async_accept(net::nothrow);
        if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
        if (ec) {
            spdlog::error("{} accept failed: {}", name, ec.message());
            backoff.expires_after(std::chrono::milliseconds(100));
            co_await backoff.async_wait(net::nothrow);
            continue;
        }
        serve(std::move(socket));
    }
}

}  // namespace gw
