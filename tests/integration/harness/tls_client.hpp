// TLS for the tests' own client, straight on OpenSSL over the blocking socket of an
// http_connection: what to offer in the handshake, and what the server chose.
#pragma once

#include "harness/basics.hpp"

#include <openssl/types.h>

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

typedef struct ssl_session_st SSL_SESSION;

namespace it {

struct tls_session_free {
    void operator()(SSL_SESSION* session) const noexcept;
};
using tls_session = std::shared_ptr<SSL_SESSION>;

struct tls_client_options {
    std::string server_name;          // SNI; empty: none sent
    std::string ca_file;              // set: the server's certificate must chain to it
    std::string cert_file;            // set: a client certificate (with key_file)
    std::string key_file;
    int min_version = 0;              // TLS1_1_VERSION ...; 0: OpenSSL's default
    int max_version = 0;
    std::vector<std::string> alpn = {"http/1.1"};  // offered protocols; empty: no ALPN
    bool legacy = false;              // security level 0, so that TLS 1.0/1.1 can be offered at all
    tls_session resume;               // offered for resumption
};

// One client-side TLS session over a connected blocking socket.
class tls_layer {
public:
    // Runs the handshake; nullptr and the reason in `error` when it fails.
    static std::unique_ptr<tls_layer> handshake(int fd, const tls_client_options& options, std::string& error);
    ~tls_layer();
    tls_layer(const tls_layer&) = delete;
    tls_layer& operator=(const tls_layer&) = delete;

    // As ::send and ::recv: bytes moved, 0 for an orderly close, -1 with errno (EAGAIN on the
    // socket's timeout) or with `last_error()` set for a TLS failure.
    long send(const char* data, std::size_t size);
    long recv(char* data, std::size_t size);
    const std::string& last_error() const { return last_error_; }

    std::string version() const;             // "TLSv1.3"
    std::string alpn() const;                // "" when none was chosen
    bool resumed() const;
    std::string peer_common_name() const;    // of the certificate the server chose
    std::vector<std::string> peer_dns_names() const;
    tls_session session() const;             // for resuming on the next connection

private:
    tls_layer() = default;
    SSL_CTX* context_ = nullptr;
    SSL* ssl_ = nullptr;
    std::string last_error_;
};

}  // namespace it
