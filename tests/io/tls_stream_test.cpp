// TLS over timed_stream in process, both ends ours: the listener's contexts on one side, the
// backend client context on the other, on a loopback pair.
#include "gatewayd/io/timed_stream.hpp"
#include "gatewayd/tls/client_context.hpp"
#include "gatewayd/tls/server_contexts.hpp"

#include "../unit/tls/test_certificates.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <functional>
#include <optional>
#include <string>

namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using gw::timed_stream;
using gw::testing::test_certificates;
using clock_type = std::chrono::steady_clock;
using gw::net::nothrow;

struct loopback {
    asio::io_context io;
    std::optional<timed_stream> server;
    std::optional<timed_stream> client;

    loopback() {
        gw::net::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
        gw::net::socket accepted(io);
        gw::net::socket connecting(io);
        connecting.connect(acceptor.local_endpoint());
        acceptor.accept(accepted);
        server.emplace(std::move(accepted));
        client.emplace(std::move(connecting));
    }

    bool run_until(const std::function<bool()>& done) {
        const auto bound = clock_type::now() + 10s;
        while (!done() && clock_type::now() < bound) {
            io.restart();
            io.run_for(5ms);
        }
        return done();
    }
};

std::shared_ptr<const gw::tls::server_contexts> listener_contexts() {
    const auto& files = test_certificates::get();
    gw::tls_config settings;
    settings.certificates = {{files.path("api-chain.crt"), files.path("api.key")}};
    std::string error;
    auto built = gw::tls::server_contexts::build(settings, error);
    EXPECT_TRUE(built) << error;
    return built;
}

std::shared_ptr<const gw::tls::client_context> backend_context() {
    gw::upstream_tls_config settings;
    settings.ca_file = test_certificates::get().path("ca.crt");
    std::string error;
    auto built = gw::tls::client_context::build(settings, error);
    EXPECT_TRUE(built) << error;
    return built;
}

struct outcome {
    bool done = false;
    boost::system::error_code ec;
};

gw::net::awaitable<void> handshake(timed_stream& stream, outcome& out) {
    auto [ec, n] = co_await stream.async_handshake(nothrow);
    out = {true, stream.outcome(ec)};
}

struct handshake_pair {
    outcome server, client;
};

// Starts TLS on both ends of the loopback pair and runs both handshakes to their end.
handshake_pair handshake_both(loopback& t, gw::tls::ssl_ptr server_session, gw::tls::ssl_ptr client_session) {
    t.server->start_tls(std::move(server_session));
    t.client->start_tls(std::move(client_session));
    handshake_pair ended;
    asio::co_spawn(t.io, handshake(*t.server, ended.server), asio::detached);
    asio::co_spawn(t.io, handshake(*t.client, ended.client), asio::detached);
    EXPECT_TRUE(t.run_until([&] { return ended.server.done && ended.client.done; })) << "handshakes did not end";
    return ended;
}

// Echoes what it reads until the peer closes; `ended` is how the last read ended.
gw::net::awaitable<void> echo(timed_stream& stream, outcome& ended) {
    std::array<char, 7000> buffer;  // not a record size: reads end mid-record
    for (;;) {
        auto [ec, n] = co_await stream.async_read_some(asio::buffer(buffer), nothrow);
        if (ec) {
            ended = {true, ec};
            co_return;
        }
        auto [write_ec, written] = co_await asio::async_write(stream, asio::buffer(buffer.data(), n), nothrow);
        if (write_ec) {
            ended = {true, write_ec};
            co_return;
        }
    }
}

// Writes `data` in pieces of every size (some gathered, some a record or more) and reads it
// all back.
gw::net::awaitable<void> round_trip(timed_stream& stream, std::string data, std::string& back, outcome& out) {
    std::size_t sent = 0;
    std::size_t piece = 1;
    while (sent < data.size()) {
        const std::size_t size = std::min(piece, data.size() - sent);
        // Three buffers apart in memory, as the relay writes a chunk-size line, data and CRLF.
        const std::array<asio::const_buffer, 3> pieces{asio::buffer(data.data() + sent, size / 3),
                                                       asio::buffer(data.data() + sent + size / 3, size / 3),
                                                       asio::buffer(data.data() + sent + 2 * (size / 3), size - 2 * (size / 3))};
        auto [ec, n] = co_await asio::async_write(stream, pieces, nothrow);
        if (ec) {
            out = {true, ec};
            co_return;
        }
        sent += size;
        std::string chunk(size, '\0');
        auto [read_ec, got] = co_await asio::async_read(stream, asio::buffer(chunk), nothrow);
        if (read_ec) {
            out = {true, read_ec};
            co_return;
        }
        back += chunk;
        piece = piece * 3 + 1;
    }
    out = {true, {}};
}

TEST(TlsStream, BothEndsHandshakeAndEchoEveryPieceSize) {
    loopback t;
    const auto listener = listener_contexts();
    const auto backends = backend_context();
    ASSERT_TRUE(listener && backends);
    gw::tls::session_slot slot;
    const auto hello = handshake_both(t, listener->new_session(), backends->new_session("api.example.test", slot));
    ASSERT_TRUE(hello.server.done && hello.client.done);
    ASSERT_FALSE(hello.server.ec) << hello.server.ec.message();
    ASSERT_FALSE(hello.client.ec) << hello.client.ec.message();

    std::string data;
    for (std::size_t i = 0; i < 3 * 1024 * 1024; ++i) data.push_back(static_cast<char>(i * 131 % 251));
    std::string back;
    outcome echoed, sent;
    asio::co_spawn(t.io, echo(*t.server, echoed), asio::detached);
    asio::co_spawn(t.io, round_trip(*t.client, data, back, sent), asio::detached);
    ASSERT_TRUE(t.run_until([&] { return sent.done; }));
    EXPECT_FALSE(sent.ec) << sent.ec.message();
    EXPECT_TRUE(back == data) << back.size() << " bytes back of " << data.size();

    // A close with close_notify reads as an orderly end on the other side.
    t.client->close();
    ASSERT_TRUE(t.run_until([&] { return echoed.done; }));
    EXPECT_EQ(echoed.ec, asio::error::eof) << echoed.ec.message();
    // The backend's session was kept for the next connection.
    EXPECT_TRUE(slot.session);
}

TEST(TlsStream, ACutWithoutCloseNotifyIsATruncation) {
    loopback t;
    const auto listener = listener_contexts();
    const auto backends = backend_context();
    gw::tls::session_slot slot;
    const auto hello = handshake_both(t, listener->new_session(), backends->new_session("api.example.test", slot));
    ASSERT_TRUE(hello.server.done && hello.client.done);
    ASSERT_FALSE(hello.server.ec || hello.client.ec);
    outcome ended;
    asio::co_spawn(t.io, echo(*t.server, ended), asio::detached);
    boost::system::error_code ignored;
    t.client->socket().shutdown(gw::net::socket::shutdown_send, ignored);  // a FIN without close_notify
    ASSERT_TRUE(t.run_until([&] { return ended.done; }));
    EXPECT_EQ(ended.ec, asio::ssl::error::stream_truncated) << ended.ec.message();
}

TEST(TlsStream, TheSocketDeadlineBoundsAHandshakeWithASilentPeer) {
    loopback t;
    const auto listener = listener_contexts();
    t.server->start_tls(listener->new_session());
    const auto started = clock_type::now();
    t.server->expires_after(100ms);
    outcome hello;
    asio::co_spawn(t.io, handshake(*t.server, hello), asio::detached);
    ASSERT_TRUE(t.run_until([&] { return hello.done; }));
    EXPECT_EQ(hello.ec, boost::beast::error::timeout);
    EXPECT_GE(clock_type::now() - started, 100ms);
}

TEST(TlsStream, PlainHttpToATlsServerFailsTheHandshakeAtOnce) {
    loopback t;
    const auto listener = listener_contexts();
    t.server->start_tls(listener->new_session());
    t.server->expires_after(5s);
    outcome hello;
    asio::co_spawn(t.io, handshake(*t.server, hello), asio::detached);
    const std::string request = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    asio::write(t.client->socket(), asio::buffer(request));
    const auto started = clock_type::now();
    ASSERT_TRUE(t.run_until([&] { return hello.done; }));
    EXPECT_TRUE(hello.ec);
    EXPECT_NE(hello.ec, boost::beast::error::timeout);
    EXPECT_LT(clock_type::now() - started, 1s);
}

TEST(TlsStream, ABackendWhoseCertificateNamesAnotherHostIsRefused) {
    loopback t;
    const auto listener = listener_contexts();
    const auto backends = backend_context();
    gw::tls::session_slot slot;
    const auto hello = handshake_both(t, listener->new_session(), backends->new_session("other.example.test", slot));
    ASSERT_TRUE(hello.server.done && hello.client.done);
    EXPECT_TRUE(hello.client.ec);
    EXPECT_EQ(gw::tls::describe_handshake_failure(t.client->ssl(), hello.client.ec),
              "certificate not trusted: hostname mismatch");
}

}  // namespace
