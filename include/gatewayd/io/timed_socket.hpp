#pragma once

#include "gatewayd/io/net.hpp"

#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <utility>

namespace gw {

// A TCP socket whose I/O is bounded by one deadline, for Beast's and Asio's stream algorithms.
// Every read and write moves the deadline later, so it is enforced lazily: one timer that is
// re-armed only when it fires before the deadline or a deadline moves earlier than it. Beast's
// tcp_stream armed and cancelled a timer around every operation, a tenth of the proxy's CPU.
// When the deadline passes the socket is closed (pending I/O ends with operation_aborted and
// timed_out() says why) or, with on_expiry::cancel, only its pending I/O is cancelled, so that
// an answer can still be written.
class timed_socket {
public:
    using clock = std::chrono::steady_clock;
    using executor_type = net::executor;
    enum class on_expiry { close, cancel };

    explicit timed_socket(net::socket socket);
    explicit timed_socket(const net::executor& executor) : timed_socket(net::socket(executor)) {}
    timed_socket(const timed_socket&) = delete;
    timed_socket& operator=(const timed_socket&) = delete;
    // Closes the socket; a timer wait still pending ends without effect.
    ~timed_socket();

    net::socket& socket() { return state_->socket; }
    executor_type get_executor() { return state_->socket.get_executor(); }

    void expires_at(clock::time_point deadline, on_expiry action = on_expiry::close);
    // From now on the steady clock: never early.
    void expires_after(clock::duration timeout, on_expiry action = on_expiry::close);
    void expires_never() { expires_at(clock::time_point::max()); }

    // The deadline set last has passed.
    bool timed_out() const { return state_->expired; }

    // An operation's error, as beast::error::timeout when the deadline ended it.
    boost::system::error_code outcome(const boost::system::error_code& ec) const;

    template <class MutableBuffers, class Token>
    auto async_read_some(const MutableBuffers& buffers, Token&& token) {
        return state_->socket.async_read_some(buffers, std::forward<Token>(token));
    }
    template <class ConstBuffers, class Token>
    auto async_write_some(const ConstBuffers& buffers, Token&& token) {
        return state_->socket.async_write_some(buffers, std::forward<Token>(token));
    }

private:
    // Shared with the pending timer wait, which may complete after the socket is gone.
    struct state {
        explicit state(net::socket s) : socket(std::move(s)), timer(socket.get_executor()) {}
        net::socket socket;
        net::steady_timer timer;
        clock::time_point deadline = clock::time_point::max();
        clock::time_point armed_for = clock::time_point::max();
        std::uint64_t generation = 0;  // a wait whose generation is older was superseded
        bool waiting = false;
        bool expired = false;
        on_expiry action = on_expiry::close;
    };
    static void arm(const std::shared_ptr<state>& shared);

    std::shared_ptr<state> state_;
};

}  // namespace gw
