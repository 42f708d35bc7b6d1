#pragma once

#include "gatewayd/upstream/circuit_breaker.hpp"
#include "gatewayd/config/config.hpp"
#include "gatewayd/upstream/health_state.hpp"

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace gw {

// What the whole process knows of one backend, whichever event loop asks: its circuit breaker
// and its health. With one loop nothing here is locked; with several, the breaker and the
// health run under a mutex (held for a few dozen instructions, never across I/O), and
// healthy() is an atomic read.
class backend_state {
public:
    using time_point = circuit_breaker::time_point;

    backend_state(std::string url, const config& settings, bool locking);

    // The breaker, as circuit_breaker has it (basic_breaker_ticket<backend_state> reports).
    std::optional<std::uint64_t> try_acquire(time_point now);
    void record(std::uint64_t generation, bool success, time_point now);
    void release(std::uint64_t generation, time_point now);
    circuit_breaker::state breaker_state(time_point now);
    circuit_breaker::duration time_until_half_open(time_point now);
    bool breaker_enabled() const { return breaker_enabled_.load(std::memory_order_relaxed); }

    // Health: probes from whichever loop runs the checks, passive failures from any loop.
    bool healthy() const { return healthy_.load(std::memory_order_relaxed); }
    bool record_probe(bool good);  // true when healthy() changed
    bool mark_down();              // true when it was up

    // Healthy and not refused by an open breaker (a half-open one may still be full).
    bool available(time_point now);

    // New breaker and health-check settings; state is kept when the breaker's are equal.
    void reconfigure(const config& settings);

    // One loop runs the active health checks of a backend: the first to claim them.
    bool claim_checks() { return !checked_.exchange(true); }
    void give_up_checks() { checked_.store(false); }

    const std::string& url() const { return url_; }

private:
    std::unique_lock<std::mutex> lock();

    const std::string url_;
    const bool locking_;
    std::mutex mutex_;
    circuit_breaker breaker_;
    health_state health_;
    std::atomic<bool> healthy_{true};
    std::atomic<bool> breaker_enabled_;
    std::atomic<bool> checked_{false};
};

using backend_ticket = basic_breaker_ticket<backend_state>;

// The backend states of the process by URL: every loop's `backend` for one URL shares one.
// A state lives while some loop's backend set uses it; a URL dropped by a reload and added
// back later starts afresh.
class backend_registry {
public:
    explicit backend_registry(bool locking) : locking_(locking) {}
    std::shared_ptr<backend_state> obtain(const std::string& url, const config& settings);

private:
    const bool locking_;
    std::mutex mutex_;
    std::unordered_map<std::string, std::weak_ptr<backend_state>> states_;
};

circuit_breaker::settings breaker_settings(const circuit_breaker_config& config);

}  // namespace gw
