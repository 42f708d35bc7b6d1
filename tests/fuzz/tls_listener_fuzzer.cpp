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
#include "session_harness.hpp"

#include "gatewayd/app/event_loop.hpp"
#include "gatewayd/log/logging.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unistd.h>

// asio, beast, http and tcp as the harness names them, and the harness itself.
using namespace gw::fuzz;

namespace {

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

// The backend answers every request with a short 200.
asio::awaitable<bool> answer_ok(beast::tcp_stream& stream, const http::request<http::string_body>& request) {
    http::response<http::string_body> response{http::status::ok, 11};
    response.body() = "ok " + std::string(request.target());
    response.prepare_payload();
    response.keep_alive(request.keep_alive());
    auto [ec, written] = co_await http::async_write(stream, response, nothrow);
    co_return !ec && response.keep_alive();
}

// Mode 0: the bytes as they are, then a half-close; what comes back is read and dropped.
asio::awaitable<void> send_raw(tcp::socket& socket, std::string bytes) {
    co_await send_and_half_close(socket, std::move(bytes));
    std::string dropped;
    co_await read_to_end(socket, dropped);
}

// Mode 1: a TLS client that sends the bytes inside TLS and reads every answer until the end.
// Its half-close comes without close_notify: the session answers what it read, then sees the cut
// at once instead of waiting for idle_timeout.
asio::awaitable<void> send_inside_tls(asio::ssl::stream<tcp::socket&>& tls, std::string bytes, std::string& received,
                                      bool& handshaken) {
    auto [handshake_ec] = co_await tls.async_handshake(asio::ssl::stream_base::client, nothrow);
    handshaken = !handshake_ec;
    if (!handshaken) co_return;
    co_await send_and_half_close(tls, std::move(bytes));
    co_await read_to_end(tls, received);
}

// One gateway with the TLS listener's settings, on the shared harness.
struct harness : session_harness {
    asio::ssl::context client_tls{asio::ssl::context::tls_client};
    std::filesystem::path dir;

    harness() {
        dir = std::filesystem::temp_directory_path() / ("gatewayd-tls-fuzzer-" + std::to_string(::getpid()));
        std::filesystem::create_directories(dir);
        const std::string cert = (dir / "fuzz.crt").string();
        const std::string key = (dir / "fuzz.key").string();
        make_certificate(cert, key);
        const tcp::endpoint backend = add_http_backend(answer_ok);
        const std::string yaml = "admin: {listen: \"\"}\n"
                                 "client: {header_timeout: 1s, idle_timeout: 1s, body_timeout: 1s}\n"
                                 "upstream: {connect_timeout: 500ms, timeout: 500ms}\n"
                                 "rate_limit: {store: memory, requests: 1000000000, window: 1h}\n"
                                 "health_check: {enabled: false}\n"
                                 "backends: [{url: \"" + loopback_url(backend) + "\"}]\n"
                                 "tls:\n"
                                 "  listen: \"127.0.0.1:1\"\n"
                                 "  certificates: [{cert: \"" + cert + "\", key: \"" + key + "\"}]\n";
        const auto& loaded = settings.emplace_back(load_settings(yaml, "tls_listener_fuzzer.yaml"));
        std::string error;
        gw::loop_tls tls;
        tls.listener = gw::tls::server_contexts::build(loaded->tls, error);
        tls.upstream = gw::tls::client_context::build(loaded->upstream_tls, error);
        FUZZ_CHECK(tls.listener && tls.upstream);
        const gw::endpoint_map endpoints{{loaded->backends[0].url, backend}};
        gateways.push_back(std::make_unique<gw::event_loop>(io, loaded, endpoints,
                                                            std::make_shared<gw::backend_registry>(false),
                                                            std::make_shared<gw::connection_limit>(), tls));
        client_tls.set_verify_mode(asio::ssl::verify_none);
    }

    ~harness() {
        std::error_code removed;
        std::filesystem::remove_all(dir, removed);
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view input{reinterpret_cast<const char*>(data), size};
    const std::size_t mode = take_selector(input, 2);
    static harness h;
    gw::event_loop& loop = *h.gateways.front();

    const auto before = loop.sample();
    loopback_connection connection(h, loop, true);
    bool client_done = false;
    bool handshaken = false;
    std::string received;
    std::optional<asio::ssl::stream<tcp::socket&>> tls;
    if (mode == 1) {
        tls.emplace(connection.client, h.client_tls);
        SSL_set_tlsext_host_name(tls->native_handle(), "fuzz.test");
        asio::co_spawn(h.io, send_inside_tls(*tls, std::string(input), received, handshaken), set_done{client_done});
    } else {
        asio::co_spawn(h.io, send_raw(connection.client, std::string(input)), set_done{client_done});
    }
    connection.run([&] { return client_done; });

    const auto after = loop.sample();
    // Every connection counts one handshake, good or failed.
    FUZZ_CHECK(after.tls_handshakes_ok + after.tls_handshakes_failed ==
               before.tls_handshakes_ok + before.tls_handshakes_failed + 1);
    if (mode == 1) {
        FUZZ_CHECK(handshaken && after.tls_handshakes_ok == before.tls_handshakes_ok + 1);
        check_responses(received);
    }
    connection.close();
    return 0;
}
