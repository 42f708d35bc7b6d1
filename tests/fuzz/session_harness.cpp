#include "session_harness.hpp"

#include "gatewayd/config/config_loader.hpp"
#include "gatewayd/http/session.hpp"
#include "gatewayd/io/block_pool.hpp"
#include "gatewayd/log/logging.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <utility>

namespace gw::fuzz {

namespace {

using namespace std::chrono_literals;

struct connection_count {
    explicit connection_count(int& n) : n_(n) { ++n_; }
    ~connection_count() { --n_; }
    connection_count(const connection_count&) = delete;
    connection_count& operator=(const connection_count&) = delete;
    int& n_;
};

// Counted from start to end, also when the io_context destroys the coroutine suspended.
asio::awaitable<void> run_counted(asio::awaitable<void> work, int& live) {
    connection_count counted(live);
    co_await std::move(work);
}

asio::awaitable<void> accept_backends(tcp::acceptor& acceptor, backend_fn serve, int& live) {
    for (;;) {
        auto [ec, socket] = co_await acceptor.async_accept(nothrow);
        if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
        if (ec) continue;
        asio::co_spawn(acceptor.get_executor(), run_counted(serve(std::move(socket)), live), asio::detached);
    }
}

asio::awaitable<void> serve_http(tcp::socket socket, answer_fn answer) {
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;
    for (int exchanges = 0; exchanges < 64; ++exchanges) {
        http::request_parser<http::string_body> parser;
        parser.body_limit(1024 * 1024);
        stream.expires_after(2s);
        auto [ec, n] = co_await http::async_read(stream, buffer, parser, nothrow);
        if (ec) break;
        const bool keep_alive = co_await answer(stream, parser.get());
        if (!keep_alive) break;
    }
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream.socket().close(ignored);
}

}  // namespace

std::size_t take_selector(std::string_view& input, std::size_t choices) {
    if (input.empty() || static_cast<unsigned char>(input.front()) >= choices) return 0;
    const std::size_t selector = static_cast<unsigned char>(input.front());
    input.remove_prefix(1);
    return selector;
}

std::string loopback_url(const tcp::endpoint& endpoint) {
    return "http://127.0.0.1:" + std::to_string(endpoint.port());
}

std::shared_ptr<const gw::config> load_settings(const std::string& yaml, const char* name) {
    auto loaded = gw::load_config_text(yaml, name);
    if (!loaded.value) {
        for (const auto& error : loaded.errors) std::fprintf(stderr, "%s\n", error.to_string().c_str());
        std::abort();
    }
    return std::make_shared<const gw::config>(std::move(*loaded.value));
}

session_harness::session_harness() {
    front.listen();
}

session_harness::~session_harness() {
    beast::error_code ignored;
    front.close(ignored);
    for (auto& backend : backends_) backend->close(ignored);
    for (auto& g : gateways) g->release_io_objects();
    io.poll();
}

tcp::endpoint session_harness::add_backend(backend_fn serve) {
    auto& acceptor = *backends_.emplace_back(
        std::make_unique<tcp::acceptor>(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)));
    acceptor.listen();
    asio::co_spawn(io, accept_backends(acceptor, std::move(serve), backend_connections), asio::detached);
    return acceptor.local_endpoint();
}

tcp::endpoint session_harness::add_http_backend(answer_fn answer) {
    return add_backend([answer](tcp::socket socket) { return serve_http(std::move(socket), answer); });
}

bool session_harness::run_until(const std::function<bool()>& done, std::chrono::steady_clock::time_point deadline) {
    while (!done()) {
        if (std::chrono::steady_clock::now() >= deadline) return false;
        if (io.stopped()) io.restart();
        io.run_one_for(50ms);
    }
    return true;
}

loopback_connection::loopback_connection(session_harness& harness, gw::event_loop& loop, bool secure)
    : client(harness.io), harness_(harness), loop_(loop) {
    // libFuzzer's once-a-second SIGALRM can interrupt these blocking calls: try again, a few times.
    gw::net::socket accepted(harness.io);  // the type run_session takes
    beast::error_code ec;
    for (int tries = 0; tries < 10; ++tries) {
        client.close(ec);
        client.connect(harness.front.local_endpoint(), ec);
        if (ec != asio::error::interrupted) break;
    }
    // A connect that SIGALRM interrupted may still have completed in the kernel, leaving a dead
    // connection in the backlog ahead of the client's: serving that one instead left the client
    // without an answer (seen as a rare 8 s "hang" with the session already done). Only the
    // client's own connection is served; the others are closed. Bounded: at most one per retry.
    const auto client_end = client.local_endpoint(ec);
    for (int tries = 0; tries < 30 && !ec; ++tries) {
        harness.front.accept(accepted, ec);
        if (ec == asio::error::interrupted) {
            ec = {};
            continue;
        }
        if (ec) break;
        beast::error_code peer_ec;
        if (accepted.remote_endpoint(peer_ec) == client_end && !peer_ec) break;
        std::fprintf(stderr, "skipped a stale loopback connection left by an interrupted connect\n");
        accepted.close(peer_ec);
    }
    if (!ec && !accepted.is_open()) ec = asio::error::not_found;  // the client's never came
    if (ec) std::fprintf(stderr, "loopback connect/accept failed: %s\n", ec.message().c_str());
    FUZZ_CHECK(!ec);

    FUZZ_CHECK(loop.admit_connection());
    asio::co_spawn(harness.io, gw::run_session(std::move(accepted), loop, secure), [this](std::exception_ptr e) {
        session_error_ = e;
        session_done_ = true;
    });
}

void loopback_connection::run(const std::function<bool()>& client_done) {
    deadline_ = std::chrono::steady_clock::now() + input_deadline;
    const bool finished = harness_.run_until([&] { return session_done_ && client_done(); }, deadline_);
    if (!finished) {
        std::fprintf(stderr, "session still running after %lld s (session %d, client %d)\n",
                     static_cast<long long>(input_deadline.count()), session_done_, client_done());
    }
    FUZZ_CHECK(finished);
    // An exception out of a session would end the whole process in the real server.
    if (session_error_) std::rethrow_exception(session_error_);
    FUZZ_CHECK(loop_.active_connections() == 0);
}

void loopback_connection::close() {
    for (auto& g : harness_.gateways) g->close_pooled_connections();
    FUZZ_CHECK(harness_.run_until([&] { return harness_.backend_connections == 0; }, deadline_ + 2s));
    beast::error_code ignored;
    client.close(ignored);
    harness_.io.poll();
}

void check_responses(std::string_view received) {
    beast::error_code ec;
    while (!received.empty()) {
        http::response_parser<http::string_body> parser;
        parser.eager(true);
        // The gateway relays a backend's head of up to 60 KiB (upstream/exchange.cpp) plus the
        // headers it adds, past Beast's 8 KiB default.
        parser.header_limit(static_cast<std::uint32_t>(gw::block_pool::block_size));
        parser.body_limit(max_received);
        const std::size_t used = parser.put(asio::buffer(received.data(), received.size()), ec);
        if (ec == http::error::need_more) {
            parser.put_eof(ec);
            // A close-delimited body ends here; anything else is a response cut short.
            FUZZ_CHECK(!ec || ec == http::error::partial_message);
            return;
        }
        if (ec) {
            std::fprintf(stderr, "client received a malformed response (%s): %.*s\n", ec.message().c_str(),
                         static_cast<int>(std::min<std::size_t>(received.size(), 512)), received.data());
        }
        FUZZ_CHECK(!ec);
        FUZZ_CHECK(parser.is_header_done());
        const unsigned status = parser.get().result_int();
        FUZZ_CHECK(status >= 100 && status <= 599);
        received.remove_prefix(used);
    }
}

}  // namespace gw::fuzz

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    gw::configure_logging(gw::log_config{.level = "off", .format = "text", .access_log = false});
    return 0;
}
