#pragma once

#include "gatewayd/redis/backoff.hpp"
#include "gatewayd/redis/primary_redis.hpp"
#include "gatewayd/redis/sentinel_replies.hpp"

#include <map>
#include <memory>
#include <optional>

namespace gw {

// The primary of redis.master_name, as the sentinels name it: asked of the sentinels in turn
// (SENTINEL get-master-addr-by-name; one that answers is asked first from then on), confirmed
// with ROLE when connecting, and found again when the connection is lost, when a command gets
// READONLY (the node was demoted) or when a sentinel publishes +switch-master, which one
// subscribed connection listens for. While no primary answers, commands fail at once (the
// limiter's on_store_error decides); nothing waits for the failover.
class sentinel_redis final : public primary_redis {
public:
    sentinel_redis(boost::asio::io_context& io, const redis_config& settings);

    void start() override;
    void sample(redis_counters& out) const override;

private:
    net::awaitable<void> keep_primary();
    net::awaitable<void> listen_for_switches();
    net::awaitable<std::optional<host_port>> ask_sentinels();
    redis_connection& sentinel(const host_port& where);
    void on_readonly() override;
    void on_switch(const redis_reply& message);
    void confirmed(const host_port& primary);

    sentinel_rotation rotation_;
    std::map<std::string, std::unique_ptr<redis_connection>> sentinels_;  // by "host:port", for queries
    std::optional<redis_connection> listener_;  // subscribed to +switch-master on one sentinel
    backoff primary_backoff_;
    std::optional<host_port> announced_;  // the new primary +switch-master named, tried first
    std::optional<host_port> confirmed_;  // the last primary connected to
    bool reported_unknown_ = false;
    std::uint64_t failovers_ = 0;
};

}  // namespace gw
