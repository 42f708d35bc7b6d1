#pragma once

#include <openssl/types.h>

#include <memory>

// Declared in openssl/ssl.h, which these headers need not pull in.
typedef struct ssl_session_st SSL_SESSION;

namespace gw::tls {

// Owners of OpenSSL objects, for the headers that only pass them around.
struct ssl_free {
    void operator()(SSL* ssl) const noexcept;
};
struct ssl_ctx_free {
    void operator()(SSL_CTX* context) const noexcept;
};
struct ssl_session_free {
    void operator()(SSL_SESSION* session) const noexcept;
};
using ssl_ptr = std::unique_ptr<SSL, ssl_free>;
using ssl_ctx_ptr = std::unique_ptr<SSL_CTX, ssl_ctx_free>;
using ssl_session_ptr = std::unique_ptr<SSL_SESSION, ssl_session_free>;

}  // namespace gw::tls
