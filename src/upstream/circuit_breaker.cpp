#include "gatewayd/upstream/circuit_breaker.hpp"

#include <utility>

namespace gw {

circuit_breaker::circuit_breaker(settings config, time_point now, state_change on_change)
    : settings_(config), on_change_(std::move(on_change)) {
    if (settings_.half_open_max_requests == 0) settings_.half_open_max_requests = 1;
    new_generation(now);
}

circuit_breaker::state circuit_breaker::current(time_point now) {
    // Strictly after the expiry, as gobreaker's expiry.Before(now).
    if (state_ == state::closed && expiry_ && *expiry_ < now) {
        new_generation(now);
    } else if (state_ == state::open && expiry_ && *expiry_ < now) {
        set_state(state::half_open, now);
    }
    return state_;
}

circuit_breaker::duration circuit_breaker::time_until_half_open(time_point now) const {
    if (state_ != state::open || !expiry_ || *expiry_ < now) return duration::zero();
    return *expiry_ - now;
}

std::optional<std::uint64_t> circuit_breaker::try_acquire(time_point now) {
    const state s = current(now);
    if (s == state::open) return std::nullopt;
    if (s == state::half_open && counts_.requests >= settings_.half_open_max_requests) return std::nullopt;
    ++counts_.requests;
    return generation_;
}

void circuit_breaker::record(std::uint64_t generation, bool success, time_point now) {
    current(now);
    if (generation != generation_) return;
    if (success) {
        on_success(now);
    } else {
        on_failure(now);
    }
}

void circuit_breaker::release(std::uint64_t generation, time_point now) {
    current(now);
    if (generation == generation_ && counts_.requests > 0) --counts_.requests;
}

void circuit_breaker::on_success(time_point now) {
    ++counts_.total_successes;
    ++counts_.consecutive_successes;
    counts_.consecutive_failures = 0;
    if (state_ == state::half_open && counts_.consecutive_successes >= settings_.half_open_max_requests) {
        set_state(state::closed, now);
    }
}

void circuit_breaker::on_failure(time_point now) {
    if (state_ == state::half_open) {
        set_state(state::open, now);
        return;
    }
    ++counts_.total_failures;
    ++counts_.consecutive_failures;
    counts_.consecutive_successes = 0;
    if (ready_to_trip()) set_state(state::open, now);
}

bool circuit_breaker::ready_to_trip() const {
    if (counts_.requests == 0 || counts_.requests < settings_.min_requests) return false;
    // The tolerance keeps 3 failures of 5 tripping at exactly 0.6 whatever the binary rounding.
    const auto failures = static_cast<double>(counts_.total_failures);
    return failures >= settings_.failure_ratio * static_cast<double>(counts_.requests) - 1e-9;
}

void circuit_breaker::set_state(state next, time_point now) {
    if (state_ == next) return;
    const state previous = state_;
    state_ = next;
    new_generation(now);
    if (on_change_) on_change_(previous, next);
}

void circuit_breaker::new_generation(time_point now) {
    ++generation_;
    counts_ = {};
    switch (state_) {
    case state::closed:
        expiry_ = settings_.interval == duration::zero() ? std::nullopt : std::optional(now + settings_.interval);
        break;
    case state::open: expiry_ = now + settings_.open_timeout; break;
    case state::half_open: expiry_.reset(); break;
    }
}

std::string_view to_string(circuit_breaker::state value) {
    switch (value) {
    case circuit_breaker::state::closed: return "closed";
    case circuit_breaker::state::half_open: return "half-open";
    case circuit_breaker::state::open: return "open";
    }
    return "unknown";
}

}  // namespace gw
