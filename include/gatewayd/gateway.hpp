#pragma once

#include "gatewayd/backend.hpp"
#include "gatewayd/config.hpp"
#include "gatewayd/request_id.hpp"
#include "gatewayd/round_robin.hpp"
#include "gatewayd/upstream_pool.hpp"

#include <boost/asio/io_context.hpp>

#include <atomic>
#include <memory>
#include <unordered_set>
#include <vector>

namespace gw {

// Everything one event loop owns: its view of the backends, its pool, its counters. Only that
// loop's thread touches it, so nothing here is locked.
class gateway {
public:
    gateway(boost::asio::io_context& io, std::shared_ptr<const config> settings,
            std::vector<boost::asio::ip::tcp::endpoint> endpoints);

    boost::asio::io_context& io() { return io_; }
    const std::shared_ptr<const config>& settings() const { return settings_; }

    std::vector<std::unique_ptr<backend>>& backends() { return backends_; }
    round_robin& balancer() { return balancer_; }
    upstream_pool& pool() { return pool_; }
    request_id_generator& request_ids() { return request_ids_; }

    // Connection accounting for client.max_connections.
    bool admit_connection();
    void connection_closed() { active_connections_.fetch_sub(1, std::memory_order_relaxed); }
    // Read by the drain from the signal thread, hence atomic; written only by this loop.
    std::size_t active_connections() const { return active_connections_.load(std::memory_order_relaxed); }

    // Sessions waiting for their next request register here so a drain can close them at once.
    void enter_idle(boost::beast::tcp_stream* stream) { idle_sessions_.insert(stream); }
    void leave_idle(boost::beast::tcp_stream* stream) { idle_sessions_.erase(stream); }

    // Stop taking new requests: idle keep-alive connections are closed, busy ones finish.
    void begin_drain();
    bool draining() const { return draining_; }

    // A connect failure takes the backend out of rotation until a health check brings it back.
    void mark_down(backend& target, const char* why);

private:
    boost::asio::io_context& io_;
    std::shared_ptr<const config> settings_;
    std::vector<std::unique_ptr<backend>> backends_;
    round_robin balancer_;
    upstream_pool pool_;
    request_id_generator request_ids_;
    std::atomic<std::size_t> active_connections_{0};
    std::unordered_set<boost::beast::tcp_stream*> idle_sessions_;
    bool draining_ = false;
};

}  // namespace gw
