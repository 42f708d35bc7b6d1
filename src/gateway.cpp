#include "gatewayd/gateway.hpp"

#include "gatewayd/health_checker.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace gw {

gateway::gateway(boost::asio::io_context& io, std::shared_ptr<const config> settings,
                 const std::vector<boost::asio::ip::tcp::endpoint>& endpoints)
    : io_(io),
      settings_(std::move(settings)),
      backends_(std::make_shared<backend_set>()),
      pool_(settings_->upstream.max_idle_per_backend, settings_->upstream.idle_timeout),
      limiter_(io) {
    for (std::size_t i = 0; i < settings_->backends.size(); ++i) {
        backends_->members.push_back(std::make_shared<backend>(settings_->backends[i], endpoints.at(i), *settings_));
    }
}

void gateway::start() {
    started_ = true;
    start_health_checks();
    limiter_.prepare(settings_->rate_limit, settings_->redis);
}

void gateway::release_io_objects() {
    close_pooled_connections();
    limiter_.close();
}

void gateway::start_health_checks() {
    if (!started_ || !settings_->health_check.enabled) return;
    for (auto& target : backends_->members) {
        if (target->checked) continue;
        target->checked = true;
        boost::asio::co_spawn(io_, run_health_checks(*this, target), boost::asio::detached);
    }
}

void gateway::apply(std::shared_ptr<const config> settings,
                    const std::vector<boost::asio::ip::tcp::endpoint>& endpoints) {
    auto next = std::make_shared<backend_set>();
    for (std::size_t i = 0; i < settings->backends.size(); ++i) {
        const auto& wanted = settings->backends[i];
        std::shared_ptr<backend> kept;
        for (const auto& existing : backends_->members) {
            if (existing->config.url == wanted.url) kept = existing;
        }
        if (kept) {
            kept->endpoint = endpoints.at(i);
            kept->reconfigure(*settings);
            next->members.push_back(std::move(kept));
        } else {
            next->members.push_back(std::make_shared<backend>(wanted, endpoints.at(i), *settings));
        }
    }
    for (const auto& old : backends_->members) {
        const bool stays = std::any_of(next->members.begin(), next->members.end(),
                                       [&](const auto& b) { return b == old; });
        if (!stays) {
            old->retired = true;
            upstream_pool::clear(*old);
        }
    }
    settings_ = std::move(settings);
    backends_ = std::move(next);
    pool_ = upstream_pool(settings_->upstream.max_idle_per_backend, settings_->upstream.idle_timeout);
    start_health_checks();
    limiter_.prepare(settings_->rate_limit, settings_->redis);
}

bool gateway::admit_connection() {
    if (draining() || active_connections() >= settings_->client.max_connections) return false;
    active_connections_.fetch_add(1, std::memory_order_relaxed);
    return true;
}

void gateway::begin_drain() {
    draining_ = true;
    for (auto* stream : idle_sessions_) stream->cancel();
    close_pooled_connections();
}

void gateway::close_pooled_connections() {
    for (auto& target : backends_->members) upstream_pool::clear(*target);
}

void gateway::mark_down(backend& target, const char* why) {
    // Without active health checks nothing could bring the backend back, so stay passive then.
    if (!settings_->health_check.enabled || !target.health.mark_down()) return;
    upstream_pool::clear(target);
    spdlog::warn("backend {} marked down: {}", target.config.url, why);
}

bool gateway::any_available() {
    const auto now = steady_clock::now();
    for (auto& target : backends_->members) {
        if (target->available(now)) return true;
    }
    return false;
}

}  // namespace gw
