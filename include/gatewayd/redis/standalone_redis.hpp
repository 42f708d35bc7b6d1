#pragma once

#include "gatewayd/redis/primary_redis.hpp"

namespace gw {

// One server at redis.address: connected at start, reconnected with back-off (100 ms to 2 s)
// whenever the connection is lost.
class standalone_redis final : public primary_redis {
public:
    standalone_redis(boost::asio::io_context& io, const redis_config& settings) : primary_redis(io, settings) {}

    void start() override;
    void sample(redis_counters& out) const override;

private:
    net::awaitable<void> keep_connected();
};

}  // namespace gw
