#pragma once

#include <chrono>
#include <cstdint>

namespace gw {

// A client's window after one more request was counted: how many it has made in the window
// and how long the window still runs.
struct window_count {
    std::uint64_t count = 0;
    std::chrono::milliseconds remaining{};
};

// What the limiter answers, and what the X-RateLimit-* and Retry-After headers say.
struct rate_decision {
    bool allowed = true;
    std::uint64_t limit = 0;
    std::uint64_t remaining = 0;      // requests left in this window
    std::uint64_t reset_seconds = 1;  // whole seconds until the window resets, at least 1
    std::uint64_t retry_after = 1;    // for 429: between 1 and the window, in whole seconds
};

// Request number limit + 1 inside a window is the first one refused.
rate_decision decide(const window_count& counted, std::uint64_t limit, std::chrono::milliseconds window);

// Fixed-window bookkeeping for one key in process memory (the `memory` store and the fallback).
struct memory_window {
    std::uint64_t count = 0;
    std::chrono::steady_clock::time_point ends{};
};

// Counts one request against `slot` at `now`: a window that ended starts afresh.
window_count count_request(memory_window& slot, std::chrono::steady_clock::time_point now,
                           std::chrono::milliseconds window);

}  // namespace gw
