#pragma once

#include "gatewayd/config/config.hpp"
#include "gatewayd/tls/ssl_handle.hpp"

#include <boost/system/error_code.hpp>

#include <cstdint>
#include <memory>
#include <string>

namespace gw::tls {

// The TLS session last made with one backend, offered on the next new connection to it so that
// the handshake resumes instead of starting over. One per backend and event loop; filled in by
// OpenSSL when a session (or a TLS 1.3 ticket) arrives.
struct session_slot {
    std::uint64_t generation = 0;  // the client_context that made it; another one's is not offered
    ssl_session_ptr session;
};

// TLS toward https:// backends: one OpenSSL context for the whole process, built from
// upstream_tls at start and on every reload (TLS 1.2 or later, ALPN http/1.1, the CA file or
// the system store, an optional client certificate).
class client_context {
public:
    static std::shared_ptr<const client_context> build(const upstream_tls_config& settings, std::string& error);

    client_context(const client_context&) = delete;
    client_context& operator=(const client_context&) = delete;
    ~client_context();

    // A client-side TLS session toward `host`: SNI set to it (unless it is an IP address, which
    // SNI may not carry), the certificate checked against it, and the slot's session resumed.
    ssl_ptr new_session(const std::string& host, session_slot& slot) const;

    bool verifies() const { return verify_; }

private:
    client_context() = default;

    ssl_ctx_ptr context_;
    std::uint64_t generation_ = 0;
    bool verify_ = true;
};

// Why a handshake failed, in words: the certificate check's reason when that is what failed.
std::string describe_handshake_failure(SSL* ssl, const boost::system::error_code& ec);

}  // namespace gw::tls
