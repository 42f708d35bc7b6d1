#pragma once

#include "gatewayd/admin/metrics.hpp"
#include "gatewayd/config/config.hpp"
#include "gatewayd/io/net.hpp"
#include "gatewayd/limit/limit_check.hpp"
#include "gatewayd/limit/memory_store.hpp"
#include "gatewayd/limit/rate_decision.hpp"
#include "gatewayd/limit/redis_limit_store.hpp"

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>

namespace gw {

// What the limiter says about one request.
struct limit_outcome {
    enum class verdict { allowed, limited, unavailable };
    verdict result = verdict::allowed;
    limit_verdicts verdicts;  // one per check; empty when nothing was counted (allow policy)
    std::optional<rate_decision> decision;  // for the headers (headline_decision)
};

// The rate-limit policy of one event loop over its two stores: Redis (shared by every gateway
// on it) or process memory, with on_store_error deciding while Redis cannot answer. A key a
// check refused is answered from local knowledge until it would pass again, without asking
// the store. The algorithms are the stores' business (limit_algorithm), not this one's.
class rate_limiter {
public:
    explicit rate_limiter(boost::asio::io_context& io, std::size_t max_keys = 100'000);

    // Decides every check of one request in one step (one Redis round trip).
    net::awaitable<limit_outcome> check(std::span<const limit_check> checks, const rate_limit_config& policy,
                                        const redis_config& redis);

    // Counters for metrics: only this loop touches them.
    std::uint64_t allowed() const { return allowed_; }
    const named_counts& limited() const { return limited_; }
    const named_counts& shadow_limited() const { return shadow_limited_; }
    std::uint64_t store_errors() const { return store_errors_; }
    // The Redis nodes this loop talks to, redirects and failovers followed.
    void sample_redis(redis_counters& out) const {
        if (redis_) redis_->sample(out);
    }

    // Connects to Redis ahead of the first request.
    void prepare(const rate_limit_config& policy, const redis_config& redis);

    // A reload may have changed the limits: what was refused under the old ones is asked again.
    void forget_refusals() { blocked_until_.clear(); }

    // Closes the Redis connection (at shutdown, before the event loop goes).
    void close() { redis_.reset(); }

private:
    redis_limit_store& redis(const redis_config& settings);
    std::optional<limit_outcome> answer_from_blocked(std::span<const limit_check> checks,
                                                     std::chrono::steady_clock::time_point now);
    void remember_refusals(std::span<const limit_check> checks, const limit_verdicts& verdicts,
                           std::chrono::steady_clock::time_point now);

    boost::asio::io_context& io_;
    std::size_t max_keys_;
    std::unique_ptr<redis_limit_store> redis_;
    memory_store memory_;
    std::unordered_map<std::string, std::chrono::steady_clock::time_point> blocked_until_;
    void count(std::span<const limit_check> checks, limit_outcome& outcome);

    std::uint64_t allowed_ = 0;
    named_counts limited_;
    named_counts shadow_limited_;
    std::uint64_t store_errors_ = 0;
};

}  // namespace gw
