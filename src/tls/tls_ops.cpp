#include "gatewayd/tls/tls_ops.hpp"

#include <boost/asio/ssl/error.hpp>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <sys/socket.h>

#include <cerrno>
#include <cstdint>

namespace gw::tls {

void ssl_free::operator()(SSL* ssl) const noexcept { SSL_free(ssl); }
void ssl_ctx_free::operator()(SSL_CTX* context) const noexcept { SSL_CTX_free(context); }
void ssl_session_free::operator()(SSL_SESSION* session) const noexcept { SSL_SESSION_free(session); }

namespace {

int descriptor(BIO* bio) { return static_cast<int>(reinterpret_cast<std::intptr_t>(BIO_get_data(bio))); }

// MSG_DONTWAIT: Asio leaves a socket blocking until an operation of its own needs it not to be,
// and a TLS connection may see no Asio read or write at all.
int socket_write(BIO* bio, const char* data, int size) {
    BIO_clear_retry_flags(bio);
    const auto n = ::send(descriptor(bio), data, static_cast<std::size_t>(size), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) BIO_set_retry_write(bio);
    return static_cast<int>(n);
}

int socket_read(BIO* bio, char* data, int size) {
    BIO_clear_retry_flags(bio);
    const auto n = ::recv(descriptor(bio), data, static_cast<std::size_t>(size), MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) BIO_set_retry_read(bio);
    return static_cast<int>(n);
}

long socket_ctrl(BIO* bio, int command, long, void* out) {
    switch (command) {
    case BIO_CTRL_FLUSH: return 1;
    case BIO_C_GET_FD:
        if (out != nullptr) *static_cast<int*>(out) = descriptor(bio);
        return descriptor(bio);
    default: return 0;
    }
}

int socket_create(BIO* bio) {
    BIO_set_init(bio, 1);
    return 1;
}

const BIO_METHOD* socket_method() {
    static BIO_METHOD* const method = [] {
        BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK | BIO_TYPE_DESCRIPTOR,
                                     "gatewayd socket");
        BIO_meth_set_write(m, socket_write);
        BIO_meth_set_read(m, socket_read);
        BIO_meth_set_ctrl(m, socket_ctrl);
        BIO_meth_set_create(m, socket_create);
        return m;
    }();
    return method;
}

// What an OpenSSL call's failure means; `saved_errno` is errno right after the call.
step_result classify(SSL* ssl, int result, int saved_errno) {
    switch (SSL_get_error(ssl, result)) {
    case SSL_ERROR_WANT_READ: return {step_kind::want_read, 0, {}};
    case SSL_ERROR_WANT_WRITE: return {step_kind::want_write, 0, {}};
    case SSL_ERROR_ZERO_RETURN: return {step_kind::failed, 0, boost::asio::error::eof};
    case SSL_ERROR_SYSCALL: {
        ERR_clear_error();
        // No error at all: the peer closed the connection without a close_notify.
        if (saved_errno == 0) return {step_kind::failed, 0, boost::asio::ssl::error::stream_truncated};
        return {step_kind::failed, 0, boost::system::error_code(saved_errno, boost::system::system_category())};
    }
    default: {
        const unsigned long code = ERR_peek_last_error();
        ERR_clear_error();
        if (ERR_GET_REASON(code) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
            return {step_kind::failed, 0, boost::asio::ssl::error::stream_truncated};
        }
        if (code == 0) return {step_kind::failed, 0, boost::asio::ssl::error::unspecified_system_error};
        return {step_kind::failed, 0,
                boost::system::error_code(static_cast<int>(code), boost::asio::error::get_ssl_category())};
    }
    }
}

}  // namespace

void attach(SSL* ssl, int fd) {
    BIO* bio = BIO_new(socket_method());
    BIO_set_data(bio, reinterpret_cast<void*>(static_cast<std::intptr_t>(fd)));
    // One BIO for both directions: SSL_set_bio takes a single reference for the pair.
    SSL_set_bio(ssl, bio, bio);
}

step_result handshake_step(SSL* ssl) {
    ERR_clear_error();
    errno = 0;
    const int result = SSL_do_handshake(ssl);
    if (result == 1) return {step_kind::done, 0, {}};
    return classify(ssl, result, errno);
}

step_result read_step(SSL* ssl, void* data, std::size_t size) {
    if (size == 0) return {step_kind::done, 0, {}};
    ERR_clear_error();
    errno = 0;
    std::size_t read = 0;
    const int result = SSL_read_ex(ssl, data, size, &read);
    if (result == 1) return {step_kind::done, read, {}};
    return classify(ssl, result, errno);
}

step_result write_step(SSL* ssl, const void* data, std::size_t size) {
    if (size == 0) return {step_kind::done, 0, {}};
    ERR_clear_error();
    errno = 0;
    std::size_t written = 0;
    const int result = SSL_write_ex(ssl, data, size, &written);
    if (result == 1) return {step_kind::done, written, {}};
    return classify(ssl, result, errno);
}

void send_close_notify(SSL* ssl) {
    if (ssl == nullptr || !SSL_is_init_finished(ssl)) return;
    ERR_clear_error();
    SSL_shutdown(ssl);
    ERR_clear_error();
}

}  // namespace gw::tls
