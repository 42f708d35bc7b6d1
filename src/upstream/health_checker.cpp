#include "gatewayd/upstream/health_checker.hpp"

#include "gatewayd/app/event_loop.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <spdlog/spdlog.h>

#include <string>

namespace gw {

namespace asio = boost::asio;
namespace beast = boost::beast;

namespace {

using net::nothrow;

// One probe on its own connection, under one deadline: good when a 2xx or 3xx status line
// comes back within `timeout`. An https backend is probed over TLS as requests reach it (SNI,
// the certificate checked), so a certificate that stops verifying keeps it down.
net::awaitable<bool> probe(backend& target, std::shared_ptr<const tls::client_context> tls, std::string request,
                           duration timeout) {
    timed_stream stream(co_await asio::this_coro::executor);
    stream.expires_after(timeout);
    if (auto [ec] = co_await stream.socket().async_connect(target.endpoint, nothrow); ec) co_return false;
    if (target.settings.tls) {
        auto ssl = tls ? tls->new_session(target.settings.host, target.tls_session) : tls::ssl_ptr{};
        if (!ssl) co_return false;
        stream.start_tls(std::move(ssl));
        if (auto [ec, n] = co_await stream.async_handshake(nothrow); ec) co_return false;
    }
    if (auto [ec, n] = co_await asio::async_write(stream, asio::buffer(request), nothrow); ec) co_return false;
    std::string reply;
    auto [ec, line_end] = co_await asio::async_read_until(stream, asio::dynamic_buffer(reply, 1024), "\r\n", nothrow);
    stream.close();
    if (ec) co_return false;
    const auto status = parse_status_line(std::string_view(reply).substr(0, line_end));
    co_return status && *status >= 200 && *status < 400;
}

}  // namespace

net::awaitable<void> run_health_checks(event_loop& loop, std::shared_ptr<backend> target) {
    // However the checks end, another loop (or a reload) may take them over.
    struct give_up_on_exit {
        backend& checked;
        ~give_up_on_exit() {
            checked.checking = false;
            checked.state->give_up_checks();
        }
    } release{*target};
    net::steady_timer timer(co_await asio::this_coro::executor);
    // Settings are read afresh every round so that a reload applies to a running loop.
    while (!loop.draining() && !target->retired && loop.settings()->health_check.enabled) {
        const auto settings = loop.settings();
        const auto& checks = settings->health_check;
        timer.expires_after(checks.interval);
        if (auto [ec] = co_await timer.async_wait(nothrow); ec) break;
        if (loop.draining() || target->retired) break;
        const std::string request = "GET " + checks.path + " HTTP/1.1\r\nHost: " + target->settings.host + ":" +
                                    std::to_string(target->settings.port) +
                                    "\r\nUser-Agent: gatewayd-health-check\r\nConnection: close\r\n\r\n";
        const bool good = co_await probe(*target, loop.upstream_tls(), request, checks.timeout);
        if (target->state->record_probe(good)) {
            if (target->state->healthy()) {
                spdlog::info("backend {} is up: {} good health check(s) in a row", target->settings.url,
                             checks.healthy_threshold);
            } else {
                upstream_pool::clear(*target);
                spdlog::warn("backend {} is down: {} failed health check(s) in a row", target->settings.url,
                             checks.unhealthy_threshold);
            }
        }
    }
}

}  // namespace gw
