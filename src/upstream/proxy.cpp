#include "gatewayd/upstream/proxy.hpp"

#include "gatewayd/app/event_loop.hpp"
#include "gatewayd/chain/chain.hpp"
#include "gatewayd/upstream/exchange.hpp"
#include "gatewayd/upstream/tunnel.hpp"

#include <boost/container/small_vector.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace gw {

namespace http = boost::beast::http;

namespace {

// The backends this request tried already: a handful at most, kept without a heap allocation.
using tried_backends = boost::container::small_vector<std::size_t, 4>;

// A connection that is not handed back to the pool is closed, however the try ends.
struct close_unless_pooled {
    timed_stream& stream;
    ~close_unless_pooled() { stream.close(); }
};

std::uint64_t retry_after_for(const backend_pool& pool, const config& settings) {
    const auto now = steady_clock::now();
    boost::container::small_vector<backend_wait, 8> waits;
    for (const auto& member : pool.members) {
        waits.push_back({member->state->healthy(), member->state->breaker_enabled(),
                         std::chrono::duration_cast<std::chrono::milliseconds>(member->state->time_until_half_open(now))});
    }
    return no_backend_retry_after(waits, settings.health_check.interval);
}

void report(backend& target, backend_ticket& ticket, breaker_outcome outcome) {
    if (outcome == breaker_outcome::success) {
        ticket.success();
        ++target.successes;
    } else if (outcome == breaker_outcome::failure) {
        ticket.failure();
        ++target.failures;
    }
}

// The answer to a client that went away or sent a body we refuse, once a backend had it.
net::awaitable<request_outcome> client_gone(request_context& context, const exchange_result& result,
                                            const backend& target) {
    if (result.client_error == body_error::too_large) {
        co_return co_await answer_locally(context, gateway_error::body_too_large);
    }
    // A body the decoder refused (a bad chunk): the backend got a request cut short, which it
    // cannot take for a whole one; the client is told and disconnected.
    if (result.client_error == body_error::bad_framing) co_return co_await answer_locally(context, gateway_error::bad_request);
    // The body stalled past body_timeout; the stream is closed already.
    if (result.client_error == boost::beast::error::timeout) co_return request_outcome{408, target.settings.url, false};
    // 499 as nginx logs it: the client went away before it was answered.
    co_return request_outcome{499, target.settings.url, false};
}

// A new connection to `target`, with TLS for an https backend: both steps get
// upstream.connect_timeout. A certificate that does not verify fails like a refused connect.
net::awaitable<boost::system::error_code> connect_backend(request_context& context, backend& target, std::string& why) {
    timed_stream& upstream = context.client.upstream;
    const auto timeout = context.settings.upstream.connect_timeout;
    auto ec = co_await connect_upstream(upstream, target.endpoint, timeout);
    if (ec) {
        why = ec == boost::beast::error::timeout ? "connect timeout" : "connect refused";
        co_return ec;
    }
    if (!target.settings.tls) co_return ec;
    const auto& tls = context.loop.upstream_tls();
    if (!tls) {
        why = "TLS toward backends is not set up";
        co_return boost::asio::error::operation_not_supported;
    }
    ec = co_await start_upstream_tls(upstream, *tls, target, timeout);
    if (ec) {
        why = ec == boost::beast::error::timeout ? std::string("TLS handshake timeout")
                                                  : "TLS handshake failed: " + tls::describe_handshake_failure(upstream.ssl(), ec);
    }
    co_return ec;
}

// How one backend's turn ended: the request was answered (or given up) with `outcome`, or it
// may go on to another backend, with the error owed if none takes it.
struct backend_turn {
    std::optional<request_outcome> outcome;
    gateway_error owed = gateway_error::bad_gateway;
    bool may_retry = false;
};

// Tries one backend: a pooled connection, or a new one; a pooled one found stale is tried
// again once on a fresh connection.
net::awaitable<backend_turn> try_backend(request_context& context, backend& target, backend_ticket& ticket,
                                         std::span<char> chunk, bool& body_read) {
    auto& loop = context.loop;
    timed_stream& upstream = context.client.upstream;
    for (bool fresh_only = false;;) {
        const close_unless_pooled closer{upstream};
        bool reused = false;
        if (!fresh_only) {
            reused = loop.pool().acquire(target, steady_clock::now(), upstream);
        }
        if (!reused) {
            std::string why;
            const auto ec = co_await connect_backend(context, target, why);
            if (ec) {
                const bool timed_out = ec == boost::beast::error::timeout;
                report(target, ticket, breaker_outcome::failure);
                loop.mark_down(target, why);
                spdlog::debug("connect to {} failed: {}", target.settings.url, why);
                const auto next = after_failed_try({.connect_failed = true}, fresh_only, body_read);
                co_return backend_turn{std::nullopt, timed_out ? gateway_error::gateway_timeout : gateway_error::bad_gateway,
                                       next == next_try::other_backend};
            }
        }
        const auto result = co_await exchange(context, reused, chunk);
        body_read = body_read || result.body_read;
        if (result.upstream_reusable && !target.retired) {
            upstream.expires_never();
            loop.pool().release(target, upstream, steady_clock::now());
        }
        if (result.stage == exchange_stage::completed) {
            report(target, ticket, breaker_outcome_of(result.stage, result.status));
            // A 101 counted as a success; the tunnel may last hours and does not hold the breaker.
            if (result.tunnel) co_await run_tunnel(context);
            co_return backend_turn{request_outcome{result.status, target.settings.url, result.client_keep_alive}};
        }
        if (result.stage == exchange_stage::client_gone) {
            const request_outcome answered = co_await client_gone(context, result, target);
            co_return backend_turn{answered};
        }
        const failed_try failure{.stale = result.stale, .timed_out = result.error == gateway_error::gateway_timeout};
        const auto next = after_failed_try(failure, fresh_only, body_read);
        if (next == next_try::fresh_connection) {
            upstream_pool::clear(target);
            fresh_only = true;
            continue;
        }
        report(target, ticket, breaker_outcome::failure);
        co_return backend_turn{std::nullopt, result.error, next == next_try::other_backend};
    }
}

}  // namespace

net::awaitable<request_outcome> proxy_request(request_context& context) {
    backend_pool& pool = *context.pool;
    auto& backends = pool.members;
    tried_backends tried;
    const auto chunk_block = context.loop.blocks().acquire();
    gateway_error owed = gateway_error::no_backend;
    bool body_read = false;
    for (std::uint64_t tries_left = context.settings.upstream.retries + 1; tries_left > 0; --tries_left) {
        const auto now = steady_clock::now();
        std::optional<std::uint64_t> generation;
        // Health and breakers decide outside the balancer; the breaker admits the one chosen.
        auto admits = [&](std::size_t i) {
            backend& candidate = *backends[i];
            if (std::find(tried.begin(), tried.end(), i) != tried.end() || !candidate.state->healthy()) return false;
            if (!candidate.state->breaker_enabled()) return true;
            generation = candidate.state->try_acquire(now);
            return generation.has_value();
        };
        const auto choice = pool.balancer->pick(backends, candidate_filter(admits));
        if (!choice) break;
        tried.push_back(*choice);
        backend& target = *backends[*choice];
        backend_ticket ticket = generation ? backend_ticket(target.state.get(), *generation) : backend_ticket{};
        ++target.requests;
        if (context.head().count(http::field::host) == 0) {
            context.head().set(http::field::host, target.settings.host + ":" + std::to_string(target.settings.port));
        }
        auto turn = co_await try_backend(context, target, ticket, chunk_block.span(), body_read);
        if (turn.outcome) co_return *turn.outcome;
        owed = turn.owed;
        if (!turn.may_retry) break;
    }
    if (owed == gateway_error::no_backend) context.facts.retry_after = retry_after_for(pool, context.settings);
    co_return co_await answer_locally(context, owed);
}

}  // namespace gw
