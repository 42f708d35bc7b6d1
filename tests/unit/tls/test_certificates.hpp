// Certificates for the unit tests, made with the openssl command line in a temp dir once per
// test program (never checked in): a CA, leaves it signed, self-signed ones, odd files.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

namespace gw::testing {

class test_certificates {
public:
    static const test_certificates& get() {
        static const test_certificates instance;
        return instance;
    }

    std::filesystem::path file(const std::string& name) const { return dir_ / name; }
    std::string path(const std::string& name) const { return file(name).string(); }

private:
    test_certificates() {
        dir_ = std::filesystem::temp_directory_path() / ("gatewayd-unit-tls-" + std::to_string(::getpid()));
        std::filesystem::create_directories(dir_);
        const std::string d = dir_.string();
        run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj /CN=test-ca"
            " -keyout " + d + "/ca.key -out " + d + "/ca.crt");
        leaf("api", "DNS:api.example.test,DNS:API2.Example.Test,IP:127.0.0.1");
        leaf("wild", "DNS:*.example.test");
        run("openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=rsa -addext subjectAltName=DNS:rsa.test"
            " -keyout " + d + "/rsa.key -out " + d + "/rsa.crt");
        run("openssl pkey -in " + d + "/api.key -aes256 -passout pass:secret -out " + d + "/encrypted.key");
        std::ofstream(dir_ / "garbage.pem") << "not a certificate\n";
        std::filesystem::create_directories(dir_ / "a-directory");
        // The leaf followed by the CA, as a chain file is written.
        std::ofstream(dir_ / "api-chain.crt") << std::ifstream(dir_ / "api.crt").rdbuf()
                                              << std::ifstream(dir_ / "ca.crt").rdbuf();
    }
    ~test_certificates() {
        std::error_code ignored;
        std::filesystem::remove_all(dir_, ignored);
    }

    void leaf(const std::string& name, const std::string& alt_names) const {
        const std::string d = dir_.string();
        run("openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=" + name + " -keyout " + d +
            "/" + name + ".key -out " + d + "/" + name + ".csr");
        std::ofstream(dir_ / (name + ".ext")) << "subjectAltName=" << alt_names << "\n";
        run("openssl x509 -req -in " + d + "/" + name + ".csr -CA " + d + "/ca.crt -CAkey " + d +
            "/ca.key -CAcreateserial -days 30 -extfile " + d + "/" + name + ".ext -out " + d + "/" + name + ".crt");
    }

    static void run(const std::string& command) {
        const int status = std::system((command + " >/dev/null 2>&1").c_str());
        if (status != 0) ADD_FAILURE() << "failed: " << command;
    }

    std::filesystem::path dir_;
};

}  // namespace gw::testing
