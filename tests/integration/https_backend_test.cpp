// https:// backends: SNI, certificate and host-name checks, client certificates, pooled and
// resumed TLS connections, health probes over TLS.
#include "harness.hpp"

#include <gtest/gtest.h>

#include <string>

namespace it {
namespace {

// A mock backend serving HTTPS with `pair`, optionally asking for client certificates.
std::unique_ptr<mock_backend> https_backend(const temp_dir& dir, const key_pair& pair, std::string client_ca = "") {
    std::vector<std::string> args{"--tls-cert", pair.cert, "--tls-key", pair.key};
    if (!client_ca.empty()) args.insert(args.end(), {"--tls-client-ca", client_ca});
    return std::make_unique<mock_backend>(dir, args);
}

std::string https_url(const mock_backend& backend, std::string_view host = "localhost") {
    return "https://" + std::string(host) + ":" + std::to_string(backend.port());
}

std::size_t lines_with(const mock_backend& backend, std::string_view text) {
    return count_lines_containing(backend.log_path(), text);
}

class HttpsBackendTest : public ::testing::Test {
protected:
    temp_dir dir_;
    test_pki pki_{dir_};
    std::uint16_t admin_port_ = free_port();

    gateway_settings settings(const std::string& url, const std::string& upstream_tls) const {
        return {.backends = {url},
                .health_check = "enabled: false",
                .extra = "upstream_tls: {" + upstream_tls + "}\n",
                .admin = admin_listen(admin_port_)};
    }
    double upstream(const std::string& url, std::string_view outcome) const {
        return scrape(admin_port_, "gatewayd_upstream_requests_total{backend=\"" + url + "\",outcome=\"" +
                                       std::string(outcome) + "\"}")
            .value_or(-1);
    }
};

TEST_F(HttpsBackendTest, AVerifiedBackendIsReachedWithSniAndItsConnectionsArePooled) {
    const auto backend = https_backend(dir_, pki_.server("backend", {"DNS:localhost"}));
    const auto url = https_url(*backend);
    gateway_process gateway(dir_, settings(url, "ca_file: \"" + pki_.ca_file() + "\""));
    for (int i = 0; i < 3; ++i) {
        const auto response = gateway.request("GET", "/secure/" + std::to_string(i));
        ASSERT_EQ(response.status, 200) << describe(response) << gateway.log();
        EXPECT_EQ(response.body, "Response from backend on port " + std::to_string(backend->port()) + " | path: /secure/" +
                                     std::to_string(i));
    }
    // One TLS connection, kept alive across the three requests, with the URL's host as SNI.
    EXPECT_EQ(lines_with(*backend, "tls port="), 1u);
    EXPECT_EQ(lines_with(*backend, "sni=localhost"), 1u);
    EXPECT_EQ(backend->connection_ids("/secure/").size(), 1u);
    EXPECT_EQ(upstream(url, "success"), 3);
}

TEST_F(HttpsBackendTest, NewConnectionsResumeTheLastSession) {
    const auto backend = https_backend(dir_, pki_.server("backend", {"DNS:localhost"}));
    auto config = settings(https_url(*backend), "ca_file: \"" + pki_.ca_file() + "\"");
    config.upstream = "connect_timeout: 500ms, max_idle_per_backend: 0";  // a new connection every time
    gateway_process gateway(dir_, config);
    for (int i = 0; i < 3; ++i) ASSERT_EQ(gateway.request("GET", "/r" + std::to_string(i)).status, 200);
    ASSERT_TRUE(wait_until([&] { return lines_with(*backend, "tls port=") == 3; }, 2s));
    EXPECT_EQ(lines_with(*backend, "resumed=0"), 1u);
    EXPECT_EQ(lines_with(*backend, "resumed=1"), 2u);
}

TEST_F(HttpsBackendTest, ACertificateOfAnotherCaIsAConnectFailure) {
    test_pki other(dir_, "other-ca");
    const auto backend = https_backend(dir_, other.server("backend", {"DNS:localhost"}));
    const auto url = https_url(*backend);
    auto config = settings(url, "ca_file: \"" + pki_.ca_file() + "\"");
    config.health_check = "enabled: true, interval: 1h";  // so that the passive mark-down logs why
    gateway_process gateway(dir_, config);
    const auto response = gateway.request("GET", "/untrusted");
    EXPECT_TRUE(is_error_response(response, 502, "bad_gateway")) << describe(response);
    EXPECT_EQ(backend->request_count("/untrusted"), 0u);
    EXPECT_EQ(upstream(url, "failure"), 1);
    EXPECT_EQ(upstream(url, "success"), 0);
    EXPECT_TRUE(wait_until(
        [&] {
            return count_lines_containing(gateway.log_path(), "backend " + url +
                                                                  " marked down: TLS handshake failed: certificate not "
                                                                  "trusted") == 1;
        },
        2s))
        << gateway.log();
}

TEST_F(HttpsBackendTest, TheCertificateMustNameTheUrlsHost) {
    const auto backend = https_backend(dir_, pki_.server("elsewhere", {"DNS:elsewhere.test"}));
    gateway_process gateway(dir_, settings(https_url(*backend), "ca_file: \"" + pki_.ca_file() + "\""));
    EXPECT_TRUE(is_error_response(gateway.request("GET", "/wrong-name"), 502, "bad_gateway"));
    EXPECT_EQ(backend->request_count("/wrong-name"), 0u);
}

TEST_F(HttpsBackendTest, AnIpHostIsCheckedAgainstTheIpAddressAndGetsNoSni) {
    const auto backend = https_backend(dir_, pki_.server("by-ip", {"IP:127.0.0.1"}));
    gateway_process gateway(dir_, settings(https_url(*backend, "127.0.0.1"), "ca_file: \"" + pki_.ca_file() + "\""));
    EXPECT_EQ(gateway.request("GET", "/ip").status, 200);
    EXPECT_EQ(lines_with(*backend, "sni=-"), 1u);
}

TEST_F(HttpsBackendTest, VerifyFalseSkipsTheCheckAndIsLoggedAsAWarning) {
    const auto backend = https_backend(dir_, pki_.self_signed("anyone", {"DNS:anyone.test"}));
    gateway_process gateway(dir_, settings(https_url(*backend), "verify: false"));
    EXPECT_EQ(gateway.request("GET", "/unchecked").status, 200);
    EXPECT_EQ(count_lines_containing(gateway.log_path(), "[warning] upstream_tls.verify is false"), 1u) << gateway.log();
}

TEST_F(HttpsBackendTest, AClientCertificateIsSentToBackendsThatAskForOne) {
    const auto server = pki_.server("backend", {"DNS:localhost"});
    const auto client = pki_.client("gateway");
    const auto backend = https_backend(dir_, server, pki_.ca_file());
    gateway_process with(dir_, settings(https_url(*backend), "ca_file: \"" + pki_.ca_file() + "\", cert: \"" +
                                                                 client.cert + "\", key: \"" + client.key + "\""));
    EXPECT_EQ(with.request("GET", "/mtls").status, 200);
    admin_port_ = free_port();
    gateway_process without(dir_, settings(https_url(*backend), "ca_file: \"" + pki_.ca_file() + "\""));
    EXPECT_TRUE(is_error_response(without.request("GET", "/no-cert"), 502, "bad_gateway"));
    EXPECT_EQ(backend->request_count("/no-cert"), 0u);
}

TEST_F(HttpsBackendTest, HealthProbesGoOverTlsAndABadCertificateKeepsTheBackendDown) {
    const auto good = https_backend(dir_, pki_.server("good", {"DNS:localhost"}));
    test_pki other(dir_, "other-ca");
    const auto bad = https_backend(dir_, other.server("bad", {"DNS:localhost"}));
    auto config = settings(https_url(*good), "ca_file: \"" + pki_.ca_file() + "\"");
    config.backends.push_back(https_url(*bad));
    config.health_check = "enabled: true, path: /healthz, interval: 100ms, timeout: 500ms, unhealthy_threshold: 2";
    gateway_process gateway(dir_, config);
    ASSERT_TRUE(wait_until([&] { return good->request_count("/healthz") >= 3; }, 5s)) << gateway.log();
    EXPECT_GE(lines_with(*good, "sni=localhost"), 3u);  // each probe its own TLS connection
    EXPECT_GE(lines_with(*good, "resumed=1"), 1u);      // ... resuming the last session
    const std::string bad_up = "gatewayd_backend_up{backend=\"" + https_url(*bad) + "\"}";
    EXPECT_TRUE(wait_until([&] { return scrape(admin_port_, bad_up) == 0; }, 5s));
    EXPECT_EQ(scrape(admin_port_, "gatewayd_backend_up{backend=\"" + https_url(*good) + "\"}"), 1);
    EXPECT_EQ(bad->request_count("/healthz"), 0u);
    // Every request goes to the good one.
    for (int i = 0; i < 4; ++i) EXPECT_EQ(gateway.request("GET", "/hit/" + std::to_string(i)).status, 200);
    EXPECT_EQ(good->request_count("/hit/"), 4u);
}

}  // namespace
}  // namespace it
