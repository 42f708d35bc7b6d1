#pragma once

#include "gatewayd/io/net.hpp"

#include <boost/asio/io_context.hpp>

#include <algorithm>
#include <chrono>
#include <vector>

namespace gw {

// Closed until a first attempt (a first connection, a first slot map) has ended, whatever its
// outcome; coroutines may wait for that, each up to its own deadline. The requests that arrive
// while the gateway is still making its first connection wait for it instead of failing.
class attempt_gate {
public:
    bool is_open() const { return open_; }

    void open() {
        if (open_) return;
        open_ = true;
        for (net::steady_timer* waiting : waiters_) waiting->cancel();
    }

    net::awaitable<void> wait(boost::asio::io_context& io, std::chrono::steady_clock::time_point deadline) {
        if (open_) co_return;
        net::steady_timer waiting(io);
        waiting.expires_at(deadline);
        waiters_.push_back(&waiting);
        co_await waiting.async_wait(net::nothrow);
        std::erase(waiters_, &waiting);
    }

private:
    bool open_ = false;
    std::vector<net::steady_timer*> waiters_;
};

}  // namespace gw
