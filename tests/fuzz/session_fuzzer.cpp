// The whole client session (run_session) driven with arbitrary client bytes over a real loopback
// connection, with the backend on the same io_context.
//
// Input: when the first byte is below 0x04 it picks the setup and is not sent; otherwise (a raw
// HTTP seed) the setup is 0 and every byte is sent.
//   0  a well-behaved HTTP backend (framing of its answers varies with the request target),
//      routes with strip_prefix, host match and a tight per-route limit, trusted 127.0.0.0/8
//   1  a backend that refuses connections: 502, then 503 no_backend (marked down)
//   2  a hostile backend: the bytes after the first NUL are its answer to any request
//   3  no default pool: 404 no_route except under /api
// The client writes its bytes, half-closes and reads until EOF. Whatever it receives must read as
// a sequence of HTTP responses; the session must end within a bounded time.
#include "fuzz_check.hpp"

#include "gatewayd/config/config_loader.hpp"
#include "gatewayd/app/event_loop.hpp"
#include "gatewayd/log/logging.hpp"
#include "gatewayd/http/session.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t max_received = 4 * 1024 * 1024;
constexpr auto input_deadline = 8s;

// What every connection of the current input shares with the harness.
struct input_state {
    std::string raw_answer;        // setup 2: what the hostile backend sends
    int backend_connections = 0;   // backend coroutines still running
};

struct connection_count {
    explicit connection_count(int& n) : n_(n) { ++n_; }
    ~connection_count() { --n_; }
    connection_count(const connection_count&) = delete;
    connection_count& operator=(const connection_count&) = delete;
    int& n_;
};

// A small HTTP backend; the target's length picks the framing of the answer so that every way
// a response body can end reaches the gateway.
asio::awaitable<void> serve_http(tcp::socket socket, input_state& state) {
    connection_count live(state.backend_connections);
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;
    for (int exchanges = 0; exchanges < 64; ++exchanges) {
        http::request_parser<http::string_body> parser;
        parser.body_limit(1024 * 1024);
        stream.expires_after(2s);
        auto [ec, n] = co_await http::async_read(stream, buffer, parser, nothrow);
        if (ec) break;
        const auto& request = parser.get();
        http::response<http::string_body> response{http::status::ok, 11};
        response.set(http::field::content_type, "text/plain");
        response.body() = std::string(request.method_string()) + " " + std::string(request.target()) + " " +
                          std::to_string(request.body().size());
        bool keep_alive = request.keep_alive();
        switch (request.target().size() % 4) {
        case 0: response.prepare_payload(); break;
        case 1: response.chunked(true); break;
        case 2: keep_alive = false; break;  // no length: the body ends with the close
        default:
            response.result(http::status::no_content);
            response.body().clear();
            break;
        }
        response.keep_alive(keep_alive);
        if (request.method() == http::verb::head) {
            response.prepare_payload();
            http::response_serializer<http::string_body> serializer{response};
            auto [write_ec, written] = co_await http::async_write_header(stream, serializer, nothrow);
            if (write_ec) break;
        } else {
            auto [write_ec, written] = co_await http::async_write(stream, response, nothrow);
            if (write_ec) break;
        }
        if (!keep_alive) break;
    }
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream.socket().close(ignored);
}

// A hostile backend: whatever the request, the input's bytes come back, then a half-close.
asio::awaitable<void> serve_raw(tcp::socket socket, input_state& state) {
    connection_count live(state.backend_connections);
    beast::tcp_stream stream(std::move(socket));
    std::array<char, 4096> sink{};
    stream.expires_after(2s);
    auto [ec, n] = co_await stream.async_read_some(asio::buffer(sink), nothrow);
    if (!ec) {
        const std::string answer = state.raw_answer;
        stream.expires_after(2s);
        co_await asio::async_write(stream, asio::buffer(answer), nothrow);
        beast::error_code ignored;
        stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
        // Read on until the gateway lets go, so that our close cannot reset the answer away.
        for (int reads = 0; reads < 256; ++reads) {
            stream.expires_after(2s);
            auto [read_ec, got] = co_await stream.async_read_some(asio::buffer(sink), nothrow);
            if (read_ec) break;
        }
    }
    beast::error_code ignored;
    stream.socket().close(ignored);
}

asio::awaitable<void> accept_backends(tcp::acceptor& acceptor, input_state& state, bool raw) {
    for (;;) {
        auto [ec, socket] = co_await acceptor.async_accept(nothrow);
        if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
        if (ec) continue;
        if (raw) {
            asio::co_spawn(acceptor.get_executor(), serve_raw(std::move(socket), state), asio::detached);
        } else {
            asio::co_spawn(acceptor.get_executor(), serve_http(std::move(socket), state), asio::detached);
        }
    }
}

asio::awaitable<void> send_all(tcp::socket& socket, std::string bytes, bool& done) {
    // A gateway that stops reading early makes this fail; the answer is what matters.
    co_await asio::async_write(socket, asio::buffer(bytes), nothrow);
    beast::error_code ignored;
    socket.shutdown(tcp::socket::shutdown_send, ignored);
    done = true;
}

asio::awaitable<void> receive_all(tcp::socket& socket, std::string& received, bool& done) {
    std::array<char, 16384> chunk{};
    while (received.size() < max_received) {
        auto [ec, n] = co_await socket.async_read_some(asio::buffer(chunk), nothrow);
        received.append(chunk.data(), n);
        if (ec) break;
    }
    done = true;
}

std::shared_ptr<const gw::config> load(const std::string& yaml) {
    auto loaded = gw::load_config_text(yaml, "session_fuzzer.yaml");
    if (!loaded.value) {
        for (const auto& error : loaded.errors) std::fprintf(stderr, "%s\n", error.to_string().c_str());
        std::abort();
    }
    return std::make_shared<const gw::config>(std::move(*loaded.value));
}

// Short timeouts, so that an input that leaves the session waiting costs about a second.
// The first setup allows the largest head there is, so that fields and targets longer than
// Beast can hold reach the checks made for them.
std::string common_settings(std::string_view trusted_proxies = "[]", std::string_view max_header_bytes = "8KiB") {
    return std::string{R"(
admin: {listen: ""}
client:
  header_timeout: 1s
  idle_timeout: 1s
  body_timeout: 1s
  max_header_bytes: )"} + std::string{max_header_bytes} + R"(
  trusted_proxies: )" + std::string{trusted_proxies} + R"(
upstream:
  connect_timeout: 500ms
  timeout: 500ms
  retries: 1
rate_limit:
  store: memory
  requests: 1000000000
  window: 1h
)";
}

// The io_context and everything on it, once per process. Members are destroyed in reverse order:
// the gateways after the io_context, since destroying the context destroys suspended coroutines
// that still hand buffers back to a gateway (as event_loop in src/server.cpp does).
struct harness {
    std::vector<std::unique_ptr<gw::event_loop>> gateways;
    std::vector<std::shared_ptr<const gw::config>> settings;
    asio::io_context io{1};
    tcp::acceptor front{io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
    tcp::acceptor http_backend{io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
    tcp::acceptor raw_backend{io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
    tcp::socket refusing{io};  // bound, never listening: every connect to it is refused
    input_state state;

    harness() {
        refusing.open(tcp::v4());
        refusing.bind(tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
        const auto url = [](const tcp::socket& s) { return "http://127.0.0.1:" + std::to_string(s.local_endpoint().port()); };
        const auto url_of = [](const tcp::acceptor& a) { return "http://127.0.0.1:" + std::to_string(a.local_endpoint().port()); };
        const std::string good = url_of(http_backend);
        const std::string raw = url_of(raw_backend);
        const std::string refused = url(refusing);

        settings.push_back(load(common_settings("[127.0.0.0/8, \"::1\"]", "1MiB") + "health_check: {enabled: false}\n"
                                "backends: [{url: " + good + "}]\n"
                                "routes:\n"
                                "  - {name: api, match: {path_prefix: /api}, strip_prefix: true}\n"
                                "  - {name: named-host, match: {path_prefix: /, host: example.com, methods: [GET, POST]}}\n"
                                "  - {name: limited, match: {path_prefix: /limited}, rate_limit: {requests: 1, window: 1s}}\n"));
        settings.push_back(load(common_settings() + "backends: [{url: " + refused + "}]\n"
                                "health_check: {enabled: true}\n"
                                "circuit_breaker: {min_requests: 1}\n"));
        settings.push_back(load(common_settings() + "backends: [{url: " + raw + "}]\n"
                                "health_check: {enabled: false}\n"
                                "circuit_breaker: {enabled: false}\n"));
        settings.push_back(load(common_settings() + "backends: []\n"
                                "health_check: {enabled: false}\n"
                                "routes: [{name: api, match: {path_prefix: /api}, backends: [{url: " + good + "}]}]\n"));
        gw::endpoint_map endpoints{{good, http_backend.local_endpoint()},
                                   {raw, raw_backend.local_endpoint()},
                                   {refused, refusing.local_endpoint()}};
        const auto registry = std::make_shared<gw::backend_registry>(false);
        const auto connections = std::make_shared<gw::connection_limit>();
        for (const auto& s : settings) {
            gateways.push_back(std::make_unique<gw::event_loop>(io, s, endpoints, registry, connections));
        }

        front.listen();
        http_backend.listen();
        raw_backend.listen();
        asio::co_spawn(io, accept_backends(http_backend, state, false), asio::detached);
        asio::co_spawn(io, accept_backends(raw_backend, state, true), asio::detached);
    }

    ~harness() {
        beast::error_code ignored;
        front.close(ignored);
        http_backend.close(ignored);
        raw_backend.close(ignored);
        for (auto& g : gateways) g->release_io_objects();
        io.poll();
    }

    // Each input starts from the same backend state: healthy, breaker closed and empty.
    void reset_backends() {
        for (std::size_t i = 0; i < gateways.size(); ++i) {
            for (auto& target : gateways[i]->backends()->members) {
                target->state = std::make_shared<gw::backend_state>(target->settings.url, *settings[i], false);
            }
        }
    }

    template <class Done>
    bool run_until(Done done, std::chrono::steady_clock::time_point deadline) {
        while (!done()) {
            if (std::chrono::steady_clock::now() >= deadline) return false;
            if (io.stopped()) io.restart();
            io.run_one_for(50ms);
        }
        return true;
    }
};

harness& the_harness() {
    static harness instance;
    return instance;
}

// Everything the client got must read as HTTP responses, one after the other; the last one may
// be cut short (a backend that broke off mid-body).
void check_responses(std::string_view received) {
    beast::error_code ec;
    while (!received.empty()) {
        http::response_parser<http::string_body> parser;
        parser.eager(true);
        parser.body_limit(max_received);
        const std::size_t used = parser.put(asio::buffer(received.data(), received.size()), ec);
        if (ec == http::error::need_more) {
            parser.put_eof(ec);
            // A close-delimited body ends here; anything else is a response cut short.
            if (!ec) return;
            FUZZ_CHECK(ec == http::error::partial_message);
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

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    gw::configure_logging(gw::log_config{.level = "off", .format = "text", .access_log = false});
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view input{reinterpret_cast<const char*>(data), size};
    std::size_t setup = 0;
    if (!input.empty() && static_cast<unsigned char>(input.front()) < 4) {
        setup = static_cast<unsigned char>(input.front());
        input.remove_prefix(1);
    }
    harness& h = the_harness();
    std::string client_bytes{input};
    h.state.raw_answer.clear();
    if (setup == 2) {
        const auto nul = input.find('\0');
        client_bytes = std::string{input.substr(0, nul)};
        if (nul != std::string_view::npos) h.state.raw_answer = std::string{input.substr(nul + 1)};
    }
    h.reset_backends();
    gw::event_loop& loop = *h.gateways[setup];

    // libFuzzer's once-a-second SIGALRM can interrupt these blocking calls: try again, a few times.
    tcp::socket client(h.io);
    gw::net::socket accepted(h.io);  // the type run_session takes
    beast::error_code ec;
    for (int tries = 0; tries < 10; ++tries) {
        client.close(ec);
        client.connect(h.front.local_endpoint(), ec);
        if (ec != asio::error::interrupted) break;
    }
    // A connect that SIGALRM interrupted may still have completed in the kernel, leaving a dead
    // connection in the backlog ahead of the client's: serving that one instead left the client
    // without an answer (seen as a rare 8 s "hang" with the session already done). Only the
    // client's own connection is served; the others are closed. Bounded: at most one per retry.
    const auto client_end = client.local_endpoint(ec);
    for (int tries = 0; tries < 30 && !ec; ++tries) {
        h.front.accept(accepted, ec);
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

    bool session_done = false;
    std::exception_ptr session_error;
    FUZZ_CHECK(loop.admit_connection());
    asio::co_spawn(h.io, gw::run_session(std::move(accepted), loop), [&](std::exception_ptr e) {
        session_error = e;
        session_done = true;
    });
    bool sent = false;
    bool received_all = false;
    std::string received;
    asio::co_spawn(h.io, send_all(client, client_bytes, sent), asio::detached);
    asio::co_spawn(h.io, receive_all(client, received, received_all), asio::detached);

    const auto deadline = std::chrono::steady_clock::now() + input_deadline;
    const bool finished = h.run_until([&] { return session_done && sent && received_all; }, deadline);
    if (!finished) {
        std::fprintf(stderr, "session still running after %lld s (session %d, sent %d, received %d)\n",
                     static_cast<long long>(input_deadline.count()), session_done, sent, received_all);
    }
    FUZZ_CHECK(finished);
    // An exception out of a session would end the whole process in the real server.
    if (session_error) std::rethrow_exception(session_error);
    FUZZ_CHECK(loop.active_connections() == 0);

    // Pooled upstream connections go, so that the next input starts from an empty pool.
    for (auto& g : h.gateways) g->close_pooled_connections();
    FUZZ_CHECK(h.run_until([&] { return h.state.backend_connections == 0; }, deadline + 2s));
    beast::error_code ignored;
    client.close(ignored);
    h.io.poll();

    // SESSION_FUZZER_TRACE=1 shows what the client got, to check a seed does what it claims.
    if (std::getenv("SESSION_FUZZER_TRACE") != nullptr) {
        std::fprintf(stderr, "setup %zu, received %zu bytes:\n%s\n", setup, received.size(), received.c_str());
    }
    // A HEAD answer has a length but no body, so the bytes cannot be framed without the requests.
    if (client_bytes.find("HEAD") == std::string::npos) check_responses(received);
    return 0;
}
