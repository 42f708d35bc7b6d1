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
#include "session_harness.hpp"

#include "gatewayd/app/event_loop.hpp"
#include "gatewayd/log/logging.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

// asio, beast, http and tcp as the harness names them, and the harness itself.
using namespace gw::fuzz;

namespace {

using namespace std::chrono_literals;

// The well-behaved backend: the target's length picks the framing of the answer so that every
// way a response body can end reaches the gateway.
asio::awaitable<bool> answer_framed_by_target(beast::tcp_stream& stream, const http::request<http::string_body>& request) {
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
        auto [ec, written] = co_await http::async_write_header(stream, serializer, nothrow);
        if (ec) co_return false;
    } else {
        auto [ec, written] = co_await http::async_write(stream, response, nothrow);
        if (ec) co_return false;
    }
    co_return keep_alive;
}

// A hostile backend: whatever the request, the input's bytes come back, then a half-close.
asio::awaitable<void> serve_raw(tcp::socket socket, const std::string& raw_answer) {
    beast::tcp_stream stream(std::move(socket));
    std::array<char, 4096> sink{};
    stream.expires_after(2s);
    auto [ec, n] = co_await stream.async_read_some(asio::buffer(sink), nothrow);
    if (!ec) {
        const std::string answer = raw_answer;
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

// One gateway (event loop) per setup, on the shared harness.
struct harness : session_harness {
    tcp::socket refusing{io};  // bound, never listening: every connect to it is refused
    std::string raw_answer;    // setup 2: what the hostile backend sends

    harness() {
        refusing.open(tcp::v4());
        refusing.bind(tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
        const tcp::endpoint good_backend = add_http_backend(answer_framed_by_target);
        const tcp::endpoint raw_backend =
            add_backend([this](tcp::socket socket) { return serve_raw(std::move(socket), raw_answer); });
        const std::string good = loopback_url(good_backend);
        const std::string raw = loopback_url(raw_backend);
        const std::string refused = loopback_url(refusing.local_endpoint());

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
        gw::endpoint_map endpoints{{good, good_backend}, {raw, raw_backend}, {refused, refusing.local_endpoint()}};
        const auto registry = std::make_shared<gw::backend_registry>(false);
        const auto connections = std::make_shared<gw::connection_limit>();
        for (const auto& s : settings) {
            gateways.push_back(std::make_unique<gw::event_loop>(io, s, endpoints, registry, connections));
        }
    }

    static std::shared_ptr<const gw::config> load(const std::string& yaml) {
        return load_settings(yaml, "session_fuzzer.yaml");
    }

    // Each input starts from the same backend state: healthy, breaker closed and empty.
    void reset_backends() {
        for (std::size_t i = 0; i < gateways.size(); ++i) {
            for (auto& target : gateways[i]->backends()->members) {
                target->state = std::make_shared<gw::backend_state>(target->settings.url, *settings[i], false);
            }
        }
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view input{reinterpret_cast<const char*>(data), size};
    const std::size_t setup = take_selector(input, 4);
    static harness h;
    std::string client_bytes{input};
    h.raw_answer.clear();
    if (setup == 2) {
        const auto nul = input.find('\0');
        client_bytes = std::string{input.substr(0, nul)};
        if (nul != std::string_view::npos) h.raw_answer = std::string{input.substr(nul + 1)};
    }
    h.reset_backends();

    // Writing and reading run side by side: a gateway that answers while the client still writes
    // must not stall on a client that does not read.
    loopback_connection connection(h, *h.gateways[setup], false);
    bool sent = false;
    bool received_all = false;
    std::string received;
    asio::co_spawn(h.io, send_and_half_close(connection.client, client_bytes), set_done{sent});
    asio::co_spawn(h.io, read_to_end(connection.client, received), set_done{received_all});
    connection.run([&] { return sent && received_all; });
    connection.close();

    // SESSION_FUZZER_TRACE=1 shows what the client got, to check a seed does what it claims.
    if (std::getenv("SESSION_FUZZER_TRACE") != nullptr) {
        std::fprintf(stderr, "setup %zu, received %zu bytes:\n%s\n", setup, received.size(), received.c_str());
    }
    // A HEAD answer has a length but no body, so the bytes cannot be framed without the requests.
    if (client_bytes.find("HEAD") == std::string::npos) check_responses(received);
    return 0;
}
