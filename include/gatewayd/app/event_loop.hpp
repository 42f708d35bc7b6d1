#pragma once

#include "gatewayd/admin/metrics.hpp"
#include "gatewayd/chain/request_id.hpp"
#include "gatewayd/config/config.hpp"
#include "gatewayd/io/block_pool.hpp"
#include "gatewayd/io/timed_socket.hpp"
#include "gatewayd/io/timed_stream.hpp"
#include "gatewayd/limit/rate_limiter.hpp"
#include "gatewayd/tls/client_context.hpp"
#include "gatewayd/tls/server_contexts.hpp"
#include "gatewayd/upstream/backend.hpp"
#include "gatewayd/upstream/upstream_pool.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/intrusive/list.hpp>

#include <atomic>
#include <memory>
#include <vector>

namespace gw {

// A session waiting for its next request, linked into its loop's idle list in place: entering
// and leaving it on every request must not allocate. Unlinks itself when destroyed.
struct idle_session
    : boost::intrusive::list_base_hook<boost::intrusive::link_mode<boost::intrusive::auto_unlink>> {
    explicit idle_session(timed_socket& s) : stream(&s) {}
    timed_socket* stream;
};

// An Upgrade tunnel in progress, linked into its loop's list so that the end of a drain can
// close it; unlinks itself when destroyed.
struct open_tunnel
    : boost::intrusive::list_base_hook<boost::intrusive::link_mode<boost::intrusive::auto_unlink>> {
    open_tunnel(timed_stream& client_side, timed_stream& backend_side) : client(&client_side), backend(&backend_side) {}
    timed_stream* client;
    timed_stream* backend;
    bool closing = false;  // one side ended or the drain closes it: both directions stop
};

// The TLS contexts a loop hands out: the listener's certificate set (null: no TLS listener)
// and the one toward https backends. Built once for the process, replaced on reload.
struct loop_tls {
    std::shared_ptr<const tls::server_contexts> listener;
    std::shared_ptr<const tls::client_context> upstream;
};

// client.max_connections for the whole process, shared by every loop (an atomic, touched once
// per connection, not per request).
class connection_limit {
public:
    // Takes a slot unless all of them are taken.
    bool admit(std::uint64_t max_connections);
    void release() { open_.fetch_sub(1, std::memory_order_relaxed); }
    std::uint64_t open() const { return open_.load(std::memory_order_relaxed); }

private:
    std::atomic<std::uint64_t> open_{0};
};

// Everything one event loop owns: its view of the config and the backends, its pool, its
// limiter, its counters. Only that loop's thread touches it, so nothing here is locked (but the
// connection counts, which the drain and the other loops read).
class event_loop {
public:
    // `registry` and `connections` are the process's: every loop gets the same ones.
    event_loop(boost::asio::io_context& io, std::shared_ptr<const config> settings, const endpoint_map& endpoints,
               std::shared_ptr<backend_registry> registry, std::shared_ptr<connection_limit> connections,
               loop_tls tls = {});

    boost::asio::io_context& io() { return io_; }

    // Snapshots: a request keeps the ones it started with even if a reload replaces them.
    const std::shared_ptr<const config>& settings() const { return settings_; }
    const std::shared_ptr<backend_set>& backends() const { return backends_; }

    // Applies a reloaded config: backends whose URL stays keep their breaker, health and pool;
    // new TLS handshakes use the new contexts, open connections keep theirs.
    void apply(std::shared_ptr<const config> settings, const endpoint_map& endpoints, loop_tls tls);

    // The listener's certificate set for a new TLS connection, and the context toward https
    // backends (null when none could be built).
    const std::shared_ptr<const tls::server_contexts>& tls_listener() const { return tls_.listener; }
    const std::shared_ptr<const tls::client_context>& upstream_tls() const { return tls_.upstream; }

    // TLS handshakes on the listener, by outcome.
    void count_handshake(bool ok) { ++(ok ? handshakes_ok_ : handshakes_failed_); }

    // Upgrade tunnels: counted, and kept in a list so that the end of a drain can close them.
    void tunnel_opened(open_tunnel& tunnel);
    void tunnel_closed(open_tunnel& tunnel);
    // Ends every tunnel: each stops both directions, logs its line and closes its connections.
    void close_tunnels();

    // Starts the background work (health checks, the limiter's Redis connection).
    void start();

    upstream_pool& pool() { return pool_; }
    block_pool& blocks() { return blocks_; }
    rate_limiter& limiter() { return limiter_; }
    request_metrics& metrics() { return metrics_; }
    request_id_generator& request_ids() { return request_ids_; }

    // This loop's counters and backend states; call it on this loop's thread.
    metrics_sample sample();

    // Writes this loop's access lines once the handlers ready now have run: one write per turn.
    void flush_access_log_soon();

    // Connection accounting for client.max_connections (process-wide) and for the drain.
    bool admit_connection();
    void connection_closed();
    std::size_t active_connections() const { return active_connections_.load(std::memory_order_relaxed); }

    // Sessions waiting for their next request register here so a drain can close them at once.
    void enter_idle(idle_session& session) { idle_sessions_.push_back(session); }
    static void leave_idle(idle_session& session) { session.unlink(); }

    // Stop taking new requests: idle keep-alive connections are closed, busy ones finish.
    void begin_drain();
    bool draining() const { return draining_.load(std::memory_order_relaxed); }

    // Closes every pooled upstream connection (drain, shutdown).
    void close_pooled_connections();

    // Closes every socket and timer this loop owns, before its io_context is destroyed.
    void release_io_objects();

    // A connect failure takes the backend out of rotation until a health check brings it back.
    void mark_down(backend& target, std::string_view why);

    // At least one backend is available (healthy, breaker not open): what /readyz reports.
    bool any_available();

private:
    void start_health_checks();

    boost::asio::io_context& io_;
    std::shared_ptr<backend_registry> registry_;
    std::shared_ptr<connection_limit> connections_;
    std::shared_ptr<const config> settings_;
    std::shared_ptr<backend_set> backends_;
    upstream_pool pool_;
    block_pool blocks_;
    rate_limiter limiter_;
    request_metrics metrics_;
    request_id_generator request_ids_;
    std::atomic<std::size_t> active_connections_{0};
    boost::intrusive::list<idle_session, boost::intrusive::constant_time_size<false>> idle_sessions_;
    boost::intrusive::list<open_tunnel, boost::intrusive::constant_time_size<false>> tunnels_;
    loop_tls tls_;
    std::uint64_t handshakes_ok_ = 0;
    std::uint64_t handshakes_failed_ = 0;
    std::uint64_t tunnels_active_ = 0;
    std::uint64_t tunnels_total_ = 0;
    std::atomic<bool> draining_{false};
    bool started_ = false;
    bool log_flush_posted_ = false;
};

}  // namespace gw
