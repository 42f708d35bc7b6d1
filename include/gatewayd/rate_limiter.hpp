#pragma once

#include "gatewayd/config.hpp"
#include "gatewayd/fixed_window.hpp"
#include "gatewayd/redis_client.hpp"

#include "gatewayd/net.hpp"
#include <boost/asio/io_context.hpp>

#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

namespace gw {

// What the limiter says about one request.
struct limit_outcome {
    enum class verdict { allowed, limited, unavailable };
    verdict result = verdict::allowed;
    std::optional<rate_decision> decision;  // absent when nothing was counted (allow policy)
};

// Fixed-window limiting per key, in Redis (shared by every gateway on it) or in process memory,
// with the on_store_error policy while Redis cannot answer. A key over its limit is answered
// from local knowledge until its window resets, without asking Redis again.
class rate_limiter {
public:
    explicit rate_limiter(boost::asio::io_context& io, std::size_t max_keys = 100'000);

    net::awaitable<limit_outcome> check(std::string key, const rate_limit_config& limits,
                                                const redis_config& redis);

    // Counters for metrics: only this loop touches them.
    std::uint64_t allowed() const { return allowed_; }
    std::uint64_t limited() const { return limited_; }
    std::uint64_t store_errors() const { return store_errors_; }

    // Connects to Redis ahead of the first request.
    void prepare(const rate_limit_config& limits, const redis_config& redis);

    // Closes the Redis connection (at shutdown, before the event loop goes).
    void close() { redis_.reset(); }

private:
    window_count count_in_memory(const std::string& key, std::chrono::milliseconds window,
                                 std::chrono::steady_clock::time_point now);
    redis_client& redis(const redis_config& settings);

    boost::asio::io_context& io_;
    std::size_t max_keys_;
    std::unique_ptr<redis_client> redis_;
    std::unordered_map<std::string, memory_window> memory_;
    std::unordered_map<std::string, std::chrono::steady_clock::time_point> blocked_until_;
    std::uint64_t allowed_ = 0;
    std::uint64_t limited_ = 0;
    std::uint64_t store_errors_ = 0;
};

}  // namespace gw
