// A session of the TLS listener (run_session with TLS) driven with arbitrary bytes over a real
// loopback connection, with a backend on the same io_context.
//
// Input: when the first byte is below 0x02 it picks the mode and is not sent; otherwise the
// mode is 0 and every byte is sent.
//   0  the bytes go to the TLS port as they are: a handshake that is garbage, cut short, plain
//      HTTP, a ClientHello with odd extensions. The session must end, within a bounded time,
//      having counted one failed handshake unless the bytes made a whole handshake.
//   1  the harness completes a real TLS handshake first and sends the bytes as the plaintext
//      inside it: whatever comes back must read as HTTP responses.
// The certificate is made in process at start (no key is kept in the repository).
#include "fuzz_check.hpp"

#include "gatewayd/app/event_loop.hpp"
#include "gatewayd/config/config_loader.hpp"
#include "gatewayd/http/session.hpp"
#include "gatewayd/log/logging.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <unistd.h>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t max_received = 4 * 1024 * 1024;
constexpr auto input_deadline = 8s;

// A self-signed P-256 certificate for "fuzz.test", written where the config can name it.
void make_certificate(const std::string& cert_path, const std::string& key_path) {
    EVP_PKEY* key = EVP_EC_gen("P-256");
    X509* cert = X509_new();
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert), 0);
    X509_gmtime_adj(X509_getm_notAfter(cert), 3600L * 24 * 30);
    X509_set_pubkey(cert, key);
    X509_NAME* name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("fuzz.test"), -1, -1, 0);
    X509_set_issuer_name(cert, name);
    X509V3_CTX context;
    X509V3_set_ctx_nodb(&context);
    X509V3_set_ctx(&context, cert, cert, nullptr, nullptr, 0);
    X509_EXTENSION* san = X509V3_EXT_conf_nid(nullptr, &context, NID_subject_alt_name, "DNS:fuzz.test");
    X509_add_ext(cert, san, -1);
    X509_EXTENSION_free(san);
    X509_sign(cert, key, EVP_sha256());
    FILE* out = std::fopen(cert_path.c_str(), "w");
    PEM_write_X509(out, cert);
    std::fclose(out);
    out = std::fopen(key_path.c_str(), "w");
    PEM_write_PrivateKey(out, key, nullptr, nullptr, 0, nullptr, nullptr);
    std::fclose(out);
    X509_free(cert);
    EVP_PKEY_free(key);
}

int backend_connections = 0;

// A backend that answers every request with a short 200.
asio::awaitable<void> serve_http(tcp::socket socket) {
    ++backend_connections;
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;
    for (int exchanges = 0; exchanges < 64; ++exchanges) {
        http::request_parser<http::string_body> parser;
        parser.body_limit(1024 * 1024);
        stream.expires_after(2s);
        auto [ec, n] = co_await http::async_read(stream, buffer, parser, nothrow);
        if (ec) break;
        http::response<http::string_body> response{http::status::ok, 11};
        response.body() = "ok " + std::string(parser.get().target());
        response.prepare_payload();
        response.keep_alive(parser.get().keep_alive());
        auto [write_ec, written] = co_await http::async_write(stream, response, nothrow);
        if (write_ec || !response.keep_alive()) break;
    }
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    --backend_connections;
}

asio::awaitable<void> accept_backends(tcp::acceptor& acceptor) {
    for (;;) {
        auto [ec, socket] = co_await acceptor.async_accept(nothrow);
        if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
        if (!ec) asio::co_spawn(acceptor.get_executor(), serve_http(std::move(socket)), asio::detached);
    }
}

// Mode 0: the bytes as they are, then a half-close; what comes back is read and dropped.
asio::awaitable<void> send_raw(tcp::socket& socket, std::string bytes, bool& done) {
    co_await asio::async_write(socket, asio::buffer(bytes), nothrow);
    beast::error_code ignored;
    socket.shutdown(tcp::socket::shutdown_send, ignored);
    std::array<char, 16384> sink{};
    for (std::size_t received = 0; received < max_received;) {
        auto [ec, n] = co_await socket.async_read_some(asio::buffer(sink), nothrow);
        received += n;
        if (ec) break;
    }
    done = true;
}

// Mode 1: a TLS client that sends the bytes inside TLS and reads every answer until the end.
asio::awaitable<void> send_inside_tls(asio::ssl::stream<tcp::socket>& tls, std::string bytes, std::string& received,
                                      bool& handshaken, bool& done) {
    auto [handshake_ec] = co_await tls.async_handshake(asio::ssl::stream_base::client, nothrow);
    handshaken = !handshake_ec;
    if (handshaken) {
        co_await asio::async_write(tls, asio::buffer(bytes), nothrow);
        // A half-close without close_notify: the session answers what it read, then sees the
        // cut at once instead of waiting for idle_timeout.
        beast::error_code ignored;
        tls.next_layer().shutdown(tcp::socket::shutdown_send, ignored);
        std::array<char, 16384> chunk{};
        while (received.size() < max_received) {
            auto [ec, n] = co_await tls.async_read_some(asio::buffer(chunk), nothrow);
            received.append(chunk.data(), n);
            if (ec) break;
        }
    }
    done = true;
}

// Everything the client got must read as HTTP responses, one after the other.
void check_responses(std::string_view received) {
    beast::error_code ec;
    while (!received.empty()) {
        http::response_parser<http::string_body> parser;
        parser.eager(true);
        parser.body_limit(max_received);
        const std::size_t used = parser.put(asio::buffer(received.data(), received.size()), ec);
        if (ec == http::error::need_more) {
            parser.put_eof(ec);
            FUZZ_CHECK(!ec || ec == http::error::partial_message);
            return;
        }
        FUZZ_CHECK(!ec);
        FUZZ_CHECK(parser.get().result_int() >= 100 && parser.get().result_int() <= 599);
        received.remove_prefix(used);
    }
}

struct harness {
    std::unique_ptr<gw::event_loop> gateway;
    std::shared_ptr<const gw::config> settings;
    asio::io_context io{1};
    tcp::acceptor front{io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
    tcp::acceptor backend{io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
    asio::ssl::context client_tls{asio::ssl::context::tls_client};
    std::filesystem::path dir;

    harness() {
        dir = std::filesystem::temp_directory_path() / ("gatewayd-tls-fuzzer-" + std::to_string(::getpid()));
        std::filesystem::create_directories(dir);
        const std::string cert = (dir / "fuzz.crt").string();
        const std::string key = (dir / "fuzz.key").string();
        make_certificate(cert, key);
        const std::string yaml = "admin: {listen: \"\"}\n"
                                 "client: {header_timeout: 1s, idle_timeout: 1s, body_timeout: 1s}\n"
                                 "upstream: {connect_timeout: 500ms, timeout: 500ms}\n"
                                 "rate_limit: {store: memory, requests: 1000000000, window: 1h}\n"
                                 "health_check: {enabled: false}\n"
                                 "backends: [{url: \"http://127.0.0.1:" + std::to_string(backend.local_endpoint().port()) + "\"}]\n"
                                 "tls:\n"
                                 "  listen: \"127.0.0.1:1\"\n"
                                 "  certificates: [{cert: \"" + cert + "\", key: \"" + key + "\"}]\n";
        auto loaded = gw::load_config_text(yaml, "tls_listener_fuzzer.yaml");
        if (!loaded.value) {
            for (const auto& error : loaded.errors) std::fprintf(stderr, "%s\n", error.to_string().c_str());
            std::abort();
        }
        settings = std::make_shared<const gw::config>(std::move(*loaded.value));
        std::string error;
        gw::loop_tls tls;
        tls.listener = gw::tls::server_contexts::build(settings->tls, error);
        tls.upstream = gw::tls::client_context::build(settings->upstream_tls, error);
        FUZZ_CHECK(tls.listener && tls.upstream);
        const gw::endpoint_map endpoints{{settings->backends[0].url, backend.local_endpoint()}};
        gateway = std::make_unique<gw::event_loop>(io, settings, endpoints, std::make_shared<gw::backend_registry>(false),
                                                   std::make_shared<gw::connection_limit>(), tls);
        client_tls.set_verify_mode(asio::ssl::verify_none);
        front.listen();
        backend.listen();
        asio::co_spawn(io, accept_backends(backend), asio::detached);
    }

    ~harness() {
        beast::error_code ignored;
        front.close(ignored);
        backend.close(ignored);
        gateway->release_io_objects();
        io.poll();
        std::error_code removed;
        std::filesystem::remove_all(dir, removed);
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

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    gw::configure_logging(gw::log_config{.level = "off", .format = "text", .access_log = false});
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view input{reinterpret_cast<const char*>(data), size};
    int mode = 0;
    if (!input.empty() && static_cast<unsigned char>(input.front()) < 2) {
        mode = static_cast<unsigned char>(input.front());
        input.remove_prefix(1);
    }
    harness& h = the_harness();
    gw::event_loop& loop = *h.gateway;

    // libFuzzer's SIGALRM can interrupt these blocking calls; only the client's own connection
    // is served (as in the session fuzzer).
    tcp::socket client(h.io);
    gw::net::socket accepted(h.io);
    beast::error_code ec;
    for (int tries = 0; tries < 10; ++tries) {
        client.close(ec);
        client.connect(h.front.local_endpoint(), ec);
        if (ec != asio::error::interrupted) break;
    }
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
        accepted.close(peer_ec);
    }
    if (!ec && !accepted.is_open()) ec = asio::error::not_found;
    FUZZ_CHECK(!ec);

    const auto before = loop.sample();
    bool session_done = false;
    std::exception_ptr session_error;
    FUZZ_CHECK(loop.admit_connection());
    asio::co_spawn(h.io, gw::run_session(std::move(accepted), loop, true), [&](std::exception_ptr e) {
        session_error = e;
        session_done = true;
    });
    bool client_done = false;
    bool handshaken = false;
    std::string received;
    std::optional<asio::ssl::stream<tcp::socket>> tls;
    if (mode == 1) {
        tls.emplace(std::move(client), h.client_tls);
        SSL_set_tlsext_host_name(tls->native_handle(), "fuzz.test");
        asio::co_spawn(h.io, send_inside_tls(*tls, std::string(input), received, handshaken, client_done), asio::detached);
    } else {
        asio::co_spawn(h.io, send_raw(client, std::string(input), client_done), asio::detached);
    }

    const auto deadline = std::chrono::steady_clock::now() + input_deadline;
    const bool finished = h.run_until([&] { return session_done && client_done; }, deadline);
    if (!finished) std::fprintf(stderr, "session still running after 8 s (session %d, client %d)\n", session_done, client_done);
    FUZZ_CHECK(finished);
    if (session_error) std::rethrow_exception(session_error);
    FUZZ_CHECK(loop.active_connections() == 0);
    const auto after = loop.sample();
    // Every connection counts one handshake, good or failed.
    FUZZ_CHECK(after.tls_handshakes_ok + after.tls_handshakes_failed ==
               before.tls_handshakes_ok + before.tls_handshakes_failed + 1);
    if (mode == 1) {
        FUZZ_CHECK(handshaken && after.tls_handshakes_ok == before.tls_handshakes_ok + 1);
        check_responses(received);
    }

    loop.close_pooled_connections();
    FUZZ_CHECK(h.run_until([&] { return backend_connections == 0; }, deadline + 2s));
    beast::error_code ignored;
    if (tls) tls->next_layer().close(ignored);
    client.close(ignored);
    h.io.poll();
    return 0;
}
