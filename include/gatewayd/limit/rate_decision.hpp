#pragma once

#include "gatewayd/limit/limit_algorithm.hpp"
#include "gatewayd/limit/limit_check.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace gw {

// What the X-RateLimit-*, RateLimit and Retry-After headers say about a request.
struct rate_decision {
    bool allowed = true;
    std::uint64_t limit = 0;
    std::uint64_t remaining = 0;      // requests left
    std::uint64_t reset_seconds = 1;  // whole seconds until the rule resets (gcra: until one more passes), >= 1
    std::uint64_t retry_after = 1;    // for 429: whole seconds until a request would pass, >= 1
    std::string_view rule = "default";  // the rule the headers describe
    std::string_view refused_by;        // on 429: the rule whose wait is the longest
};

// A verdict in whole seconds for the headers, rounded up so that a client that waits that long
// gets through: reset between 1 and the window, retry-after between 1 and two windows.
rate_decision to_rate_decision(const limit_verdict& verdict, const limit_params& params);

// The headers of a request checked against several rules: they describe the enforcing rule
// with the fewest requests remaining (the first of equals); a refused request's Retry-After is
// the longest wait among the rules that refused it. Nothing when every rule is in shadow mode.
std::optional<rate_decision> headline_decision(std::span<const limit_check> checks,
                                               std::span<const limit_verdict> verdicts);

}  // namespace gw
