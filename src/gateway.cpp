#include "gatewayd/gateway.hpp"

#include "gatewayd/error_boundary.hpp"
#include "gatewayd/health_checker.hpp"
#include "gatewayd/logging.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace gw {

namespace {

// Builds the routing state for `settings`, taking over the backends of `previous` whose URL
// stays (with their breaker, health and pool) and creating the others.
std::shared_ptr<backend_set> build_backend_set(const config& settings, const endpoint_map& endpoints,
                                               const backend_set* previous, backend_registry& registry) {
    auto next = std::make_shared<backend_set>();
    auto obtain = [&](const backend_config& wanted, const std::string& route) {
        for (const auto& have : next->members) {
            if (have->config.url == wanted.url) {
                if (std::find(have->routes.begin(), have->routes.end(), route) == have->routes.end()) {
                    have->routes.push_back(route);
                }
                return have;
            }
        }
        std::shared_ptr<backend> found;
        if (previous != nullptr) {
            for (const auto& old : previous->members) {
                if (old->config.url == wanted.url) found = old;
            }
        }
        if (found) {
            found->endpoint = endpoints.at(wanted.url);
            found->state->reconfigure(settings);
            found->routes.clear();
        } else {
            found = std::make_shared<backend>(wanted, endpoints.at(wanted.url), registry.obtain(wanted.url, settings));
        }
        found->routes.push_back(route);
        next->members.push_back(found);
        return found;
    };
    for (const auto& wanted : settings.backends) next->default_pool.members.push_back(obtain(wanted, "default"));
    for (const auto& route : settings.routes) {
        auto& pool = next->route_pools.emplace_back();
        for (const auto& wanted : route.backends.value_or(settings.backends)) {
            pool.members.push_back(obtain(wanted, route.name));
        }
    }
    next->routes = route_table(settings.routes);
    return next;
}

}  // namespace

gateway::gateway(boost::asio::io_context& io, std::shared_ptr<const config> settings, const endpoint_map& endpoints,
                 std::shared_ptr<backend_registry> registry)
    : io_(io),
      registry_(std::move(registry)),
      settings_(std::move(settings)),
      backends_(build_backend_set(*settings_, endpoints, nullptr, *registry_)),
      pool_(settings_->upstream.max_idle_per_backend, settings_->upstream.idle_timeout),
      limiter_(io) {}

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
        // One loop checks each backend for the whole process: the first to claim it.
        if (target->checking || !target->state->claim_checks()) continue;
        target->checking = true;
        boost::asio::co_spawn(io_, run_health_checks(*this, target), task_boundary{task_kind::health_check});
    }
}

void gateway::apply(std::shared_ptr<const config> settings, const endpoint_map& endpoints) {
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
    limiter_.prepare(settings_->rate_limit, settings_->redis);
}

void gateway::flush_access_log_soon() {
    if (log_flush_posted_) return;
    log_flush_posted_ = true;
    boost::asio::post(io_, [this] {
        log_flush_posted_ = false;
        flush_access_log();
    });
}

bool gateway::admit_connection() {
    if (draining() || active_connections() >= settings_->client.max_connections) return false;
    active_connections_.fetch_add(1, std::memory_order_relaxed);
    return true;
}

void gateway::begin_drain() {
    draining_ = true;
    for (auto& session : idle_sessions_) {
        boost::system::error_code ignored;
        session.stream->socket().cancel(ignored);
    }
    close_pooled_connections();
}

void gateway::close_pooled_connections() {
    for (auto& target : backends_->members) upstream_pool::clear(*target);
}

void gateway::mark_down(backend& target, const char* why) {
    // Without active health checks nothing could bring the backend back, so stay passive then.
    if (!settings_->health_check.enabled || !target.state->mark_down()) return;
    upstream_pool::clear(target);
    spdlog::warn("backend {} marked down: {}", target.config.url, why);
}

metrics_sample gateway::sample() {
    metrics_sample out;
    out.requests = metrics_;
    out.rate_limited = limiter_.limited();
    out.rate_limit_store_errors = limiter_.store_errors();
    out.active_connections = active_connections();
    const auto now = steady_clock::now();
    for (const auto& target : backends_->members) {
        const auto state = target->state->breaker_state(now);
        out.backends.push_back({target->config.url, target->successes, target->failures,
                                state == circuit_breaker::state::closed ? 0 : state == circuit_breaker::state::half_open ? 1 : 2,
                                target->state->healthy()});
    }
    return out;
}

bool gateway::any_available() {
    const auto now = steady_clock::now();
    for (auto& target : backends_->members) {
        if (target->state->available(now)) return true;
    }
    return false;
}

}  // namespace gw
