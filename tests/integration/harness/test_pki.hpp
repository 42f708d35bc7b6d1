// Certificates made for one test with the openssl command line, in its temp dir: a CA, server
// certificates it signs (ECDSA P-256 or RSA 2048), client certificates, self-signed ones.
#pragma once

#include "harness/files_and_processes.hpp"

#include <string>
#include <vector>

namespace it {

struct key_pair {
    std::string cert;  // PEM certificate file
    std::string key;   // PEM private key file
};

class test_pki {
public:
    // Makes the CA named `ca_name` in `dir`.
    explicit test_pki(const temp_dir& dir, std::string ca_name = "test-ca");

    const std::string& ca_file() const { return ca_.cert; }

    // A server certificate with subject CN=`name` and these subject alternative names
    // ("DNS:a.test", "IP:127.0.0.1"), signed by the CA; `rsa` for RSA 2048 instead of P-256.
    key_pair server(const std::string& name, const std::vector<std::string>& alt_names, bool rsa = false) const;
    // A client certificate (extendedKeyUsage clientAuth) signed by the CA.
    key_pair client(const std::string& name) const;
    // A certificate signed by nobody, for `name`.
    key_pair self_signed(const std::string& name, const std::vector<std::string>& alt_names) const;

private:
    key_pair issue(const std::string& name, const std::string& extensions, bool rsa) const;

    const temp_dir& dir_;
    std::string prefix_;
    key_pair ca_;
};

}  // namespace it
