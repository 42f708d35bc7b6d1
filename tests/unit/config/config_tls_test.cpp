// The tls, upstream_tls and tunnel_idle_timeout keys, and https:// backends.
#include "gatewayd/config/config_loader.hpp"

#include "../tls/test_certificates.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace gw {
namespace {

using namespace std::chrono_literals;
using errors = std::vector<std::string>;
using gw::testing::test_certificates;

errors load_errors(const std::string& yaml) {
    auto result = load_config_text(yaml, "gw.yaml");
    EXPECT_FALSE(result.value.has_value());
    errors lines;
    for (const auto& e : result.errors) lines.push_back(e.to_string());
    return lines;
}

config load_ok(const std::string& yaml) {
    auto result = load_config_text(yaml, "gw.yaml");
    for (const auto& e : result.errors) ADD_FAILURE() << e.to_string();
    return result.value.value_or(config{});
}

std::string file(const std::string& name) { return test_certificates::get().path(name); }

TEST(load_config_tls, defaults) {
    const auto c = load_ok("");
    EXPECT_EQ(c.tls.listen, "");
    EXPECT_FALSE(c.tls.address);
    EXPECT_TRUE(c.tls.certificates.empty());
    EXPECT_EQ(c.tls.min_version, "1.2");
    EXPECT_EQ(c.tls.client_ca, "");
    EXPECT_EQ(c.upstream_tls, (upstream_tls_config{"", true, "", ""}));
    EXPECT_EQ(c.tunnel_idle_timeout, 1h);
}

TEST(load_config_tls, reads_every_key) {
    const auto c = load_ok("tls:\n"
                           "  listen: \"127.0.0.1:8443\"\n"
                           "  certificates:\n"
                           "    - {cert: " + file("api-chain.crt") + ", key: " + file("api.key") + "}\n"
                           "    - cert: " + file("wild.crt") + "\n"
                           "      key: " + file("wild.key") + "\n"
                           "  min_version: \"1.3\"\n"
                           "  client_ca: " + file("ca.crt") + "\n"
                           "upstream_tls:\n"
                           "  ca_file: " + file("ca.crt") + "\n"
                           "  verify: false\n"
                           "  cert: " + file("rsa.crt") + "\n"
                           "  key: " + file("rsa.key") + "\n"
                           "tunnel_idle_timeout: 90s\n");
    EXPECT_EQ(c.tls.address, (host_port{"127.0.0.1", 8443}));
    ASSERT_EQ(c.tls.certificates.size(), 2u);
    EXPECT_EQ(c.tls.certificates[1], (tls_certificate_config{file("wild.crt"), file("wild.key")}));
    EXPECT_EQ(c.tls.min_version, "1.3");
    EXPECT_EQ(c.tls.client_ca, file("ca.crt"));
    EXPECT_EQ(c.upstream_tls, (upstream_tls_config{file("ca.crt"), false, file("rsa.crt"), file("rsa.key")}));
    EXPECT_EQ(c.tunnel_idle_timeout, 90s);
}

TEST(load_config_tls, min_version_unquoted_is_the_same) {
    EXPECT_EQ(load_ok("tls: {min_version: 1.3}\n").tls.min_version, "1.3");
    EXPECT_EQ(load_errors("tls: {min_version: 1.1}\n"),
              (errors{"gw.yaml:1:20: tls.min_version: \"1.1\" is not one of 1.2, 1.3"}));
}

// --check-config and start-up report a bad certificate where it is named.
TEST(load_config_tls, reports_a_bad_certificate_or_key_where_it_is_written) {
    const std::string missing = file("missing.crt");
    EXPECT_EQ(load_errors("tls:\n  listen: 127.0.0.1:8443\n  certificates:\n"
                          "    - {cert: " + missing + ", key: " + file("api.key") + "}\n"),
              (errors{"gw.yaml:4:14: tls.certificates[0].cert: cannot read \"" + missing +
                      "\": No such file or directory"}));
    const std::string cert_line = "    - cert: " + file("api.crt") + "\n";
    EXPECT_EQ(load_errors("tls:\n  listen: 127.0.0.1:8443\n  certificates:\n" + cert_line +
                          "      key: " + file("wild.key") + "\n"),
              (errors{"gw.yaml:5:12: tls.certificates[0].key: \"" + file("wild.key") +
                      "\" does not match the certificate \"" + file("api.crt") + "\""}));
    EXPECT_EQ(load_errors("tls:\n  certificates:\n    - {cert: " + file("garbage.pem") + "}\n"),
              (errors{"gw.yaml:3:7: tls.certificates[0]: \"key\" is required"}));
}

TEST(load_config_tls, a_listener_needs_a_certificate) {
    EXPECT_EQ(load_errors("tls:\n  listen: 127.0.0.1:8443\n"),
              (errors{"gw.yaml:2:11: tls.certificates: at least one certificate is needed with tls.listen"}));
    EXPECT_EQ(load_errors("tls:\n  listen: \"0.0.0.0:8080\"\n  certificates:\n"
                          "    - {cert: " + file("api.crt") + ", key: " + file("api.key") + "}\n"),
              (errors{"gw.yaml:2:11: tls.listen: \"0.0.0.0:8080\" overlaps listen \"0.0.0.0:8080\""}));
    EXPECT_EQ(load_errors("tls:\n  listen: \"127.0.0.1:9901\"\n  certificates:\n"
                          "    - {cert: " + file("api.crt") + ", key: " + file("api.key") + "}\n"),
              (errors{"gw.yaml:2:11: tls.listen: \"127.0.0.1:9901\" overlaps admin.listen \"127.0.0.1:9901\""}));
}

TEST(load_config_tls, reports_bad_ca_files_and_half_client_certificates) {
    EXPECT_EQ(load_errors("tls: {client_ca: " + file("garbage.pem") + "}\n"),
              (errors{"gw.yaml:1:18: tls.client_ca: \"" + file("garbage.pem") + "\" holds no PEM certificate"}));
    EXPECT_EQ(load_errors("upstream_tls: {ca_file: " + file("nothing.crt") + "}\n"),
              (errors{"gw.yaml:1:25: upstream_tls.ca_file: cannot read \"" + file("nothing.crt") +
                      "\": No such file or directory"}));
    EXPECT_EQ(load_errors("upstream_tls: {cert: " + file("api.crt") + "}\n"),
              (errors{"gw.yaml:1:22: upstream_tls.cert: a client certificate needs its key (upstream_tls.key)"}));
    EXPECT_EQ(load_errors("upstream_tls: {key: " + file("api.key") + "}\n"),
              (errors{"gw.yaml:1:21: upstream_tls.key: a key needs its client certificate (upstream_tls.cert)"}));
    EXPECT_EQ(load_errors("upstream_tls: {cert: " + file("api.crt") + ", key: " + file("rsa.key") + "}\n").size(), 1u);
}

TEST(load_config_tls, https_backends_have_a_canonical_form_of_their_own) {
    const auto c = load_ok("backends:\n"
                           "  - url: HTTPS://Api.Example:443/\n"
                           "  - url: https://api.example:8443\n"
                           "  - url: http://api.example:443\n"
                           "  - url: https://[::1]\n");
    ASSERT_EQ(c.backends.size(), 4u);
    EXPECT_EQ(c.backends[0], (backend_config{"https://api.example", "api.example", 443, true}));
    EXPECT_EQ(c.backends[1], (backend_config{"https://api.example:8443", "api.example", 8443, true}));
    EXPECT_EQ(c.backends[2], (backend_config{"http://api.example:443", "api.example", 443, false}));
    EXPECT_EQ(c.backends[3], (backend_config{"https://[::1]", "::1", 443, true}));
    EXPECT_EQ(load_errors("backends:\n  - url: https://a\n  - url: HTTPS://A:443\n"),
              (errors{"gw.yaml:3:10: backends[1].url: duplicate backend \"https://a\""}));
}

// config/tls.yaml, the worked example the package ships, is valid once its files exist.
TEST(load_config_tls, the_shipped_tls_example_is_valid_with_its_files_in_place) {
    std::ifstream in(std::filesystem::path(GATEWAYD_SOURCE_DIR) / "config" / "tls.yaml");
    std::stringstream text;
    text << in.rdbuf();
    std::string yaml = text.str();
    const std::vector<std::pair<std::string, std::string>> files{
        {"/etc/gatewayd/tls/example.com.crt", file("api-chain.crt")},
        {"/etc/gatewayd/tls/example.com.key", file("api.key")},
        {"/etc/gatewayd/tls/api.example.com.crt", file("wild.crt")},
        {"/etc/gatewayd/tls/api.example.com.key", file("wild.key")},
        {"/etc/gatewayd/tls/internal-ca.crt", file("ca.crt")},
    };
    for (const auto& [from, to] : files) {
        const auto at = yaml.find(from);
        ASSERT_NE(at, std::string::npos) << from;
        yaml.replace(at, from.size(), to);
    }
    const auto c = load_ok(yaml);
    EXPECT_EQ(c.tls.certificates.size(), 2u);
    EXPECT_TRUE(c.backends.at(1).tls);
}

TEST(load_config_tls, tunnel_idle_timeout_is_a_duration_above_zero) {
    EXPECT_EQ(load_errors("tunnel_idle_timeout: 0s\n"),
              (errors{"gw.yaml:1:22: tunnel_idle_timeout: must be greater than 0s"}));
}

}  // namespace
}  // namespace gw
