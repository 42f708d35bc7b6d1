#include "gatewayd/upstream/backend_state.hpp"

#include <spdlog/spdlog.h>

namespace gw {

namespace {

circuit_breaker make_breaker(const std::string& url, const config& settings) {
    return circuit_breaker(breaker_settings(settings.circuit_breaker), std::chrono::steady_clock::now(),
                           [url](circuit_breaker::state from, circuit_breaker::state to) {
                               spdlog::warn("circuit breaker {}: {} -> {}", url, to_string(from), to_string(to));
                           });
}

}  // namespace

circuit_breaker::settings breaker_settings(const circuit_breaker_config& config) {
    return {.min_requests = config.min_requests,
            .failure_ratio = config.failure_ratio,
            .interval = config.interval,
            .open_timeout = config.open_timeout,
            .half_open_max_requests = config.half_open_max_requests};
}

backend_state::backend_state(std::string url, const config& settings, bool locking)
    : url_(std::move(url)),
      locking_(locking),
      breaker_(make_breaker(url_, settings)),
      health_(settings.health_check.healthy_threshold, settings.health_check.unhealthy_threshold),
      breaker_enabled_(settings.circuit_breaker.enabled) {}

std::unique_lock<std::mutex> backend_state::lock() {
    return locking_ ? std::unique_lock<std::mutex>(mutex_) : std::unique_lock<std::mutex>();
}

std::optional<std::uint64_t> backend_state::try_acquire(time_point now) {
    const auto held = lock();
    return breaker_.try_acquire(now);
}

void backend_state::record(std::uint64_t generation, bool success, time_point now) {
    const auto held = lock();
    breaker_.record(generation, success, now);
}

void backend_state::release(std::uint64_t generation, time_point now) {
    const auto held = lock();
    breaker_.release(generation, now);
}

circuit_breaker::state backend_state::breaker_state(time_point now) {
    if (!breaker_enabled()) return circuit_breaker::state::closed;
    const auto held = lock();
    return breaker_.current(now);
}

circuit_breaker::duration backend_state::time_until_half_open(time_point now) {
    const auto held = lock();
    return breaker_.time_until_half_open(now);
}

bool backend_state::record_probe(bool good) {
    const auto held = lock();
    const bool changed = health_.record_probe(good);
    healthy_.store(health_.healthy(), std::memory_order_relaxed);
    return changed;
}

bool backend_state::mark_down() {
    const auto held = lock();
    const bool changed = health_.mark_down();
    healthy_.store(health_.healthy(), std::memory_order_relaxed);
    return changed;
}

bool backend_state::available(time_point now) {
    if (!healthy()) return false;
    return breaker_state(now) != circuit_breaker::state::open;
}

void backend_state::reconfigure(const config& settings) {
    const auto held = lock();
    const auto next = breaker_settings(settings.circuit_breaker);
    const auto& now = breaker_.config();
    const bool same_breaker = next.min_requests == now.min_requests && next.failure_ratio == now.failure_ratio &&
                              next.interval == now.interval && next.open_timeout == now.open_timeout &&
                              next.half_open_max_requests == now.half_open_max_requests;
    if (!same_breaker) breaker_ = make_breaker(url_, settings);
    breaker_enabled_.store(settings.circuit_breaker.enabled, std::memory_order_relaxed);
    health_.set_thresholds(settings.health_check.healthy_threshold, settings.health_check.unhealthy_threshold);
    // With health checks off nothing could bring a down backend back: forget that it was down.
    if (!settings.health_check.enabled) {
        health_ = health_state(settings.health_check.healthy_threshold, settings.health_check.unhealthy_threshold);
    }
    healthy_.store(health_.healthy(), std::memory_order_relaxed);
}

std::shared_ptr<backend_state> backend_registry::obtain(const std::string& url, const config& settings) {
    const std::lock_guard held(mutex_);
    auto& slot = states_[url];
    if (auto existing = slot.lock()) return existing;
    auto created = std::make_shared<backend_state>(url, settings, locking_);
    slot = created;
    return created;
}

}  // namespace gw
