#include "gatewayd/app/event_loop.hpp"

#include "gatewayd/io/error_boundary.hpp"
#include "gatewayd/upstream/backend_set.hpp"
#include "gatewayd/upstream/health_checker.hpp"
#include "gatewayd/log/logging.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace gw {

bool connection_limit::admit(std::uint64_t max_connections) {
    auto open = open_.load(std::memory_order_relaxed);
    do {
        if (open >= max_connections) return false;
    } while (!open_.compare_exchange_weak(open, open + 1, std::memory_order_relaxed));
    return true;
}

event_loop::event_loop(boost::asio::io_context& io, std::shared_ptr<const config> settings,
                       const endpoint_map& endpoints, std::shared_ptr<backend_registry> registry,
                       std::shared_ptr<connection_limit> connections, loop_tls tls)
    : io_(io),
      registry_(std::move(registry)),
      connections_(std::move(connections)),
      settings_(std::move(settings)),
      backends_(build_backend_set(*settings_, endpoints, nullptr, *registry_)),
      pool_(settings_->upstream.max_idle_per_backend, settings_->upstream.idle_timeout),
      limiter_(io),
      tls_(std::move(tls)) {}

void event_loop::start() {
    started_ = true;
    start_health_checks();
    limiter_.prepare(settings_->rate_limit, settings_->redis);
}

void event_loop::release_io_objects() {
    close_pooled_connections();
    limiter_.close();
}

void event_loop::start_health_checks() {
    if (!started_ || !settings_->health_check.enabled) return;
    for (auto& target : backends_->members) {
        // One loop checks each backend for the whole process: the first to claim it.
        if (target->checking || !target->state->claim_checks()) continue;
        target->checking = true;
        boost::asio::co_spawn(io_, run_health_checks(*this, target), task_boundary{task_kind::health_check});
    }
}

void event_loop::apply(std::shared_ptr<const config> settings, const endpoint_map& endpoints, loop_tls tls) {
    tls_ = std::move(tls);
    auto next = build_backend_set(*settings, endpoints, backends_.get(), *registry_);
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
    limiter_.forget_refusals();
    limiter_.prepare(settings_->rate_limit, settings_->redis);
}

void event_loop::flush_access_log_soon() {
    if (log_flush_posted_) return;
    log_flush_posted_ = true;
    boost::asio::post(io_, [this] {
        log_flush_posted_ = false;
        flush_access_log();
    });
}

bool event_loop::admit_connection() {
    if (draining() || !connections_->admit(settings_->client.max_connections)) return false;
    active_connections_.fetch_add(1, std::memory_order_relaxed);
    return true;
}

void event_loop::connection_closed() {
    active_connections_.fetch_sub(1, std::memory_order_relaxed);
    connections_->release();
}

void event_loop::begin_drain() {
    draining_ = true;
    for (auto& session : idle_sessions_) {
        boost::system::error_code ignored;
        session.stream->socket().cancel(ignored);
    }
    close_pooled_connections();
}

void event_loop::tunnel_opened(open_tunnel& tunnel) {
    tunnels_.push_back(tunnel);
    ++tunnels_active_;
    ++tunnels_total_;
}

void event_loop::tunnel_closed(open_tunnel& tunnel) {
    tunnel.unlink();
    --tunnels_active_;
}

void event_loop::close_tunnels() {
    for (auto& tunnel : tunnels_) {
        tunnel.closing = true;
        boost::system::error_code ignored;
        tunnel.client->socket().cancel(ignored);
        tunnel.backend->socket().cancel(ignored);
    }
}

void event_loop::close_pooled_connections() {
    for (auto& target : backends_->members) upstream_pool::clear(*target);
}

void event_loop::mark_down(backend& target, std::string_view why) {
    // Without active health checks nothing could bring the backend back, so stay passive then.
    if (!settings_->health_check.enabled || !target.state->mark_down()) return;
    upstream_pool::clear(target);
    spdlog::warn("backend {} marked down: {}", target.settings.url, why);
}

metrics_sample event_loop::sample() {
    metrics_sample out;
    out.requests = metrics_;
    out.rate_limited = limiter_.limited();
    out.rate_limit_shadow = limiter_.shadow_limited();
    // Every rule of the running config shows, at 0 until it counts something.
    auto known = [&](const rate_limit_plan& plan) {
        for (const auto& rule : plan.rules) (rule.shadow ? out.rate_limit_shadow : out.rate_limited).add(rule.name, 0);
    };
    known(backends_->default_limits);
    for (const auto& plan : backends_->route_limits) known(plan);
    out.rate_limit_store_errors = limiter_.store_errors();
    redis_counters redis;
    limiter_.sample_redis(redis);
    out.redis_nodes = std::move(redis.nodes);
    out.redis_moved = redis.moved;
    out.redis_ask = redis.ask;
    out.redis_failovers = redis.failovers;
    out.active_connections = active_connections();
    out.tls_handshakes_ok = handshakes_ok_;
    out.tls_handshakes_failed = handshakes_failed_;
    out.tunnels_active = tunnels_active_;
    out.tunnels_total = tunnels_total_;
    const auto now = steady_clock::now();
    for (const auto& target : backends_->members) {
        const auto state = target->state->breaker_state(now);
        out.backends.push_back({target->settings.url, target->successes, target->failures,
                                state == circuit_breaker::state::closed ? 0 : state == circuit_breaker::state::half_open ? 1 : 2,
                                target->state->healthy()});
    }
    return out;
}

bool event_loop::any_available() {
    const auto now = steady_clock::now();
    for (auto& target : backends_->members) {
        if (target->state->available(now)) return true;
    }
    return false;
}

}  // namespace gw
