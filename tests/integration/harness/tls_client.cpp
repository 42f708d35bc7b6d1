#include "harness/tls_client.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <cerrno>
#include <csignal>
#include <cstring>

namespace it {

namespace {

std::string openssl_errors() {
    std::string text;
    while (const unsigned long code = ERR_get_error()) {
        char line[256];
        ERR_error_string_n(code, line, sizeof line);
        if (!text.empty()) text += "; ";
        text += line;
    }
    return text;
}

}  // namespace

void tls_session_free::operator()(SSL_SESSION* session) const noexcept { SSL_SESSION_free(session); }

std::unique_ptr<tls_layer> tls_layer::handshake(int fd, const tls_client_options& options, std::string& error) {
    // OpenSSL writes the socket with write(): a server that closed must not kill the test.
    static const bool sigpipe_ignored = std::signal(SIGPIPE, SIG_IGN) != SIG_ERR;
    (void)sigpipe_ignored;
    ERR_clear_error();
    std::unique_ptr<tls_layer> layer(new tls_layer());
    layer->context_ = SSL_CTX_new(TLS_client_method());
    SSL_CTX* context = layer->context_;
    if (options.legacy) SSL_CTX_set_security_level(context, 0);
    if (options.min_version != 0) SSL_CTX_set_min_proto_version(context, options.min_version);
    if (options.max_version != 0) SSL_CTX_set_max_proto_version(context, options.max_version);
    if (options.legacy) SSL_CTX_set_cipher_list(context, "DEFAULT:@SECLEVEL=0");
    if (!options.ca_file.empty()) {
        if (SSL_CTX_load_verify_locations(context, options.ca_file.c_str(), nullptr) != 1) {
            error = "cannot load " + options.ca_file + ": " + openssl_errors();
            return nullptr;
        }
        SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nullptr);
    }
    if (!options.cert_file.empty() &&
        (SSL_CTX_use_certificate_chain_file(context, options.cert_file.c_str()) != 1 ||
         SSL_CTX_use_PrivateKey_file(context, options.key_file.c_str(), SSL_FILETYPE_PEM) != 1)) {
        error = "cannot load the client certificate: " + openssl_errors();
        return nullptr;
    }
    if (!options.alpn.empty()) {
        std::string wire;
        for (const auto& protocol : options.alpn) wire += static_cast<char>(protocol.size()) + protocol;
        SSL_CTX_set_alpn_protos(context, reinterpret_cast<const unsigned char*>(wire.data()),
                                static_cast<unsigned>(wire.size()));
    }
    layer->ssl_ = SSL_new(context);
    SSL* ssl = layer->ssl_;
    if (!options.server_name.empty()) SSL_set_tlsext_host_name(ssl, options.server_name.c_str());
    if (options.resume) SSL_set_session(ssl, options.resume.get());
    SSL_set_fd(ssl, fd);
    errno = 0;
    if (SSL_connect(ssl) != 1) {
        const int saved = errno;
        error = openssl_errors();
        if (error.empty()) error = saved != 0 ? std::string("system error: ") + std::strerror(saved) : "connection closed";
        return nullptr;
    }
    return layer;
}

tls_layer::~tls_layer() {
    if (ssl_ != nullptr) SSL_free(ssl_);
    if (context_ != nullptr) SSL_CTX_free(context_);
}

long tls_layer::send(const char* data, std::size_t size) {
    ERR_clear_error();
    std::size_t written = 0;
    errno = 0;
    if (SSL_write_ex(ssl_, data, size, &written) == 1) return static_cast<long>(written);
    const int saved = errno;
    last_error_ = openssl_errors();
    errno = saved != 0 ? saved : EPIPE;
    return -1;
}

long tls_layer::recv(char* data, std::size_t size) {
    ERR_clear_error();
    std::size_t read = 0;
    errno = 0;
    const int result = SSL_read_ex(ssl_, data, size, &read);
    if (result == 1) return static_cast<long>(read);
    const int reason = SSL_get_error(ssl_, result);
    const int saved = errno;
    if (reason == SSL_ERROR_ZERO_RETURN) return 0;
    last_error_ = openssl_errors();
    if (reason == SSL_ERROR_SYSCALL && saved == 0) return 0;  // closed without close_notify
    if (reason == SSL_ERROR_WANT_READ || reason == SSL_ERROR_WANT_WRITE) {
        errno = EAGAIN;  // the socket's receive timeout
        return -1;
    }
    errno = saved != 0 ? saved : ECONNRESET;
    return -1;
}

std::string tls_layer::version() const { return SSL_get_version(ssl_); }

std::string tls_layer::alpn() const {
    const unsigned char* data = nullptr;
    unsigned size = 0;
    SSL_get0_alpn_selected(ssl_, &data, &size);
    return std::string(reinterpret_cast<const char*>(data), size);
}

bool tls_layer::resumed() const { return SSL_session_reused(ssl_) == 1; }

std::string tls_layer::peer_common_name() const {
    X509* peer = SSL_get0_peer_certificate(ssl_);
    if (peer == nullptr) return "";
    char name[256] = {};
    X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, name, sizeof name);
    return name;
}

std::vector<std::string> tls_layer::peer_dns_names() const {
    std::vector<std::string> names;
    X509* peer = SSL_get0_peer_certificate(ssl_);
    if (peer == nullptr) return names;
    auto* alternatives = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(peer, NID_subject_alt_name, nullptr, nullptr));
    for (int i = 0; alternatives != nullptr && i < sk_GENERAL_NAME_num(alternatives); ++i) {
        const GENERAL_NAME* entry = sk_GENERAL_NAME_value(alternatives, i);
        if (entry->type != GEN_DNS) continue;
        names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(entry->d.dNSName)),
                           static_cast<std::size_t>(ASN1_STRING_length(entry->d.dNSName)));
    }
    GENERAL_NAMES_free(alternatives);
    return names;
}

tls_session tls_layer::session() const {
    SSL_SESSION* session = SSL_get1_session(ssl_);
    return tls_session(session, tls_session_free{});
}

}  // namespace it
