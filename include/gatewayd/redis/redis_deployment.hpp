#pragma once

#include "gatewayd/config/config.hpp"
#include "gatewayd/io/net.hpp"
#include "gatewayd/redis/redis_protocol.hpp"
#include "gatewayd/redis/redis_script.hpp"

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gw {

// One script run: its keys (all in one hash slot when the deployment is a cluster), its
// arguments, and the reply once it came.
struct script_call {
    const redis_script* script = nullptr;
    std::uint16_t slot = 0;  // the keys' slot (key_slot); only a cluster looks at it
    std::span<const std::string_view> keys;
    std::span<const std::string_view> args;
    std::optional<redis_reply> reply;  // nothing: a store error (no answer in time, an error reply)
};

// What /metrics shows of one event loop's Redis.
struct redis_counters {
    std::vector<std::pair<std::string, bool>> nodes;  // "host:port" and whether it is connected
    std::uint64_t moved = 0;
    std::uint64_t ask = 0;
    std::uint64_t failovers = 0;  // primary changes followed
};

// Redis as the rate limiter sees it, whatever runs behind: one server, a primary found through
// Sentinel, or a cluster. Each event loop has its own, with its own connections. Topology (which
// node to send to, following failovers and redirects) is the deployment's business; what the
// scripts do is its caller's.
class redis_deployment {
public:
    virtual ~redis_deployment() = default;

    // A script loaded (SCRIPT LOAD) on every data node it connects to, so that EVALSHA finds it;
    // call before start(). The script must outlive the deployment.
    virtual void preload(const redis_script& script) = 0;
    // Starts connecting (and reconnecting) in the background.
    virtual void start() = 0;

    // True when commands can go out now. While the first connection (or the first slot map) is
    // still being made, waits for it, up to `deadline`, rather than failing at once.
    virtual net::awaitable<bool> ready_soon(std::chrono::steady_clock::time_point deadline) = 0;
    // The keys of one script_call must share a hash slot (a cluster).
    virtual bool sharded() const = 0;
    // Now (µs since the epoch) on the clock of the node that serves `slot`.
    virtual std::int64_t now_us(std::uint16_t slot) = 0;
    // Runs every call: all leave (each in its node's pipeline) before any reply is awaited, and
    // each gets its reply or none (a store error) by `deadline`. EVALSHA, or EVAL when the node
    // has forgotten the script.
    virtual net::awaitable<void> eval(std::span<script_call> calls, std::chrono::steady_clock::time_point deadline) = 0;

    virtual void sample(redis_counters& out) const = 0;
};

std::unique_ptr<redis_deployment> make_redis_deployment(boost::asio::io_context& io, const redis_config& settings);

// EVALSHA (or, with `text`, EVAL) of `script` with `keys` and `args`, as RESP appended to `out`.
void append_eval(std::string& out, const redis_script& script, bool text, std::span<const std::string_view> keys,
                 std::span<const std::string_view> args);

}  // namespace gw
