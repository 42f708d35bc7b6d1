// The TLS listener: protocol floor, ALPN, SNI, client certificates, certificate reload, and what
// a bad handshake costs. Certificates are made per test with the openssl command line.
#include "harness.hpp"

#include <gtest/gtest.h>
#include <openssl/ssl.h>
#include <signal.h>

#include <filesystem>
#include <string>

namespace it {
namespace {

std::string tls_entry(const key_pair& pair) { return "{cert: \"" + pair.cert + "\", key: \"" + pair.key + "\"}"; }

std::string certificates(const std::vector<key_pair>& pairs, std::string_view more = "") {
    std::string text = "certificates: [";
    for (std::size_t i = 0; i < pairs.size(); ++i) text += (i ? ", " : "") + tls_entry(pairs[i]);
    return text + "]" + std::string(more);
}

// The server's certificate must chain to the test CA and name `server_name`.
tls_client_options trusting(const test_pki& pki, std::string server_name = "a.test") {
    tls_client_options options;
    options.server_name = std::move(server_name);
    options.ca_file = pki.ca_file();
    return options;
}

// How a handshake against the gateway's TLS port went: the CN of the certificate it got, or "".
std::string handshake_cn(const gateway_process& gateway, const tls_client_options& options, std::string* error = nullptr) {
    http_connection connection(gateway.tls_port());
    std::string failure;
    if (!connection.start_tls(options, failure)) {
        if (error != nullptr) *error = failure;
        return "";
    }
    return connection.tls()->peer_common_name();
}

class TlsListenerTest : public ::testing::Test {
protected:
    temp_dir dir_;
    test_pki pki_{dir_};
    std::uint16_t admin_port_ = free_port();

    double handshakes(std::string_view result) const {
        return scrape(admin_port_, "gatewayd_tls_handshakes_total{result=\"" + std::string(result) + "\"}").value_or(-1);
    }
};

TEST_F(TlsListenerTest, ServesRequestsOverTlsAndForwardsThemAsHttps) {
    mock_backend backend(dir_);
    const auto cert = pki_.server("a.test", {"DNS:a.test"});
    gateway_process gateway(dir_, {.backends = {backend.url()}, .admin = admin_listen(admin_port_),
                                   .tls = certificates({cert})});
    EXPECT_NE(gateway.log().find("TLS on 127.0.0.1:" + std::to_string(gateway.tls_port())), std::string::npos);

    auto connection = gateway.connect_tls(trusting(pki_));
    EXPECT_EQ(connection->tls()->alpn(), "http/1.1");
    EXPECT_EQ(connection->tls()->version(), "TLSv1.3");
    for (int i = 0; i < 3; ++i) {  // keep-alive over one TLS connection
        const auto response = connection->request("GET", "/headers");
        ASSERT_EQ(response.status, 200) << describe(response);
        const auto fields = parse_header_lines(response.body);
        ASSERT_EQ(fields.count("x-forwarded-proto"), 1u) << response.body;
        EXPECT_EQ(fields.find("x-forwarded-proto")->second, "https");
    }
    // The plain listener is unchanged.
    const auto plain = gateway.request("GET", "/headers");
    ASSERT_EQ(plain.status, 200);
    EXPECT_EQ(parse_header_lines(plain.body).find("x-forwarded-proto")->second, "http");
    EXPECT_EQ(handshakes("ok"), 1);
    EXPECT_EQ(handshakes("failed"), 0);
}

TEST_F(TlsListenerTest, ChoosesTheCertificateBySniAmongExactAndWildcardNames) {
    mock_backend backend(dir_);
    const auto first = pki_.server("first", {"DNS:a.test", "DNS:www.a.test"});
    const auto wildcard = pki_.server("wildcard", {"DNS:*.b.test"});
    const auto exact = pki_.server("exact", {"DNS:api.b.test", "DNS:c.test"}, true);  // RSA beside ECDSA
    gateway_process gateway(dir_, {.backends = {backend.url()}, .tls = certificates({first, wildcard, exact})});

    struct row {
        std::string server_name;
        std::string expected_cn;
    };
    for (const auto& [server_name, expected_cn] : std::vector<row>{
             {"a.test", "first"},
             {"www.a.test", "first"},
             {"x.b.test", "wildcard"},
             {"X.B.TEST", "wildcard"},
             {"api.b.test", "exact"},  // the exact name wins over the wildcard listed before it
             {"c.test", "exact"},
             {"deep.x.b.test", "first"},  // a wildcard covers one label: the default
             {"unknown.test", "first"},
             {"", "first"},               // no SNI at all
         }) {
        tls_client_options options;
        options.server_name = server_name;
        EXPECT_EQ(handshake_cn(gateway, options), expected_cn) << "SNI " << server_name;
    }
    // The client checking the name it asked for succeeds where SNI chose right.
    EXPECT_EQ(handshake_cn(gateway, trusting(pki_, "api.b.test")), "exact");
}

TEST_F(TlsListenerTest, RefusesTls11AndTls12WhenTheFloorIs13) {
    mock_backend backend(dir_);
    const auto cert = pki_.server("a.test", {"DNS:a.test"});
    gateway_process floor12(dir_, {.backends = {backend.url()}, .admin = admin_listen(admin_port_),
                                   .tls = certificates({cert})});
    tls_client_options tls11 = trusting(pki_);
    tls11.min_version = TLS1_1_VERSION;
    tls11.max_version = TLS1_1_VERSION;
    tls11.legacy = true;
    std::string error;
    EXPECT_EQ(handshake_cn(floor12, tls11, &error), "");
    EXPECT_NE(error.find("protocol version"), std::string::npos) << error;
    EXPECT_TRUE(wait_until([&] { return handshakes("failed") == 1; }, 2s));
    tls_client_options tls12 = trusting(pki_);
    tls12.max_version = TLS1_2_VERSION;
    EXPECT_EQ(handshake_cn(floor12, tls12), "a.test");

    const std::uint16_t admin13 = free_port();
    gateway_process floor13(dir_, {.backends = {backend.url()}, .admin = admin_listen(admin13),
                                   .tls = certificates({cert}, ", min_version: \"1.3\"")});
    EXPECT_EQ(handshake_cn(floor13, tls12, &error), "");
    EXPECT_NE(error.find("protocol version"), std::string::npos) << error;
    EXPECT_EQ(handshake_cn(floor13, trusting(pki_)), "a.test");
    EXPECT_TRUE(wait_until([&] { return scrape(admin13, "gatewayd_tls_handshakes_total{result=\"failed\"}") == 1; }, 2s));
}

TEST_F(TlsListenerTest, AlpnIsHttp11Only) {
    mock_backend backend(dir_);
    const auto cert = pki_.server("a.test", {"DNS:a.test"});
    gateway_process gateway(dir_, {.backends = {backend.url()}, .tls = certificates({cert})});
    tls_client_options both = trusting(pki_);
    both.alpn = {"h2", "http/1.1"};
    EXPECT_EQ(gateway.connect_tls(both)->tls()->alpn(), "http/1.1");
    tls_client_options none = trusting(pki_);
    none.alpn = {};
    auto without = gateway.connect_tls(none);
    EXPECT_EQ(without->tls()->alpn(), "");
    EXPECT_EQ(without->request("GET", "/x").status, 200);
    // A client that can only speak HTTP/2 is told so in the handshake (RFC 7301).
    tls_client_options h2 = trusting(pki_);
    h2.alpn = {"h2"};
    std::string error;
    EXPECT_EQ(handshake_cn(gateway, h2, &error), "");
    EXPECT_NE(error.find("no application protocol"), std::string::npos) << error;
}

TEST_F(TlsListenerTest, ClientCertificatesAreRequiredWithClientCa) {
    mock_backend backend(dir_);
    const auto cert = pki_.server("a.test", {"DNS:a.test"});
    const auto client = pki_.client("alice");
    test_pki other(dir_, "other-ca");
    const auto stranger = other.client("mallory");
    gateway_process gateway(dir_, {.backends = {backend.url()}, .admin = admin_listen(admin_port_),
                                   .tls = certificates({cert}, ", client_ca: \"" + pki_.ca_file() + "\"")});

    // With a certificate of the CA: served.
    tls_client_options good = trusting(pki_);
    good.cert_file = client.cert;
    good.key_file = client.key;
    EXPECT_EQ(gateway.connect_tls(good)->request("GET", "/mtls").status, 200);

    // Without one, or with one of another CA: refused in the handshake. With TLS 1.3 the client
    // may finish its side first; then the server's alert ends the connection before any answer.
    tls_client_options no_cert = trusting(pki_);
    tls_client_options wrong_ca = trusting(pki_);
    wrong_ca.cert_file = stranger.cert;
    wrong_ca.key_file = stranger.key;
    for (const auto* options : {&no_cert, &wrong_ca}) {
        http_connection connection(gateway.tls_port());
        std::string error;
        if (connection.start_tls(*options, error)) {
            connection.send(build_request("GET", "/refused"));
            EXPECT_TRUE(connection.closed_by_peer(3s));
        }
    }
    EXPECT_TRUE(wait_until([&] { return handshakes("failed") == 2; }, 2s)) << handshakes("failed");
    EXPECT_EQ(backend.request_count("/refused"), 0u);
}

TEST_F(TlsListenerTest, ReloadSwapsCertificatesForNewHandshakesWhileOpenConnectionsGoOn) {
    mock_backend backend(dir_);
    const auto v1 = pki_.server("v1", {"DNS:a.test"});
    const auto v2 = pki_.server("v2", {"DNS:a.test"});
    const key_pair live{dir_.file("live.crt").string(), dir_.file("live.key").string()};
    std::filesystem::copy_file(v1.cert, live.cert);
    std::filesystem::copy_file(v1.key, live.key);
    gateway_process gateway(dir_, {.backends = {backend.url()}, .tls = certificates({live})});

    auto kept = gateway.connect_tls(trusting(pki_));
    EXPECT_EQ(kept->tls()->peer_common_name(), "v1");
    ASSERT_EQ(kept->request("GET", "/before").status, 200);

    // Rotation: new files in place, then SIGHUP.
    std::filesystem::copy_file(v2.cert, live.cert, std::filesystem::copy_options::overwrite_existing);
    std::filesystem::copy_file(v2.key, live.key, std::filesystem::copy_options::overwrite_existing);
    gateway.proc().send_signal(SIGHUP);
    ASSERT_TRUE(wait_until([&] { return count_lines_containing(gateway.log_path(), "1 TLS certificate(s) loaded") == 1; }, 3s))
        << gateway.log();
    EXPECT_EQ(handshake_cn(gateway, trusting(pki_)), "v2");
    // The connection from before the reload goes on, with the certificate it began with.
    const auto after = kept->request("GET", "/after");
    EXPECT_EQ(after.status, 200) << describe(after);
    EXPECT_EQ(kept->tls()->peer_common_name(), "v1");

    // A key that does not match on the next reload: logged where it is named, the set in use stays.
    std::filesystem::copy_file(v1.key, live.key, std::filesystem::copy_options::overwrite_existing);
    gateway.proc().send_signal(SIGHUP);
    ASSERT_TRUE(wait_until([&] { return count_lines_containing(gateway.log_path(), "the running config stays") == 1; }, 3s))
        << gateway.log();
    const auto problems = lines_containing(gateway.log_path(), "does not match the certificate");
    ASSERT_EQ(problems.size(), 1u) << gateway.log();
    EXPECT_NE(problems[0].find(gateway.config_path().string() + ":"), std::string::npos) << problems[0];
    EXPECT_NE(problems[0].find("tls.certificates[0].key"), std::string::npos) << problems[0];
    EXPECT_EQ(handshake_cn(gateway, trusting(pki_)), "v2");
    EXPECT_EQ(kept->request("GET", "/still").status, 200);
}

TEST_F(TlsListenerTest, AMismatchedKeyAtStartIsAConfigErrorWithItsPosition) {
    const auto a = pki_.server("a.test", {"DNS:a.test"});
    const auto b = pki_.server("b.test", {"DNS:b.test"});
    const auto config = dir_.file("bad.yaml");
    write_file(config, "listen: \"127.0.0.1:" + std::to_string(free_port()) + "\"\n"
                       "admin: {listen: \"\"}\n"
                       "tls:\n"
                       "  listen: \"127.0.0.1:" + std::to_string(free_port()) + "\"\n"
                       "  certificates:\n"
                       "    - cert: \"" + a.cert + "\"\n"
                       "      key: \"" + b.key + "\"\n");
    const std::string expected = config.string() + ":7:12: tls.certificates[0].key: \"" + b.key +
                                 "\" does not match the certificate \"" + a.cert + "\"";
    const auto checked = run_to_exit(dir_, {gatewayd_bin(), "--config", config.string(), "--check-config"});
    EXPECT_EQ(checked.status.shell_code(), 1);
    EXPECT_NE(checked.err.find(expected), std::string::npos) << checked.err;
    const auto started = run_to_exit(dir_, {gatewayd_bin(), "--config", config.string()});
    EXPECT_EQ(started.status.shell_code(), 1);
    EXPECT_NE(started.err.find(expected), std::string::npos) << started.err;
    EXPECT_EQ(started.err.find("listening"), std::string::npos) << started.err;

    // A missing certificate file, the same way.
    write_file(config, "tls:\n  certificates:\n    - {cert: \"" + dir_.file("gone.crt").string() + "\", key: \"" + a.key +
                           "\"}\n");
    const auto missing = run_to_exit(dir_, {gatewayd_bin(), "--config", config.string(), "--check-config"});
    EXPECT_EQ(missing.status.shell_code(), 1);
    EXPECT_NE(missing.err.find(config.string() + ":3:14: tls.certificates[0].cert: cannot read"), std::string::npos)
        << missing.err;
}

TEST_F(TlsListenerTest, PlainHttpOnTheTlsPortOrASilentClientCostsThatConnectionOnly) {
    mock_backend backend(dir_);
    const auto cert = pki_.server("a.test", {"DNS:a.test"});
    gateway_process gateway(dir_, {.backends = {backend.url()}, .client = "header_timeout: 300ms",
                                   .admin = admin_listen(admin_port_), .tls = certificates({cert})});
    auto kept = gateway.connect_tls(trusting(pki_));
    ASSERT_EQ(kept->request("GET", "/first").status, 200);

    http_connection plain(gateway.tls_port());
    plain.send(build_request("GET", "/plain"));
    EXPECT_TRUE(plain.closed_by_peer(3s));
    EXPECT_TRUE(wait_until([&] { return handshakes("failed") == 1; }, 2s));

    // No handshake at all within header_timeout: closed, counted.
    http_connection silent(gateway.tls_port());
    const auto opened = steady::now();
    EXPECT_TRUE(silent.closed_by_peer(3s));
    EXPECT_GE(steady::now() - opened, 250ms);
    EXPECT_TRUE(wait_until([&] { return handshakes("failed") == 2; }, 2s));

    // Everything else goes on.
    EXPECT_EQ(kept->request("GET", "/second").status, 200);
    EXPECT_EQ(gateway.request("GET", "/other-port").status, 200);
    EXPECT_EQ(handshake_cn(gateway, trusting(pki_)), "a.test");
    EXPECT_EQ(backend.request_count("/plain"), 0u);
    EXPECT_FALSE(gateway.proc().exited());
}

TEST_F(TlsListenerTest, EveryEventLoopServesTls) {
    mock_backend backend(dir_);
    const auto cert = pki_.server("a.test", {"DNS:a.test"});
    gateway_process gateway(dir_, {.backends = {backend.url()}, .extra = "threads: 2\n",
                                   .admin = admin_listen(admin_port_), .tls = certificates({cert})});
    for (int i = 0; i < 20; ++i) {
        auto connection = gateway.connect_tls(trusting(pki_));
        ASSERT_EQ(connection->request("GET", "/loop/" + std::to_string(i)).status, 200);
    }
    EXPECT_EQ(handshakes("ok"), 20);
    EXPECT_EQ(backend.request_count("/loop/"), 20u);
}

TEST_F(TlsListenerTest, AReturningClientResumesItsSession) {
    mock_backend backend(dir_);
    const auto cert = pki_.server("a.test", {"DNS:a.test"});
    gateway_process gateway(dir_, {.backends = {backend.url()}, .tls = certificates({cert})});
    auto first = gateway.connect_tls(trusting(pki_));
    ASSERT_EQ(first->request("GET", "/one").status, 200);  // the TLS 1.3 ticket arrives with it
    EXPECT_FALSE(first->tls()->resumed());
    tls_client_options again = trusting(pki_);
    again.resume = first->tls()->session();
    auto second = gateway.connect_tls(again);
    EXPECT_TRUE(second->tls()->resumed());
    EXPECT_EQ(second->request("GET", "/two").status, 200);
}

}  // namespace
}  // namespace it
