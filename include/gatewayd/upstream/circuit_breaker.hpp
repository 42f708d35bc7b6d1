#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>
#include <utility>

namespace gw {

// sony/gobreaker v2's state machine, without locks or clocks of its own: every call is given
// `now`, and one event loop owns each breaker. Trips when requests >= min_requests and
// failures / requests >= failure_ratio.
class circuit_breaker {
public:
    using time_point = std::chrono::steady_clock::time_point;
    using duration = std::chrono::steady_clock::duration;

    enum class state { closed, half_open, open };

    struct settings {
        std::uint64_t min_requests = 5;
        double failure_ratio = 0.6;
        duration interval{};                // closed-state counts cleared this often; 0 = never
        duration open_timeout = std::chrono::seconds(10);
        std::uint64_t half_open_max_requests = 3;
    };

    struct counts {
        std::uint64_t requests = 0;
        std::uint64_t total_successes = 0;
        std::uint64_t total_failures = 0;
        std::uint64_t consecutive_successes = 0;
        std::uint64_t consecutive_failures = 0;
        friend bool operator==(const counts&, const counts&) = default;
    };

    using state_change = std::function<void(state from, state to)>;

    circuit_breaker(settings config, time_point now, state_change on_change = {});

    // Admits a request and returns the generation its outcome belongs to, or nothing while open
    // or while half-open already has half_open_max_requests in flight.
    std::optional<std::uint64_t> try_acquire(time_point now);

    // Reports the outcome of an admitted request; an outcome from an older generation (the
    // state or the interval changed meanwhile) is dropped.
    void record(std::uint64_t generation, bool success, time_point now);

    // An admitted request that ended as neither success nor failure (the client went away):
    // its admission is given back so that half-open cannot be left waiting for it forever.
    void release(std::uint64_t generation, time_point now);

    state current(time_point now);

    // How long an open breaker still refuses requests; zero when it is not open.
    duration time_until_half_open(time_point now) const;
    const counts& current_counts() const { return counts_; }
    const settings& config() const { return settings_; }

private:
    void on_success(time_point now);
    void on_failure(time_point now);
    bool ready_to_trip() const;
    void set_state(state next, time_point now);
    void new_generation(time_point now);

    settings settings_;
    state_change on_change_;
    state state_ = state::closed;
    std::uint64_t generation_ = 0;
    counts counts_;
    std::optional<time_point> expiry_;
};

std::string_view to_string(circuit_breaker::state value);

// Reports an admitted request's outcome exactly once: success(), failure(), or, if neither was
// called by the time it goes away, release(). `Breaker` is circuit_breaker or anything with
// its record() and release() (the process-wide, locked one of a backend).
template <class Breaker>
class basic_breaker_ticket {
public:
    basic_breaker_ticket() = default;
    basic_breaker_ticket(Breaker* breaker, std::uint64_t generation) : breaker_(breaker), generation_(generation) {}
    basic_breaker_ticket(basic_breaker_ticket&& other) noexcept { *this = std::move(other); }
    basic_breaker_ticket& operator=(basic_breaker_ticket&& other) noexcept {
        if (this != &other) {
            if (breaker_ != nullptr) breaker_->release(generation_, std::chrono::steady_clock::now());
            breaker_ = std::exchange(other.breaker_, nullptr);
            generation_ = other.generation_;
        }
        return *this;
    }
    basic_breaker_ticket(const basic_breaker_ticket&) = delete;
    basic_breaker_ticket& operator=(const basic_breaker_ticket&) = delete;
    ~basic_breaker_ticket() {
        if (breaker_ != nullptr) breaker_->release(generation_, std::chrono::steady_clock::now());
    }

    void success() { finish(true); }
    void failure() { finish(false); }

private:
    void finish(bool success) {
        if (breaker_ == nullptr) return;
        std::exchange(breaker_, nullptr)->record(generation_, success, std::chrono::steady_clock::now());
    }

    Breaker* breaker_ = nullptr;
    std::uint64_t generation_ = 0;
};

using breaker_ticket = basic_breaker_ticket<circuit_breaker>;

}  // namespace gw
