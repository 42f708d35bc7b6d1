#include "gatewayd/io/timed_socket.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <optional>

namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using gw::timed_socket;
using clock_type = std::chrono::steady_clock;

// A connected loopback pair: `near` is wrapped in a timed_socket, `far` is the peer.
struct loopback {
    asio::io_context io;
    gw::net::socket far{io};
    std::optional<timed_socket> near;

    loopback() {
        gw::net::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
        gw::net::socket accepted(io);
        far.connect(acceptor.local_endpoint());
        acceptor.accept(accepted);
        near.emplace(std::move(accepted));
    }

    // Runs the loop until `done` or a 5 s bound; false when the bound was hit.
    bool run_until(const std::function<bool()>& done) {
        const auto bound = clock_type::now() + 5s;
        io.restart();
        while (!done() && clock_type::now() < bound) {
            io.run_for(5ms);
            io.restart();
        }
        return done();
    }
};

struct read_result {
    bool finished = false;
    boost::system::error_code ec;
    std::size_t bytes = 0;
    clock_type::time_point at;
};

void start_read(timed_socket& socket, std::array<char, 16>& buffer, read_result& result) {
    socket.async_read_some(asio::buffer(buffer), [&result, &socket](boost::system::error_code ec, std::size_t n) {
        result = {true, socket.outcome(ec), n, clock_type::now()};
    });
}

TEST(TimedSocket, ADeadlineThatPassesEndsTheReadAsATimeoutAndClosesTheSocket) {
    loopback t;
    std::array<char, 16> buffer{};
    read_result read;
    const auto started = clock_type::now();
    t.near->expires_after(50ms);
    start_read(*t.near, buffer, read);
    ASSERT_TRUE(t.run_until([&] { return read.finished; }));
    EXPECT_EQ(read.ec, boost::beast::error::timeout);
    EXPECT_TRUE(t.near->timed_out());
    EXPECT_GE(read.at - started, 50ms);
    EXPECT_FALSE(t.near->socket().is_open());
}

TEST(TimedSocket, ADeadlineMovedLaterKeepsAnActiveSocketAlive) {
    loopback t;
    std::array<char, 16> buffer{};
    // Ten reads, each answered after 30 ms under a 60 ms deadline set before each: 300 ms in all,
    // well past the first deadline, and no timeout.
    int answered = 0;
    read_result read;
    for (int i = 0; i < 10; ++i) {
        read = {};
        t.near->expires_after(60ms);
        start_read(*t.near, buffer, read);
        asio::steady_timer answer(t.io, 30ms);
        answer.async_wait([&](boost::system::error_code) { asio::write(t.far, asio::buffer("x", 1)); });
        ASSERT_TRUE(t.run_until([&] { return read.finished; }));
        ASSERT_FALSE(read.ec) << "read " << i << ": " << read.ec.message();
        ++answered;
    }
    EXPECT_EQ(answered, 10);
    EXPECT_FALSE(t.near->timed_out());
}

TEST(TimedSocket, ADeadlineMovedEarlierIsEnforcedAtItsTime) {
    loopback t;
    std::array<char, 16> buffer{};
    read_result read;
    t.near->expires_after(10s);
    const auto started = clock_type::now();
    t.near->expires_after(40ms);
    start_read(*t.near, buffer, read);
    ASSERT_TRUE(t.run_until([&] { return read.finished; }));
    EXPECT_EQ(read.ec, boost::beast::error::timeout);
    EXPECT_LT(read.at - started, 2s);
}

TEST(TimedSocket, CancelOnExpiryLeavesTheSocketOpenForAnAnswer) {
    loopback t;
    std::array<char, 16> buffer{};
    read_result read;
    t.near->expires_after(30ms, timed_socket::on_expiry::cancel);
    start_read(*t.near, buffer, read);
    ASSERT_TRUE(t.run_until([&] { return read.finished; }));
    EXPECT_EQ(read.ec, boost::beast::error::timeout);
    ASSERT_TRUE(t.near->socket().is_open());

    // The answer still reaches the peer.
    t.near->expires_after(1s);
    bool written = false;
    asio::async_write(*t.near, asio::buffer("408", 3), [&](boost::system::error_code ec, std::size_t) {
        written = !ec;
    });
    ASSERT_TRUE(t.run_until([&] { return written; }));
    std::array<char, 3> got{};
    asio::read(t.far, asio::buffer(got));
    EXPECT_EQ(std::string_view(got.data(), got.size()), "408");
}

TEST(TimedSocket, NoDeadlineNoTimeout) {
    loopback t;
    std::array<char, 16> buffer{};
    read_result read;
    t.near->expires_after(20ms);
    t.near->expires_never();
    start_read(*t.near, buffer, read);
    asio::steady_timer later(t.io, 150ms);
    bool waited = false;
    later.async_wait([&](boost::system::error_code) { waited = true; });
    ASSERT_TRUE(t.run_until([&] { return waited; }));
    EXPECT_FALSE(read.finished);
    asio::write(t.far, asio::buffer("y", 1));
    ASSERT_TRUE(t.run_until([&] { return read.finished; }));
    EXPECT_FALSE(read.ec);
    EXPECT_EQ(read.bytes, 1u);
}

TEST(TimedSocket, DestroyedWithATimerPendingClosesTheSocketAndLeavesNoWork) {
    loopback t;
    t.near->expires_after(10s);
    t.near.reset();
    // The peer sees the close, and the loop has nothing left to wait for (no 10 s timer).
    std::array<char, 1> byte{};
    boost::system::error_code ec;
    t.far.read_some(asio::buffer(byte), ec);
    EXPECT_EQ(ec, asio::error::eof);
    t.io.restart();
    const auto started = clock_type::now();
    t.io.run_for(2s);
    EXPECT_LT(clock_type::now() - started, 1s);
}

}  // namespace
