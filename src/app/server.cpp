#include "gatewayd/app/server.hpp"

#include "gatewayd/admin/admin_server.hpp"
#include "gatewayd/app/addresses.hpp"
#include "gatewayd/app/event_loop.hpp"
#include "gatewayd/app/reload.hpp"
#include "gatewayd/app/service_notify.hpp"
#include "gatewayd/http/session.hpp"
#include "gatewayd/io/accept_loop.hpp"
#include "gatewayd/io/error_boundary.hpp"
#include "gatewayd/log/logging.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <spdlog/spdlog.h>

#include <csignal>
#include <thread>

namespace gw {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

using net::nothrow;

// How long tunnels ended at the close of a drain get to close their connections.
constexpr auto tunnel_close_grace = std::chrono::seconds(1);

// One thread's event loop with its own listener (SO_REUSEPORT spreads connections across
// them). The loop's state outlives the io_context: destroying the context destroys suspended
// sessions, which still give their buffers back to the state's pool; the pooled sockets belong
// to the context, so they are closed first.
struct loop_thread {
    loop_thread() = default;
    loop_thread(const loop_thread&) = delete;
    loop_thread& operator=(const loop_thread&) = delete;
    ~loop_thread() {
        acceptor.reset();
        tls_acceptor.reset();
        if (loop) loop->release_io_objects();
    }

    std::unique_ptr<event_loop> loop;
    // One thread runs this context and only it touches the loop's sockets (other threads post
    // to it), so the reactor's per-socket locks can go; the scheduler keeps its lock for posts.
    asio::io_context io{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO};
    std::optional<net::acceptor> acceptor;
    std::optional<net::acceptor> tls_acceptor;  // tls.listen, when set
};

using loop_threads = std::vector<std::unique_ptr<loop_thread>>;

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
net::awaitable<void> sweep_pools(event_loop& loop) {
    net::steady_timer timer(co_await asio::this_coro::executor);
    while (!loop.draining()) {
        timer.expires_after(std::chrono::seconds(1));
        co_await timer.async_wait(nothrow);
        const auto now = steady_clock::now();
        for (auto& target : loop.backends()->members) loop.pool().sweep(*target, now);
    }
}

// Closes the listeners, lets requests in flight finish up to shutdown_timeout, then stops.
// Upgrade tunnels may last for hours: when the time is up they are ended (each closes both its
// connections and logs its line) and given a moment to do so before the loops stop.
net::awaitable<void> drain(loop_threads& threads, duration shutdown_timeout) {
    for (auto& thread : threads) {
        asio::post(thread->io, [&thread = *thread] {
            boost::system::error_code ignored;
            thread.acceptor->close(ignored);
            if (thread.tls_acceptor) thread.tls_acceptor->close(ignored);
            thread.loop->begin_drain();
        });
    }
    net::steady_timer timer(co_await asio::this_coro::executor);
    auto deadline = steady_clock::now() + shutdown_timeout;
    bool tunnels_closed = false;
    for (;;) {
        std::size_t busy = 0;
        for (auto& thread : threads) busy += thread->loop->active_connections();
        if (busy == 0) break;
        if (steady_clock::now() >= deadline) {
            if (tunnels_closed) break;
            spdlog::warn("shutdown timeout: closing {} connection(s) still busy", busy);
            for (auto& thread : threads) asio::post(thread->io, [&loop = *thread->loop] { loop.close_tunnels(); });
            tunnels_closed = true;
            deadline = steady_clock::now() + tunnel_close_grace;
        }
        timer.expires_after(std::chrono::milliseconds(20));
        co_await timer.async_wait(nothrow);
    }
    for (auto& thread : threads) thread->io.stop();
}

// The TLS contexts of a config: the listener's certificates (when it has a TLS listener) and
// the one toward https backends; nothing and the reason when one cannot be built.
std::optional<loop_tls> build_tls(const config& settings, std::string& error) {
    loop_tls built;
    if (settings.tls.address) {
        built.listener = tls::server_contexts::build(settings.tls, error);
        if (!built.listener) return std::nullopt;
    }
    built.upstream = tls::client_context::build(settings.upstream_tls, error);
    if (!built.upstream) return std::nullopt;
    return built;
}

void warn_about_unchecked_backends(const config& settings) {
    if (settings.upstream_tls.verify) return;
    spdlog::warn("upstream_tls.verify is false: certificates of https backends are not checked; use it for tests only");
}

// SIGHUP: a valid file replaces the running config on every loop; an invalid one changes nothing.
// Certificates and keys are read again even when their paths did not change: rotating them is
// writing new files and sending SIGHUP. New handshakes use them; open connections keep theirs.
std::shared_ptr<const config> reload(loop_threads& threads, std::shared_ptr<const config> running,
                                     const std::string& config_path, loop_tls& running_tls) {
    auto next = read_reloaded_config(*running, config_path);
    if (!next) return running;
    configure_logging(next->settings->log);
    std::string error;
    auto tls = build_tls(*next->settings, error);
    if (tls) {
        running_tls = std::move(*tls);
        if (next->settings->tls.address) {
            spdlog::info("reload: {} TLS certificate(s) loaded", next->settings->tls.certificates.size());
        }
    } else {
        // The loader read the same files a moment ago; one changed again since.
        spdlog::error("reload: {}; the TLS certificates in use stay", error);
    }
    if (next->settings->upstream_tls.verify != running->upstream_tls.verify) warn_about_unchecked_backends(*next->settings);
    for (auto& thread : threads) {
        asio::post(thread->io, [&loop = *thread->loop, next = *next, tls = running_tls] {
            loop.apply(next.settings, next.endpoints, tls);
        });
    }
    spdlog::info("config reloaded from {}: {} backend(s), {} route(s)", config_path, next->settings->backends.size(),
                 next->settings->routes.size());
    return next->settings;
}

net::awaitable<void> handle_signals(asio::signal_set& signals, loop_threads& threads,
                                    std::shared_ptr<const config> running, std::string config_path, loop_tls tls) {
    for (;;) {
        auto [ec, number] = co_await signals.async_wait(nothrow);
        if (ec) co_return;
        if (number == SIGHUP) {
            spdlog::info("SIGHUP received: reloading {}", config_path);
            notify_reloading();
            running = reload(threads, running, config_path, tls);
            notify_ready();
            continue;
        }
        notify_stopping();
        spdlog::info("{} received: draining (up to {} ms)", number == SIGTERM ? "SIGTERM" : "SIGINT",
                     running->shutdown_timeout.count());
        co_await drain(threads, running->shutdown_timeout);
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

// Every loop's listeners (the TLS one too when `tls_at` is set), with its sessions and
// background work; false (logged) when one cannot listen.
bool start_loops(loop_threads& threads, const config& settings, const tcp::endpoint& listen_at,
                 const std::optional<tcp::endpoint>& tls_at) {
    for (auto& thread : threads) {
        auto& acceptor = thread->acceptor.emplace(thread->io);
        if (const auto ec = open_listener(acceptor, listen_at, settings.threads > 1)) {
            spdlog::error("cannot listen on {}: {}", settings.listen, ec.message());
            return false;
        }
        // A named callable: GCC 12 mishandles temporaries built inside a co_spawn expression.
        const auto serve = [&loop = *thread->loop](net::socket socket) {
            if (!loop.admit_connection()) return;  // closed by going out of scope
            asio::co_spawn(loop.io(), run_session(std::move(socket), loop), task_boundary{task_kind::session});
        };
        asio::co_spawn(thread->io, accept_connections(acceptor, "client", serve), task_boundary{task_kind::background});
        if (tls_at) {
            auto& tls_acceptor = thread->tls_acceptor.emplace(thread->io);
            if (const auto ec = open_listener(tls_acceptor, *tls_at, settings.threads > 1)) {
                spdlog::error("cannot listen on {} (tls.listen): {}", settings.tls.listen, ec.message());
                return false;
            }
            const auto serve_tls = [&loop = *thread->loop](net::socket socket) {
                if (!loop.admit_connection()) return;
                asio::co_spawn(loop.io(), run_session(std::move(socket), loop, true), task_boundary{task_kind::session});
            };
            asio::co_spawn(thread->io, accept_connections(tls_acceptor, "TLS client", serve_tls),
                           task_boundary{task_kind::background});
        }
        asio::co_spawn(thread->io, sweep_pools(*thread->loop), task_boundary{task_kind::background});
        thread->loop->start();
    }
    return true;
}

// The admin listener lives on the first loop and answers from every loop's state.
bool start_admin(loop_threads& threads, std::optional<net::acceptor>& admin, const config& settings,
                 const tcp::endpoint& admin_at) {
    auto& first = *threads.front();
    admin.emplace(first.io);
    if (const auto ec = open_listener(*admin, admin_at, false)) {
        spdlog::error("cannot listen on admin {}: {}", settings.admin.listen, ec.message());
        return false;
    }
    std::vector<event_loop*> loops;
    for (auto& thread : threads) loops.push_back(thread->loop.get());
    asio::co_spawn(first.io, run_admin(*admin, *first.loop, std::move(loops)), task_boundary{task_kind::background});
    return true;
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
    std::optional<tcp::endpoint> tls_at;
    if (settings->tls.address) {
        tls_at = resolve(settings->tls.address->host, settings->tls.address->port, error);
        if (!tls_at) {
            spdlog::error("cannot listen on {} (tls.listen): {}", settings->tls.listen, error);
            return 1;
        }
    }
    auto tls = build_tls(*settings, error);
    if (!tls) {
        spdlog::error("{}: {}", config_path, error);
        return 1;
    }
    warn_about_unchecked_backends(*settings);
    std::optional<tcp::endpoint> admin_at;
    if (settings->admin.address) {
        admin_at = resolve(settings->admin.address->host, settings->admin.address->port, error);
        if (!admin_at) {
            spdlog::error("cannot listen on admin {}: {}", settings->admin.listen, error);
            return 1;
        }
    }

    // One breaker and one health state per backend, and one connection count, for the whole
    // process; the backend states are locked only when more than one loop shares them.
    const auto registry = std::make_shared<backend_registry>(settings->threads > 1);
    const auto connections = std::make_shared<connection_limit>();
    loop_threads threads;
    for (std::uint64_t i = 0; i < settings->threads; ++i) {
        auto& thread = threads.emplace_back(std::make_unique<loop_thread>());
        thread->loop = std::make_unique<event_loop>(thread->io, settings, *endpoints, registry, connections, *tls);
    }
    // Registered before anything listens, so that an early SIGTERM drains rather than kills.
    asio::signal_set signals(threads.front()->io, SIGTERM, SIGINT, SIGHUP);
    asio::co_spawn(threads.front()->io, handle_signals(signals, threads, settings, config_path, *tls),
                   task_boundary{task_kind::background});
    if (!start_loops(threads, *settings, *listen_at, tls_at)) return 1;
    std::optional<net::acceptor> admin;
    if (admin_at && !start_admin(threads, admin, *settings, *admin_at)) return 1;

    spdlog::info("gatewayd listening on {} ({} thread(s) on {}, {} backend(s), {} route(s)){}{}", settings->listen,
                 settings->threads, net::reactor_name, settings->backends.size(), settings->routes.size(),
                 tls_at ? ", TLS on " + settings->tls.listen : std::string(),
                 admin_at ? ", admin on " + settings->admin.listen : std::string());
    asio::co_spawn(threads.front()->io, run_watchdog(), task_boundary{task_kind::background});
    notify_ready();
    std::vector<std::thread> workers;
    for (std::size_t i = 1; i < threads.size(); ++i) {
        workers.emplace_back([&thread = *threads[i]] { run_loop(thread.io); });
    }
    run_loop(threads.front()->io);
    for (auto& worker : workers) worker.join();
    spdlog::info("gatewayd stopped");
    return 0;
}

}  // namespace gw
