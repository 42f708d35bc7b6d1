#pragma once

#include "gatewayd/redis/attempt_gate.hpp"
#include "gatewayd/redis/backoff.hpp"
#include "gatewayd/redis/redirect_policy.hpp"
#include "gatewayd/redis/redis_connection.hpp"
#include "gatewayd/redis/redis_deployment.hpp"
#include "gatewayd/redis/refresh_schedule.hpp"
#include "gatewayd/redis/slot_map.hpp"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace gw {

// A Redis Cluster: the slot map read with CLUSTER SLOTS (from a node of the map, else from the
// seed nodes in redis.nodes), one pipelined connection per primary, and each command sent to
// the primary of its keys' slot. Replies are handled as redirect_policy says: MOVED patches the
// map and asks for a new one (reads at most every 250 ms, in the background), ASK is followed
// once with ASKING, TRYAGAIN waits and tries again, CLUSTERDOWN and the rest are store errors.
// A primary that cannot be reached also asks for a new map: its replica may have taken over.
class cluster_redis final : public redis_deployment {
public:
    cluster_redis(boost::asio::io_context& io, const redis_config& settings);

    void preload(const redis_script& script) override { scripts_.push_back(&script); }
    void start() override;
    net::awaitable<bool> ready_soon(std::chrono::steady_clock::time_point deadline) override;
    bool sharded() const override { return true; }
    std::int64_t now_us(std::uint16_t slot) override;
    net::awaitable<void> eval(std::span<script_call> calls, std::chrono::steady_clock::time_point deadline) override;
    void sample(redis_counters& out) const override;

private:
    // A node the gateway talks to. Kept for the process's life once seen (so a coroutine waiting
    // on it never outlives it); connected only while `wanted`.
    struct node {
        node(boost::asio::io_context& io, host_port where, redis_handshake handshake,
             std::span<const redis_script* const> scripts)
            : connection(io, std::move(where), std::move(handshake), scripts), pause(io) {}
        redis_connection connection;
        backoff pause;
        bool wanted = false;  // in the slot map (or an ASK target): kept connected
        bool looping = false;  // its keep_connected loop runs
        std::chrono::steady_clock::time_point asked_until{};  // an ASK target: kept until then
    };
    // One script_call on its way through redirects.
    struct attempt;

    node& node_at(const host_port& where);
    node* owner_of(std::uint16_t slot);
    void want(node& n);
    net::awaitable<void> keep_connected(node* n);
    void request_refresh();
    net::awaitable<void> run_refreshes(std::chrono::steady_clock::time_point at);
    net::awaitable<bool> refresh_once();
    void adopt(slot_map map, const std::string& from);
    bool send_now(attempt& a, std::chrono::steady_clock::time_point deadline);
    net::awaitable<void> send(attempt& a, std::chrono::steady_clock::time_point deadline);
    net::awaitable<void> settle(attempt& a, std::chrono::steady_clock::time_point deadline);

    boost::asio::io_context& io_;
    redis_config settings_;
    redis_handshake handshake_;
    std::vector<const redis_script*> scripts_;
    std::map<std::string, std::unique_ptr<node>> nodes_;  // by "host:port"
    slot_map map_;
    std::vector<node*> by_index_;  // map_.nodes()[i]'s node
    refresh_schedule schedule_;
    backoff refresh_backoff_;
    attempt_gate first_map_;  // the first slot map has been tried
    bool reported_no_map_ = false;
    std::uint64_t moved_ = 0;
    std::uint64_t ask_ = 0;
};

}  // namespace gw
