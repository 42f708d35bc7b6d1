#include "gatewayd/gateway.hpp"

#include <spdlog/spdlog.h>

namespace gw {

gateway::gateway(boost::asio::io_context& io, std::shared_ptr<const config> settings,
                 std::vector<boost::asio::ip::tcp::endpoint> endpoints)
    : io_(io),
      settings_(std::move(settings)),
      pool_(settings_->upstream.max_idle_per_backend, settings_->upstream.idle_timeout) {
    for (std::size_t i = 0; i < settings_->backends.size(); ++i) {
        auto state = std::make_unique<backend>();
        state->config = settings_->backends[i];
        state->endpoint = endpoints.at(i);
        state->health = health_state(settings_->health_check.healthy_threshold,
                                     settings_->health_check.unhealthy_threshold);
        backends_.push_back(std::move(state));
    }
}

bool gateway::admit_connection() {
    if (draining_ || active_connections() >= settings_->client.max_connections) return false;
    active_connections_.fetch_add(1, std::memory_order_relaxed);
    return true;
}

void gateway::begin_drain() {
    draining_ = true;
    for (auto* stream : idle_sessions_) stream->cancel();
    for (auto& target : backends_) upstream_pool::clear(*target);
}

void gateway::mark_down(backend& target, const char* why) {
    // Without active health checks nothing could bring the backend back, so stay passive then.
    if (!settings_->health_check.enabled || !target.health.mark_down()) return;
    upstream_pool::clear(target);
    spdlog::warn("backend {} marked down: {}", target.config.url, why);
}

}  // namespace gw
