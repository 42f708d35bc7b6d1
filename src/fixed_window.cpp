#include "gatewayd/fixed_window.hpp"

#include <algorithm>

namespace gw {

namespace {

std::uint64_t whole_seconds_up(std::chrono::milliseconds value) {
    const auto ms = std::max<std::int64_t>(value.count(), 0);
    return static_cast<std::uint64_t>((ms + 999) / 1000);
}

}  // namespace

rate_decision decide(const window_count& counted, std::uint64_t limit, std::chrono::milliseconds window) {
    rate_decision decision;
    decision.limit = limit;
    decision.allowed = counted.count <= limit;
    decision.remaining = limit - std::min(counted.count, limit);
    const std::uint64_t window_seconds = std::max<std::uint64_t>(whole_seconds_up(window), 1);
    decision.reset_seconds = std::clamp<std::uint64_t>(whole_seconds_up(counted.remaining), 1, window_seconds);
    decision.retry_after = decision.reset_seconds;
    return decision;
}

window_count count_request(memory_window& slot, std::chrono::steady_clock::time_point now,
                           std::chrono::milliseconds window) {
    if (slot.count == 0 || now >= slot.ends) {
        slot.count = 0;
        slot.ends = now + window;
    }
    ++slot.count;
    return {slot.count, std::chrono::duration_cast<std::chrono::milliseconds>(slot.ends - now)};
}

}  // namespace gw
