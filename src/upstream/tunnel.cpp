#include "gatewayd/upstream/tunnel.hpp"

#include "gatewayd/app/event_loop.hpp"
#include "gatewayd/http/body_relay.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <span>

namespace gw {

namespace asio = boost::asio;

namespace {

using net::nothrow;

// One TLS record: what a direction holds at most between its read and its write.
constexpr std::size_t direction_buffer = 16 * 1024;

// Every byte moved either way pushes both connections' deadlines, so the tunnel ends only when
// nothing has moved in either direction for `idle`.
void touch(timed_stream& a, timed_stream& b, duration idle) {
    a.expires_after(idle);
    b.expires_after(idle);
}

// The first direction to end ends the other: its pending read or write is cancelled, and a
// step it had not begun yet sees `closing`.
void end_tunnel(open_tunnel& tunnel) {
    if (tunnel.closing) return;
    tunnel.closing = true;
    boost::system::error_code ignored;
    tunnel.client->socket().cancel(ignored);
    tunnel.backend->socket().cancel(ignored);
}

net::awaitable<void> pump(timed_stream& from, timed_stream& to, std::span<const char> early, open_tunnel& tunnel,
                          duration idle) {
    if (!early.empty()) {
        touch(from, to, idle);
        auto [ec, n] = co_await asio::async_write(to, asio::buffer(early.data(), early.size()), nothrow);
        if (ec) {
            end_tunnel(tunnel);
            co_return;
        }
    }
    std::array<char, direction_buffer> buffer;
    while (!tunnel.closing) {
        touch(from, to, idle);
        auto [read_ec, got] = co_await from.async_read_some(asio::buffer(buffer), nothrow);
        if (read_ec || tunnel.closing) break;
        touch(from, to, idle);
        auto [write_ec, written] = co_await asio::async_write(to, asio::buffer(buffer.data(), got), nothrow);
        if (write_ec) break;
    }
    end_tunnel(tunnel);
}

}  // namespace

net::awaitable<void> run_tunnel(request_context& context) {
    using namespace asio::experimental::awaitable_operators;
    auto& client = context.client;
    open_tunnel tunnel(client.stream, client.upstream);
    struct registration {
        event_loop& loop;
        open_tunnel& tunnel;
        ~registration() { loop.tunnel_closed(tunnel); }
    } registered{context.loop, tunnel};
    context.loop.tunnel_opened(tunnel);

    const duration idle = context.settings.tunnel_idle_timeout;
    const auto early = buffered_bytes(client.buffer);
    const std::span<const char> nothing;
    co_await (pump(client.stream, client.upstream, early, tunnel, idle) &&
              pump(client.upstream, client.stream, nothing, tunnel, idle));
    client.buffer.consume(client.buffer.size());
}

}  // namespace gw
