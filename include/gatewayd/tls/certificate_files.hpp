#pragma once

#include <openssl/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace gw::tls {

struct x509_free {
    void operator()(X509* certificate) const noexcept;
};
struct pkey_free {
    void operator()(EVP_PKEY* key) const noexcept;
};
using x509_ptr = std::unique_ptr<X509, x509_free>;
using pkey_ptr = std::unique_ptr<EVP_PKEY, pkey_free>;

// The reason of OpenSSL's last queued error, for a log line or a config error; clears the queue.
std::string openssl_reason();

// A certificate as a listener serves it: the leaf, the intermediates written after it in the
// same file, its private key, and the DNS names it answers for.
struct certificate {
    x509_ptr leaf;
    std::vector<x509_ptr> chain;
    pkey_ptr key;
    std::vector<std::string> names;  // subject alternative names, lower case ("*.example.com")
};

// What is wrong with a certificate and key pair, and in which of the two files.
struct certificate_problem {
    bool in_key = false;  // false: the certificate file
    std::string message;
};

// Reads a PEM certificate file (leaf first, intermediates after it) and a PEM private key, and
// checks that the key belongs to the certificate. Files must be regular and at most 1 MiB, so
// that a path such as /dev/zero or a FIFO cannot hang the config check; an encrypted key is
// refused rather than prompting for a passphrase.
std::optional<certificate> load_certificate(const std::string& cert_path, const std::string& key_path,
                                            certificate_problem& problem);

// Every certificate in a PEM bundle (a CA file); none, or an unreadable file, is an error.
std::optional<std::vector<x509_ptr>> load_ca_file(const std::string& path, std::string& error);

// The DNS names among a certificate's subject alternative names, lower case.
std::vector<std::string> dns_names(X509* certificate);

}  // namespace gw::tls
