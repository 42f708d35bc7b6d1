#include "gatewayd/tls/certificate_files.hpp"

#include "test_certificates.hpp"

#include <gtest/gtest.h>

namespace gw::tls {
namespace {

using gw::testing::test_certificates;

TEST(CertificateFiles, LoadsAPairWithItsNamesAndChain) {
    const auto& files = test_certificates::get();
    certificate_problem problem;
    const auto loaded = load_certificate(files.path("api-chain.crt"), files.path("api.key"), problem);
    ASSERT_TRUE(loaded) << problem.message;
    EXPECT_EQ(loaded->chain.size(), 1u);
    // DNS names only (the IP address is not one), lower case, in certificate order.
    EXPECT_EQ(loaded->names, (std::vector<std::string>{"api.example.test", "api2.example.test"}));
}

TEST(CertificateFiles, KeepsAWildcardAsWritten) {
    const auto& files = test_certificates::get();
    certificate_problem problem;
    const auto loaded = load_certificate(files.path("wild.crt"), files.path("wild.key"), problem);
    ASSERT_TRUE(loaded) << problem.message;
    EXPECT_EQ(loaded->names, (std::vector<std::string>{"*.example.test"}));
    EXPECT_TRUE(loaded->chain.empty());
}

TEST(CertificateFiles, LoadsAnRsaPair) {
    const auto& files = test_certificates::get();
    certificate_problem problem;
    EXPECT_TRUE(load_certificate(files.path("rsa.crt"), files.path("rsa.key"), problem)) << problem.message;
}

TEST(CertificateFiles, SaysWhichFileIsWrongAndWhy) {
    const auto& files = test_certificates::get();
    struct bad_pair {
        std::string cert;
        std::string key;
        bool in_key;
        std::string message;
    };
    const std::string missing = files.path("missing.crt");
    for (const auto& [cert, key, in_key, message] : std::vector<bad_pair>{
             {missing, files.path("api.key"), false, "cannot read \"" + missing + "\": No such file or directory"},
             {files.path("garbage.pem"), files.path("api.key"), false,
              "\"" + files.path("garbage.pem") + "\" holds no PEM certificate"},
             {files.path("a-directory"), files.path("api.key"), false,
              "\"" + files.path("a-directory") + "\" is not a regular file"},
             {"/dev/zero", files.path("api.key"), false, "\"/dev/zero\" is not a regular file"},
             {files.path("api.crt"), files.path("missing.key"), true,
              "cannot read \"" + files.path("missing.key") + "\": No such file or directory"},
             {files.path("api.crt"), files.path("api.crt"), true,
              "\"" + files.path("api.crt") + "\" holds no PEM private key (an encrypted key is not supported)"},
             {files.path("api.crt"), files.path("encrypted.key"), true,
              "\"" + files.path("encrypted.key") + "\" holds no PEM private key (an encrypted key is not supported)"},
             {files.path("api.crt"), files.path("wild.key"), true,
              "\"" + files.path("wild.key") + "\" does not match the certificate \"" + files.path("api.crt") + "\""},
             {files.path("rsa.crt"), files.path("api.key"), true,
              "\"" + files.path("api.key") + "\" does not match the certificate \"" + files.path("rsa.crt") + "\""},
         }) {
        certificate_problem problem;
        EXPECT_FALSE(load_certificate(cert, key, problem)) << cert << " " << key;
        EXPECT_EQ(problem.in_key, in_key) << cert << " " << key;
        EXPECT_EQ(problem.message, message);
    }
}

TEST(CertificateFiles, ReadsEveryCertificateOfACaBundle) {
    const auto& files = test_certificates::get();
    std::string error;
    const auto bundle = load_ca_file(files.path("api-chain.crt"), error);
    ASSERT_TRUE(bundle) << error;
    EXPECT_EQ(bundle->size(), 2u);
    EXPECT_FALSE(load_ca_file(files.path("garbage.pem"), error));
    EXPECT_EQ(error, "\"" + files.path("garbage.pem") + "\" holds no PEM certificate");
}

}  // namespace
}  // namespace gw::tls
