#include "gatewayd/backend.hpp"

#include <spdlog/spdlog.h>

namespace gw {

namespace {

circuit_breaker make_breaker(const std::string& url, const config& settings) {
    return circuit_breaker(breaker_settings(settings.circuit_breaker), steady_clock::now(),
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

backend::backend(backend_config where, boost::asio::ip::tcp::endpoint address, const gw::config& settings)
    : config(std::move(where)),
      endpoint(address),
      health(settings.health_check.healthy_threshold, settings.health_check.unhealthy_threshold),
      breaker(make_breaker(config.url, settings)),
      breaker_enabled(settings.circuit_breaker.enabled) {}

bool backend::available(steady_clock::time_point now) {
    if (!health.healthy()) return false;
    return !breaker_enabled || breaker.current(now) != circuit_breaker::state::open;
}

void backend::reconfigure(const gw::config& settings) {
    const auto next = breaker_settings(settings.circuit_breaker);
    const auto& now = breaker.config();
    const bool same_breaker = next.min_requests == now.min_requests && next.failure_ratio == now.failure_ratio &&
                              next.interval == now.interval && next.open_timeout == now.open_timeout &&
                              next.half_open_max_requests == now.half_open_max_requests;
    if (!same_breaker) breaker = make_breaker(config.url, settings);
    breaker_enabled = settings.circuit_breaker.enabled;
    health.set_thresholds(settings.health_check.healthy_threshold, settings.health_check.unhealthy_threshold);
    // With health checks off nothing could bring a down backend back: forget that it was down.
    if (!settings.health_check.enabled) {
        health = health_state(settings.health_check.healthy_threshold, settings.health_check.unhealthy_threshold);
    }
}

}  // namespace gw
