#pragma once

#include "gatewayd/config/config.hpp"
#include "gatewayd/io/net.hpp"
#include "gatewayd/io/timed_socket.hpp"
#include "gatewayd/redis/attempt_gate.hpp"
#include "gatewayd/redis/pending_commands.hpp"
#include "gatewayd/redis/redis_protocol.hpp"
#include "gatewayd/redis/redis_script.hpp"

#include <boost/asio/async_result.hpp>
#include <boost/asio/io_context.hpp>

#include <array>
#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace gw {

// What a connection sends after connecting, before it takes commands.
struct redis_handshake {
    std::string username;  // AUTH username password when set, AUTH password otherwise
    std::string password;  // "" (and no username): no AUTH
    std::uint64_t db = 0;  // SELECT when not 0
    // A data node: its scripts are loaded (SCRIPT LOAD) and its clock read (TIME); a sentinel
    // gets neither.
    bool data_node = true;
    bool require_primary = false;  // ROLE must say "master" (a primary Sentinel named)
    std::string log_name = "rate limit store redis";  // how log lines name it, before its address
};

// A command's place in a connection's pipeline. It lives in the frame of the coroutine that waits
// for the reply; the reader fills it in order and resumes that coroutine.
struct redis_call {
    using resume_handler =
        boost::asio::async_result<std::decay_t<decltype(net::use_awaitable)>, void()>::handler_type;
    explicit redis_call(std::chrono::steady_clock::time_point by) : deadline(by) {}
    redis_call(const redis_call&) = delete;
    redis_call& operator=(const redis_call&) = delete;

    std::chrono::steady_clock::time_point deadline;
    std::optional<resume_handler> resume;
    std::optional<redis_reply> reply;  // nothing once done: no reply came (timeout, connection lost)
    bool done = false;
};

// A few objects that may not move (calls a pipeline points at), made in place when needed: no
// allocation for up to four, the common case of a request's commands.
template <class T>
class in_place_slots {
public:
    explicit in_place_slots(std::size_t count) {
        if (count > inline_.size()) more_ = std::make_unique<std::optional<T>[]>(count);
    }
    std::optional<T>& operator[](std::size_t i) { return more_ ? more_[i] : inline_[i]; }

private:
    std::array<std::optional<T>, 4> inline_;
    std::unique_ptr<std::optional<T>[]> more_;
};

// One pipelined connection to one Redis node (a primary, a cluster node or a sentinel), on one
// event loop. It runs commands and knows nothing of what they are for: commands issued in one
// loop turn leave in one write, replies are matched in order, and the connection's one deadline
// is the oldest unanswered command's (no timer per command): past it the connection is dropped,
// since every later reply would be mismatched. hiredis reads the replies; Asio does the socket.
// Reconnecting is the owner's business (the deployment: a fixed server, a sentinel's primary,
// a cluster node), as is destroying it only when its event loop no longer runs.
class redis_connection {
public:
    redis_connection(boost::asio::io_context& io, host_port target, redis_handshake handshake,
                     std::span<const redis_script* const> scripts = {});
    redis_connection(const redis_connection&) = delete;
    redis_connection& operator=(const redis_connection&) = delete;
    ~redis_connection();

    const host_port& target() const { return target_; }
    // "host:port", as logs and metrics name the node.
    const std::string& name() const { return name_; }
    // Points a connection that is not connected at another node (a sentinel's new primary).
    void retarget(host_port target);

    // One attempt to connect and hand-shake, bounded by `timeout` (at least 1 s): true when ready.
    net::awaitable<bool> connect(duration timeout);
    // Returns once the connection is lost or closed (at once when it is not connected).
    net::awaitable<void> wait_lost();
    // Drops the connection: every command waiting ends without a reply. Logged once per outage
    // unless `report` is false (the gateway let it go).
    void close(const std::string& reason, bool report = true);

    bool ready() const { return state_ == state::ready; }
    // The first attempt to connect has ended (whatever its outcome).
    bool tried() const { return first_attempt_.is_open(); }
    // Waits (up to `deadline`) for the first attempt to end; true when ready then.
    net::awaitable<bool> ready_by(std::chrono::steady_clock::time_point deadline);

    // Queues `command` (RESP); its reply goes to `call`. When not connected, `call` is done at
    // once without a reply.
    void send(std::string_view command, redis_call& call);
    // The same for EVALSHA of `script` (EVAL with its text when `text`), written straight into
    // the pipeline.
    void send_eval(const redis_script& script, bool text, std::span<const std::string_view> keys,
                   std::span<const std::string_view> args, redis_call& call);
    // Returns once `call` is done.
    net::awaitable<void> wait(redis_call& call);
    net::awaitable<std::optional<redis_reply>> execute(std::string_view command,
                                                       std::chrono::steady_clock::time_point deadline);

    // Now on this node's clock (µs since the epoch): ours plus the offset learned with TIME at
    // connect and again every 30 s (data nodes), so that gateways on one Redis share one clock.
    std::int64_t now_us();

    // Replies that answer no command (pub/sub messages) go to `handler`.
    void on_push(std::function<void(const redis_reply&)> handler) { on_push_ = std::move(handler); }

private:
    enum class state { down, connecting, ready };

    net::awaitable<bool> attempt(duration timeout);
    net::awaitable<void> read_replies(std::uint64_t epoch);
    net::awaitable<void> flush(std::uint64_t epoch);
    net::awaitable<bool> handshake(std::uint64_t epoch, std::chrono::steady_clock::time_point deadline);
    net::awaitable<bool> sync_clock(std::chrono::steady_clock::time_point deadline);
    net::awaitable<void> resync_clock(duration timeout);
    std::function<void(std::exception_ptr)> connection_boundary();
    bool enqueue(redis_call& call);
    void start_flush();
    void watch_front();
    void finish(redis_call& call);

    boost::asio::io_context& io_;
    host_port target_;
    std::string name_;
    redis_handshake handshake_;
    std::vector<const redis_script*> scripts_;
    std::optional<timed_socket> stream_;
    std::unique_ptr<reply_reader> reader_;
    pending_commands<redis_call> pending_;
    std::string outgoing_;
    bool writing_ = false;
    bool accepting_ = false;  // connected: commands may be queued (the handshake's, then any)
    state state_ = state::down;
    std::uint64_t epoch_ = 0;  // one per connection, so stale coroutines know to stop
    net::steady_timer lost_;
    bool reported_down_ = false;
    bool connected_before_ = false;
    attempt_gate first_attempt_;
    std::function<void(const redis_reply&)> on_push_;
    std::int64_t clock_offset_us_ = 0;
    std::chrono::steady_clock::time_point clock_synced_{};
    bool resyncing_ = false;
    duration timeout_{100};
};

}  // namespace gw
