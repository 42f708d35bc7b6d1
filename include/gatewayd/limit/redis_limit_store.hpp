#pragma once

#include "gatewayd/config/config.hpp"
#include "gatewayd/io/net.hpp"
#include "gatewayd/limit/limit_check.hpp"
#include "gatewayd/limit/limit_script.hpp"
#include "gatewayd/redis/redis_deployment.hpp"
#include "gatewayd/redis/redis_script.hpp"

#include <boost/asio/io_context.hpp>

#include <memory>
#include <span>
#include <vector>

namespace gw {

// The limit store in Redis, whatever redis.mode runs behind it: the checks of one request decided
// by the limit script. When the keys share a hash slot (always, outside a cluster) that is one
// script run, deciding and charging at once. When they span slots, every slot's checks decide
// first (decide-only, each slot's run to its own node, all at once), and only when no enforcing
// check refused are the allowed ones that charge separately (sliding window, GCRA) decided again
// and charged, per slot: two round trips. The second run decides again rather than charging
// blindly, so another gateway taking the last request in between cannot make a rule admit more
// than its limit; the request is then refused.
class redis_limit_store {
public:
    redis_limit_store(boost::asio::io_context& io, const redis_config& settings);

    // Decides every check of one request into `out`; false on a store error (Redis did not
    // answer in `timeout`, or answered with an error).
    net::awaitable<bool> decide(std::span<const limit_check> checks, duration timeout, limit_verdicts& out);

    void sample(redis_counters& out) const { redis_->sample(out); }

    struct slot_group;

private:
    net::awaitable<bool> decide_across_slots(std::span<const limit_check> checks,
                                             std::chrono::steady_clock::time_point deadline, limit_verdicts& out);
    net::awaitable<bool> run_groups(limit_step step, std::span<const limit_check> checks,
                                    std::vector<slot_group>& groups, std::chrono::steady_clock::time_point deadline,
                                    limit_verdicts& out);

    redis_script script_;
    std::unique_ptr<redis_deployment> redis_;
};

}  // namespace gw
