#pragma once

// What the two fuzzers that drive a whole session share: the gateway's event loops and loopback
// backends on one io_context, a client connected to the gateway's port with the session on the
// other end, and the check that what the client got reads as HTTP responses. Both fuzzers run
// with logging off: session_harness.cpp holds their LLVMFuzzerInitialize.

#include "fuzz_check.hpp"

#include "gatewayd/app/event_loop.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace gw::fuzz {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

inline constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);
// What a client keeps of the answer at most; a response body may be as large.
inline constexpr std::size_t max_received = 4 * 1024 * 1024;
// How long one input's session may run before the input counts as a hang.
inline constexpr std::chrono::seconds input_deadline{8};

// Serves one accepted backend connection.
using backend_fn = std::function<asio::awaitable<void>(tcp::socket)>;
// Answers one request on an HTTP backend connection; the result says whether the connection stays.
using answer_fn = asio::awaitable<bool> (*)(beast::tcp_stream& stream, const http::request<http::string_body>& request);

// An input whose first byte is below `choices` names its setup with it and is sent without it;
// any other input is sent whole under setup 0 (a raw seed needs no prefix).
std::size_t take_selector(std::string_view& input, std::size_t choices);

std::string loopback_url(const tcp::endpoint& endpoint);

// The config in `yaml`; one that does not load is the harness's own mistake and ends the process.
std::shared_ptr<const gw::config> load_settings(const std::string& yaml, const char* name);

// The io_context and everything on it, once per process. Members are destroyed in reverse order:
// the gateways after the io_context, since destroying the context destroys suspended coroutines
// that still hand buffers back to a gateway (as event_loop in src/server.cpp does).
struct session_harness {
    std::vector<std::unique_ptr<gw::event_loop>> gateways;
    std::vector<std::shared_ptr<const gw::config>> settings;
    int backend_connections = 0;  // backend coroutines still running; counted down as the io_context ends them
    asio::io_context io{1};
    tcp::acceptor front{io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};

    session_harness();
    ~session_harness();
    session_harness(const session_harness&) = delete;
    session_harness& operator=(const session_harness&) = delete;

    // A new loopback port whose connections `serve` answers, each counted in backend_connections.
    tcp::endpoint add_backend(backend_fn serve);
    // An HTTP backend: up to 64 requests a connection, each read within 2 s and given to `answer`.
    tcp::endpoint add_http_backend(answer_fn answer);
    bool run_until(const std::function<bool()>& done, std::chrono::steady_clock::time_point deadline);

private:
    std::vector<std::unique_ptr<tcp::acceptor>> backends_;
};

// One input's connection: a client connected to the front port, and on the other end the
// gateway's session, run by run_session (TLS first when `secure`) as the listener runs it.
class loopback_connection {
public:
    loopback_connection(session_harness& harness, gw::event_loop& loop, bool secure);
    loopback_connection(const loopback_connection&) = delete;
    loopback_connection& operator=(const loopback_connection&) = delete;

    // Runs the io_context until the session has ended and `client_done()` holds. The session must
    // end within input_deadline, without an exception, leaving no connection counted.
    void run(const std::function<bool()>& client_done);
    // Lets the pooled upstream connections go, waits for every backend connection to end, and
    // closes the client, so that the next input starts from nothing.
    void close();

    tcp::socket client;

private:
    session_harness& harness_;
    gw::event_loop& loop_;
    bool session_done_ = false;
    std::exception_ptr session_error_;
    std::chrono::steady_clock::time_point deadline_;
};

// The co_spawn completion of a client coroutine: it marks the coroutine done; an exception (none
// is expected) fails the input.
struct set_done {
    bool& done;
    void operator()(std::exception_ptr error) const {
        FUZZ_CHECK(!error);
        done = true;
    }
};

// Writes the bytes, then half-closes the connection under the stream (for TLS: without
// close_notify). A gateway that stops reading early makes the write fail; the answer is what matters.
template <class Stream>
asio::awaitable<void> send_and_half_close(Stream& stream, std::string bytes) {
    co_await asio::async_write(stream, asio::buffer(bytes), nothrow);
    beast::error_code ignored;
    beast::get_lowest_layer(stream).shutdown(tcp::socket::shutdown_send, ignored);
}

// Reads until the peer closes (or max_received).
template <class Stream>
asio::awaitable<void> read_to_end(Stream& stream, std::string& received) {
    std::array<char, 16384> chunk{};
    while (received.size() < max_received) {
        auto [ec, n] = co_await stream.async_read_some(asio::buffer(chunk), nothrow);
        received.append(chunk.data(), n);
        if (ec) break;
    }
}

// Everything the client got must read as HTTP responses, one after the other; the last one may
// be cut short (a backend that broke off mid-body).
void check_responses(std::string_view received);

}  // namespace gw::fuzz
