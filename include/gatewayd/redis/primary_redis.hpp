#pragma once

#include "gatewayd/redis/attempt_gate.hpp"
#include "gatewayd/redis/redis_connection.hpp"
#include "gatewayd/redis/redis_deployment.hpp"

#include <optional>
#include <vector>

namespace gw {

// A deployment with one primary at a time, on one pipelined connection: a standalone server, or
// the primary Sentinel names. How that connection is kept (and pointed) is the subclass's.
class primary_redis : public redis_deployment {
public:
    void preload(const redis_script& script) override { scripts_.push_back(&script); }
    net::awaitable<bool> ready_soon(std::chrono::steady_clock::time_point deadline) override;
    bool sharded() const override { return false; }
    std::int64_t now_us(std::uint16_t slot) override;
    net::awaitable<void> eval(std::span<script_call> calls, std::chrono::steady_clock::time_point deadline) override;

protected:
    primary_redis(boost::asio::io_context& io, const redis_config& settings);

    // The connection to the primary (made by start(), with the scripts preloaded by then).
    redis_connection& make_primary(host_port target, bool require_primary_role);
    // A READONLY reply: the node is no longer the primary.
    virtual void on_readonly() {}

    boost::asio::io_context& io_;
    redis_config settings_;
    std::vector<const redis_script*> scripts_;
    std::optional<redis_connection> primary_;
    attempt_gate first_attempt_;  // the first connection has been tried
};

}  // namespace gw
