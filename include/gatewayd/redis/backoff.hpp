#pragma once

#include "gatewayd/io/net.hpp"

#include <boost/asio/io_context.hpp>

#include <algorithm>
#include <chrono>

namespace gw {

// The pause between two attempts to reach a node: 100 ms, doubling up to 2 s, back to 100 ms
// after a success; cut short by wake() (news that makes waiting pointless, say +switch-master).
class backoff {
public:
    static constexpr std::chrono::milliseconds first{100};
    static constexpr std::chrono::milliseconds most{2000};

    explicit backoff(boost::asio::io_context& io) : timer_(io) {}

    void reset() { next_ = first; }
    void wake() {
        woken_ = true;
        timer_.cancel();
    }

    net::awaitable<void> wait() {
        if (!woken_) {
            timer_.expires_after(next_);
            co_await timer_.async_wait(net::nothrow);
        }
        woken_ = false;
        next_ = std::min<std::chrono::milliseconds>(next_ * 2, most);
    }

private:
    net::steady_timer timer_;
    std::chrono::milliseconds next_ = first;
    bool woken_ = false;
};

}  // namespace gw
