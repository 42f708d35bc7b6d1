#pragma once

#include "gatewayd/limit/limit_algorithm.hpp"

#include <cstdint>

namespace gw {

// What the X-RateLimit-* and Retry-After headers say about one rule.
struct rate_decision {
    bool allowed = true;
    std::uint64_t limit = 0;
    std::uint64_t remaining = 0;      // requests left
    std::uint64_t reset_seconds = 1;  // whole seconds until the rule resets, at least 1
    std::uint64_t retry_after = 1;    // for 429: whole seconds, between 1 and the window
};

// A verdict in whole seconds for the headers: reset at least 1 and at most the window,
// retry-after the same way (rounded up, so a client that waits that long gets through).
rate_decision to_rate_decision(const limit_verdict& verdict, const limit_params& params);

}  // namespace gw
