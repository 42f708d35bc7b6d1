#pragma once

#include "gatewayd/config/config.hpp"
#include "gatewayd/redis/pending_commands.hpp"
#include "gatewayd/io/net.hpp"
#include "gatewayd/redis/redis_protocol.hpp"
#include "gatewayd/redis/redis_script.hpp"
#include "gatewayd/io/timed_socket.hpp"

#include <boost/asio/io_context.hpp>

#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace gw {

// One Redis connection per event loop, on that loop. It runs commands and scripts and knows
// nothing of what they are for: commands issued in one loop turn leave in
// one write (pipelining), replies are matched in order, every command has a deadline
// (redis.timeout) after which it fails without waiting, and a broken or slow connection is
// dropped and re-established with back-off. hiredis reads the replies; Asio does the socket.
// The connection's one deadline is the oldest unanswered command's: no timer per command.
class redis_client {
public:
    redis_client(boost::asio::io_context& io, redis_config settings);
    redis_client(const redis_client&) = delete;
    redis_client& operator=(const redis_client&) = delete;
    ~redis_client();

    // Starts connecting (and reconnecting) in the background.
    void start();

    // Scripts sent with SCRIPT LOAD on every (re)connect, so that EVALSHA finds them; call
    // before start(). The script must outlive the client.
    void preload(const redis_script& script) { preloaded_.push_back(&script); }

    // Runs `script` with `keys` and `args`: EVALSHA, or EVAL when Redis has forgotten it (a
    // restart, SCRIPT FLUSH). Nothing on any store error (not connected, slower than
    // redis.timeout, an error reply), at once when not connected; a request made while the
    // first connection is still being made waits for it within redis.timeout.
    // True once connected; while the first connection is still being made, waits for it
    // (within redis.timeout) rather than failing at once.
    net::awaitable<bool> ready_soon();

    net::awaitable<std::optional<redis_reply>> eval(const redis_script& script, std::span<const std::string_view> keys,
                                                    std::span<const std::string_view> args);

    bool ready() const { return state_ == state::ready; }

    // Now on Redis's clock (µs since the epoch): ours plus the offset learned with TIME at
    // connect and every 30 s, so that gateways on one Redis share one clock.
    std::int64_t now_us() const;

private:
    enum class state { down, connecting, ready };
    struct waiter;

    net::awaitable<void> keep_connected();
    net::awaitable<bool> connect_once();
    net::awaitable<void> read_replies(std::uint64_t epoch);
    net::awaitable<void> flush(std::uint64_t epoch);
    net::awaitable<std::optional<redis_reply>> execute(std::string command,
                                                               std::chrono::steady_clock::time_point deadline);
    void fail_connection(const std::string& reason);
    std::function<void(std::exception_ptr)> connection_boundary();
    void end_first_attempt();
    net::awaitable<bool> sync_clock(std::chrono::steady_clock::time_point deadline);
    net::awaitable<void> resync_clock();
    net::awaitable<void> wait_for_first_attempt(std::chrono::steady_clock::time_point deadline);
    void watch_front();
    void wake(waiter& w);

    boost::asio::io_context& io_;
    redis_config settings_;
    std::string where_;
    std::optional<timed_socket> stream_;
    std::unique_ptr<reply_reader> reader_;
    pending_commands<waiter> pending_;
    std::string outgoing_;
    bool writing_ = false;
    state state_ = state::down;
    std::uint64_t epoch_ = 0;  // one per connection, so stale coroutines know to stop
    net::steady_timer connection_lost_;
    std::vector<const redis_script*> preloaded_;
    bool reported_down_ = false;
    bool first_attempt_done_ = false;
    std::int64_t clock_offset_us_ = 0;
    std::chrono::steady_clock::time_point clock_synced_{};
    bool resyncing_ = false;
    std::vector<net::steady_timer*> first_attempt_waiters_;  // requests waiting for it, by their deadline
};

}  // namespace gw
