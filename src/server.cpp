#include "gatewayd/server.hpp"

#include "gatewayd/accept_loop.hpp"
#include "gatewayd/admin_server.hpp"
#include "gatewayd/config_loader.hpp"
#include "gatewayd/error_boundary.hpp"
#include "gatewayd/gateway.hpp"
#include "gatewayd/logging.hpp"
#include "gatewayd/service_notify.hpp"
#include "gatewayd/session.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include <csignal>
#include <thread>

namespace gw {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

using net::nothrow;

// One event loop with its own listener (SO_REUSEPORT spreads connections across loops).
// The state outlives the io_context: destroying the context destroys suspended sessions,
// which still give their buffers back to the state's pool. The state's pooled sockets belong
// to the context, so they are closed first.
struct event_loop {
    event_loop() = default;
    event_loop(const event_loop&) = delete;
    event_loop& operator=(const event_loop&) = delete;
    ~event_loop() {
        acceptor.reset();
        if (state) state->release_io_objects();
    }

    std::unique_ptr<gateway> state;
    // One thread runs this loop and only it touches the loop's sockets (other threads post to
    // it), so the reactor's per-socket locks can go; the scheduler keeps its lock for those posts.
    asio::io_context io{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO};
    std::optional<net::acceptor> acceptor;
};

std::optional<tcp::endpoint> resolve(const std::string& host, std::uint16_t port, std::string& error) {
    asio::io_context io;
    tcp::resolver resolver(io);
    boost::system::error_code ec;
    const auto results = resolver.resolve(host.empty() ? "0.0.0.0" : host, std::to_string(port),
                                          tcp::resolver::numeric_service, ec);
    if (ec || results.empty()) {
        error = ec ? ec.message() : "no address";
        return std::nullopt;
    }
    return results.begin()->endpoint();
}

// Runs a loop until it is stopped. An exception out of a handler that is not a coroutine's
// (whose own boundary would have caught it) is recorded and the loop goes on.
void run_loop(asio::io_context& io) {
    for (;;) {
        try {
            io.run();
            return;
        } catch (...) {
            record_task_failure(task_kind::event_loop, std::current_exception());
        }
    }
}

// Idle upstream connections older than upstream.idle_timeout are closed in the background.
net::awaitable<void> sweep_pools(gateway& owner) {
    net::steady_timer timer(co_await asio::this_coro::executor);
    while (!owner.draining()) {
        timer.expires_after(std::chrono::seconds(1));
        co_await timer.async_wait(nothrow);
        const auto now = steady_clock::now();
        for (auto& target : owner.backends()->members) owner.pool().sweep(*target, now);
    }
}

// Closes the listeners, lets requests in flight finish up to shutdown_timeout, then stops.
net::awaitable<void> drain(std::vector<std::unique_ptr<event_loop>>& loops, duration shutdown_timeout) {
    for (auto& loop : loops) {
        asio::post(loop->io, [&loop = *loop] {
            boost::system::error_code ignored;
            loop.acceptor->close(ignored);
            loop.state->begin_drain();
        });
    }
    net::steady_timer timer(co_await asio::this_coro::executor);
    const auto deadline = steady_clock::now() + shutdown_timeout;
    for (;;) {
        std::size_t busy = 0;
        for (auto& loop : loops) busy += loop->state->active_connections();
        if (busy == 0) break;
        if (steady_clock::now() >= deadline) {
            spdlog::warn("shutdown timeout: closing {} connection(s) still busy", busy);
            break;
        }
        timer.expires_after(std::chrono::milliseconds(20));
        co_await timer.async_wait(nothrow);
    }
    for (auto& loop : loops) loop->io.stop();
}

// The address of every backend URL the config names (top level and routes), or the reason one
// cannot be resolved.
std::optional<endpoint_map> resolve_backends(const config& settings, std::string& error) {
    endpoint_map endpoints;
    auto add = [&](const backend_config& target) {
        if (endpoints.contains(target.url)) return true;
        const auto endpoint = resolve(target.host, target.port, error);
        if (!endpoint) {
            error = "cannot resolve backend " + target.url + ": " + error;
            return false;
        }
        endpoints.emplace(target.url, *endpoint);
        return true;
    };
    for (const auto& target : settings.backends) {
        if (!add(target)) return std::nullopt;
    }
    for (const auto& route : settings.routes) {
        for (const auto& target : route.backends.value_or(std::vector<backend_config>{})) {
            if (!add(target)) return std::nullopt;
        }
    }
    return endpoints;
}

// SIGHUP: read the file again; a valid one replaces the running config on every loop, an
// invalid one is reported and changes nothing.
std::shared_ptr<const config> reload(std::vector<std::unique_ptr<event_loop>>& loops,
                                     std::shared_ptr<const config> running, const std::string& config_path) {
    auto loaded = load_config_file(config_path);
    if (!loaded.value) {
        for (const auto& error : loaded.errors) spdlog::error("reload: {}", error.to_string());
        spdlog::error("reload of {} failed: {} problem(s); the running config stays", config_path,
                      loaded.errors.size());
        return running;
    }
    std::string error;
    const auto endpoints = resolve_backends(*loaded.value, error);
    if (!endpoints) {
        spdlog::error("reload of {} failed: {}; the running config stays", config_path, error);
        return running;
    }
    auto next = std::make_shared<config>(std::move(*loaded.value));
    // What is bound at start-up stays as it is until a restart.
    if (next->listen_address != running->listen_address) {
        spdlog::warn("reload: listen changed to {}; it takes a restart, still listening on {}", next->listen,
                     running->listen);
    }
    if (next->admin.address != running->admin.address) {
        spdlog::warn("reload: admin.listen changed to \"{}\"; it takes a restart", next->admin.listen);
    }
    if (next->redis.address != running->redis.address || next->redis.password != running->redis.password ||
        next->redis.db != running->redis.db) {
        spdlog::warn("reload: redis connection settings changed; they take a restart");
    }
    if (next->threads != running->threads) {
        spdlog::warn("reload: threads changed to {}; it takes a restart, still {}", next->threads, running->threads);
    }
    next->listen = running->listen;
    next->listen_address = running->listen_address;
    next->admin = running->admin;
    next->threads = running->threads;
    next->redis.address = running->redis.address;
    next->redis.endpoint = running->redis.endpoint;
    next->redis.password = running->redis.password;
    next->redis.db = running->redis.db;
    std::shared_ptr<const config> applied = std::move(next);
    configure_logging(applied->log);
    for (auto& loop : loops) {
        asio::post(loop->io, [&loop = *loop, applied, endpoints = *endpoints] { loop.state->apply(applied, endpoints); });
    }
    spdlog::info("config reloaded from {}: {} backend(s), {} route(s)", config_path, applied->backends.size(),
                 applied->routes.size());
    return applied;
}

net::awaitable<void> handle_signals(asio::signal_set& signals, std::vector<std::unique_ptr<event_loop>>& loops,
                                     std::shared_ptr<const config> running, std::string config_path) {
    for (;;) {
        auto [ec, number] = co_await signals.async_wait(nothrow);
        if (ec) co_return;
        if (number == SIGHUP) {
            spdlog::info("SIGHUP received: reloading {}", config_path);
            notify_reloading();
            running = reload(loops, running, config_path);
            notify_ready();
            continue;
        }
        notify_stopping();
        spdlog::info("{} received: draining (up to {} ms)", number == SIGTERM ? "SIGTERM" : "SIGINT",
                     running->shutdown_timeout.count());
        co_await drain(loops, running->shutdown_timeout);
        co_return;
    }
}

// Binds and listens, or says why not.
boost::system::error_code open_listener(net::acceptor& acceptor, const tcp::endpoint& at, bool share_port) {
    boost::system::error_code ec;
    acceptor.open(at.protocol(), ec);
    if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec && share_port) {
        const int on = 1;
        if (::setsockopt(acceptor.native_handle(), SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) != 0) {
            ec.assign(errno, boost::system::system_category());
        }
    }
    if (!ec) acceptor.bind(at, ec);
    if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
    return ec;
}

}  // namespace

int run_server(std::shared_ptr<const config> settings, const std::string& config_path) {
    std::string error;
    const auto endpoints = resolve_backends(*settings, error);
    if (!endpoints) {
        spdlog::error("{}: {}", config_path, error);
        return 1;
    }
    const auto listen_at = resolve(settings->listen_address.host, settings->listen_address.port, error);
    if (!listen_at) {
        spdlog::error("cannot listen on {}: {}", settings->listen, error);
        return 1;
    }
    std::optional<tcp::endpoint> admin_at;
    if (settings->admin.address) {
        admin_at = resolve(settings->admin.address->host, settings->admin.address->port, error);
        if (!admin_at) {
            spdlog::error("cannot listen on admin {}: {}", settings->admin.listen, error);
            return 1;
        }
    }

    // One breaker and one health state per backend for the whole process, locked only when
    // more than one loop shares them.
    const auto registry = std::make_shared<backend_registry>(settings->threads > 1);
    std::vector<std::unique_ptr<event_loop>> loops;
    for (std::uint64_t i = 0; i < settings->threads; ++i) {
        auto& loop = loops.emplace_back(std::make_unique<event_loop>());
        loop->state = std::make_unique<gateway>(loop->io, settings, *endpoints, registry);
    }
    // Registered before anything listens, so that an early SIGTERM drains rather than kills.
    asio::signal_set signals(loops.front()->io, SIGTERM, SIGINT, SIGHUP);
    asio::co_spawn(loops.front()->io, handle_signals(signals, loops, settings, config_path),
                   task_boundary{task_kind::background});

    for (auto& loop : loops) {
        auto& acceptor = loop->acceptor.emplace(loop->io);
        if (const auto ec = open_listener(acceptor, *listen_at, settings->threads > 1)) {
            spdlog::error("cannot listen on {}: {}", settings->listen, ec.message());
            return 1;
        }
        asio::co_spawn(loop->io,
                       accept_connections(acceptor, "client",
                                          [&owner = *loop->state](net::socket socket) {
                                              if (!owner.admit_connection()) return;  // closed by going out of scope
                                              asio::co_spawn(owner.io(), run_session(std::move(socket), owner),
                                                             task_boundary{task_kind::session});
                                          }),
                       task_boundary{task_kind::background});
        asio::co_spawn(loop->io, sweep_pools(*loop->state), task_boundary{task_kind::background});
        loop->state->start();
    }
    // The admin listener lives on the first loop and answers from its state.
    std::optional<net::acceptor> admin;
    if (admin_at) {
        admin.emplace(loops.front()->io);
        if (const auto ec = open_listener(*admin, *admin_at, false)) {
            spdlog::error("cannot listen on admin {}: {}", settings->admin.listen, ec.message());
            return 1;
        }
        std::vector<gateway*> states;
        for (auto& loop : loops) states.push_back(loop->state.get());
        asio::co_spawn(loops.front()->io, run_admin(*admin, *loops.front()->state, std::move(states)),
                       task_boundary{task_kind::background});
    }

    spdlog::info("gatewayd listening on {} ({} thread(s), {} backend(s), {} route(s)){}", settings->listen,
                 settings->threads, settings->backends.size(), settings->routes.size(),
                 admin_at ? ", admin on " + settings->admin.listen : std::string());
    asio::co_spawn(loops.front()->io, run_watchdog(), task_boundary{task_kind::background});
    notify_ready();
    std::vector<std::thread> threads;
    for (std::size_t i = 1; i < loops.size(); ++i) {
        threads.emplace_back([&loop = *loops[i]] { run_loop(loop.io); });
    }
    run_loop(loops.front()->io);
    for (auto& thread : threads) thread.join();
    spdlog::info("gatewayd stopped");
    return 0;
}

}  // namespace gw
