#include "gatewayd/admin/admin_server.hpp"

#include "gatewayd/io/accept_loop.hpp"
#include "gatewayd/admin/admin_report.hpp"
#include "gatewayd/io/error_boundary.hpp"
#include "gatewayd/app/event_loop.hpp"
#include "gatewayd/admin/metrics.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <spdlog/spdlog.h>

namespace gw {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

using net::nothrow;
constexpr auto admin_timeout = std::chrono::seconds(10);

struct admin_answer {
    http::status status;
    std::string content_type;
    std::string body;
};

// The answers that need only the first loop's state.
admin_answer answer(const http::request<http::string_body>& request, event_loop& loop) {
    if (request.method() != http::verb::get && request.method() != http::verb::head) {
        return {http::status::method_not_allowed, "application/json",
                R"({"error":"method_not_allowed","message":"Method Not Allowed"})"};
    }
    const std::string_view target = request.target();
    const std::string_view path = target.substr(0, target.find('?'));
    if (path == "/healthz") return {http::status::ok, "text/plain", "ok\n"};
    if (path == "/readyz") {
        if (loop.draining()) return {http::status::service_unavailable, "text/plain", "draining\n"};
        if (!loop.any_available()) return {http::status::service_unavailable, "text/plain", "no backend available\n"};
        return {http::status::ok, "text/plain", "ready\n"};
    }
    return {http::status::not_found, "application/json", R"({"error":"not_found","message":"Not Found"})"};
}

net::awaitable<metrics_sample> sample_loop(event_loop& loop) { co_return loop.sample(); }

net::awaitable<std::vector<backend_report>> report_loop(event_loop& loop) {
    const auto now = steady_clock::now();
    std::vector<backend_report> rows;
    for (const auto& target : loop.backends()->members) {
        rows.push_back({target->settings.url, target->state->healthy(), to_string(target->state->breaker_state(now)),
                        target->requests, target->failures, target->routes});
    }
    co_return rows;
}

// Each loop's counters are read on that loop's own thread, then summed here.
net::awaitable<std::string> gather_metrics(std::vector<event_loop*> loops) {
    metrics_sample total;
    for (event_loop* loop : loops) {
        const auto sample = co_await asio::co_spawn(loop->io(), sample_loop(*loop), net::use_awaitable);
        total.merge(sample);
    }
    process_sample process = sample_process();
    const auto failures = task_failure_counts();
    for (std::size_t i = 0; i < failures.size(); ++i) {
        process.internal_errors.emplace_back(task_names[i], failures[i]);
    }
    co_return render_metrics(total, process);
}

net::awaitable<std::string> gather_backends(std::vector<event_loop*> loops) {
    std::vector<backend_report> total;
    for (event_loop* loop : loops) {
        const auto rows = co_await asio::co_spawn(loop->io(), report_loop(*loop), net::use_awaitable);
        merge_backend_reports(total, rows);
    }
    co_return backends_json(total);
}

net::awaitable<void> serve_admin(net::socket socket, event_loop& loop, std::vector<event_loop*> loops) {
    net::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer(16 * 1024);
    for (;;) {
        http::request_parser<http::string_body> parser;
        parser.header_limit(8 * 1024);
        parser.body_limit(8 * 1024);
        stream.expires_after(admin_timeout);
        auto [ec, n] = co_await http::async_read(stream, buffer, parser, nothrow);
        if (ec) break;
        const auto& request = parser.get();
        const std::string_view target = request.target();
        admin_answer reply;
        const std::string_view path = target.substr(0, target.find('?'));
        const bool readable = request.method() == http::verb::get || request.method() == http::verb::head;
        if (readable && path == "/metrics") {
            // No braced list around a co_await (GCC 12 miscompiles it): name the result first.
            std::string text = co_await gather_metrics(loops);
            reply = admin_answer{http::status::ok, "text/plain; version=0.0.4; charset=utf-8", std::move(text)};
        } else if (readable && path == "/backends") {
            std::string json = co_await gather_backends(loops);
            reply = admin_answer{http::status::ok, "application/json", std::move(json)};
        } else {
            reply = answer(request, loop);
        }
        auto& [status, content_type, body] = reply;
        http::response<http::string_body> response{status, request.version()};
        response.set(http::field::content_type, content_type);
        response.set(http::field::cache_control, "no-store");
        response.body() = std::move(body);
        response.keep_alive(request.keep_alive());
        response.prepare_payload();
        if (request.method() == http::verb::head) response.body().clear();
        stream.expires_after(admin_timeout);
        auto [write_ec, written] = co_await http::async_write(stream, response, nothrow);
        if (write_ec || !response.keep_alive()) break;
    }
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

}  // namespace

net::awaitable<void> run_admin(net::acceptor& acceptor, event_loop& loop, std::vector<event_loop*> loops) {
    // A named callable: GCC 12 double-frees temporaries built inside a co_await expression.
    const auto serve = [&loop, &loops](net::socket socket) {
        asio::co_spawn(loop.io(), serve_admin(std::move(socket), loop, loops), task_boundary{task_kind::admin});
    };
    co_await accept_connections(acceptor, "admin", serve);
}

}  // namespace gw
