#pragma once

#include "gatewayd/config/config.hpp"
#include "gatewayd/tls/ssl_handle.hpp"

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace gw::tls {

// The TLS listener's certificates as one immutable set: an OpenSSL context per certificate,
// alike but for the certificate (TLS 1.2 or 1.3 as min_version says, ECDHE with AEAD ciphers,
// no renegotiation, ALPN http/1.1 only, a session cache for resumption, client certificates
// when client_ca is set). A handshake starts on the first and moves to the one SNI chooses.
// Built at start and again on every reload; a connection keeps the set its handshake began
// with, so a reload never touches an open connection.
class server_contexts {
public:
    // Reads the certificate, key and client CA files of `settings` again; nothing and the reason
    // in `error` ("FILE: why") when one cannot be used.
    static std::shared_ptr<const server_contexts> build(const tls_config& settings, std::string& error);

    server_contexts(const server_contexts&) = delete;
    server_contexts& operator=(const server_contexts&) = delete;
    ~server_contexts();

    // A server-side TLS session for one new connection.
    ssl_ptr new_session() const;

    // Each certificate's DNS names, in configured order (what SNI chooses among).
    const std::vector<std::vector<std::string>>& names() const { return names_; }

private:
    server_contexts() = default;
    // SNI: moves the handshake to the context of the certificate that names the server.
    static int on_server_name(SSL* ssl, int* alert, void* set);

    std::vector<ssl_ctx_ptr> contexts_;
    std::vector<std::vector<std::string>> names_;
};

}  // namespace gw::tls
