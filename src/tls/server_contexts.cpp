#include "gatewayd/tls/server_contexts.hpp"

#include "gatewayd/tls/certificate_files.hpp"
#include "gatewayd/tls/sni.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cstring>

namespace gw::tls {

namespace {

// ECDHE key exchange with AEAD ciphers only, for TLS 1.2 (TLS 1.3 suites are all AEAD).
constexpr const char* tls12_ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
constexpr const char* tls13_suites = "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";
constexpr const char* groups = "X25519:P-256:P-384";
constexpr unsigned char session_id_context[] = "gatewayd";
// Sessions kept for resumption per certificate set: about 20 MiB at most, and 5 minutes each
// (OpenSSL's default timeout), so that a resumed session is never old.
constexpr long session_cache_size = 20000;
// "http/1.1" in ALPN's wire form.
constexpr unsigned char alpn_http11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};

// Only http/1.1; a client that offers ALPN without it is refused (RFC 7301, as nginx does).
int select_alpn(SSL*, const unsigned char** out, unsigned char* out_size, const unsigned char* offered,
                unsigned int offered_size, void*) {
    unsigned char* chosen = nullptr;
    if (SSL_select_next_proto(&chosen, out_size, alpn_http11, sizeof alpn_http11, offered, offered_size) !=
        OPENSSL_NPN_NEGOTIATED) {
        return SSL_TLSEXT_ERR_ALERT_FATAL;
    }
    *out = chosen;
    return SSL_TLSEXT_ERR_OK;
}

// Everything but the certificate, the same in every context of a set.
bool configure(SSL_CTX* context, const tls_config& settings, const std::vector<x509_ptr>& client_cas,
               std::string& error) {
    const int floor = settings.min_version == "1.3" ? TLS1_3_VERSION : TLS1_2_VERSION;
    if (SSL_CTX_set_min_proto_version(context, floor) != 1 ||
        SSL_CTX_set_max_proto_version(context, TLS1_3_VERSION) != 1 ||
        SSL_CTX_set_cipher_list(context, tls12_ciphers) != 1 || SSL_CTX_set_ciphersuites(context, tls13_suites) != 1 ||
        SSL_CTX_set1_groups_list(context, groups) != 1) {
        error = "cannot set up TLS: " + openssl_reason();
        return false;
    }
    // No renegotiation, no compression; the server picks the cipher. No stateless tickets: the
    // session cache resumes (TLS 1.3 tickets then name a cached session), so no ticket key
    // lives longer than a session.
    SSL_CTX_set_options(context, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE |
                                     SSL_OP_NO_TICKET);
    SSL_CTX_set_mode(context, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                                  SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    // A request that arrives in one segment is read in one system call, not a record header first.
    SSL_CTX_set_read_ahead(context, 1);
    SSL_CTX_set_session_cache_mode(context, SSL_SESS_CACHE_SERVER);
    SSL_CTX_sess_set_cache_size(context, session_cache_size);
    SSL_CTX_set_session_id_context(context, session_id_context, sizeof session_id_context - 1);
    SSL_CTX_set_num_tickets(context, 1);
    SSL_CTX_set_alpn_select_cb(context, select_alpn, nullptr);
    if (client_cas.empty()) return true;
    X509_STORE* store = SSL_CTX_get_cert_store(context);
    STACK_OF(X509_NAME)* names = sk_X509_NAME_new_null();
    for (const auto& ca : client_cas) {
        X509_STORE_add_cert(store, ca.get());
        sk_X509_NAME_push(names, X509_NAME_dup(X509_get_subject_name(ca.get())));
    }
    ERR_clear_error();
    SSL_CTX_set_client_CA_list(context, names);
    SSL_CTX_set_verify(context, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
    return true;
}

}  // namespace

server_contexts::~server_contexts() = default;

int server_contexts::on_server_name(SSL* ssl, int*, void* arg) {
    const auto& set = *static_cast<const server_contexts*>(arg);
    const char* server_name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    const std::size_t chosen = choose_certificate(set.names_, server_name != nullptr ? server_name : "");
    if (chosen != 0) SSL_set_SSL_CTX(ssl, set.contexts_[chosen].get());
    return SSL_TLSEXT_ERR_OK;
}

std::shared_ptr<const server_contexts> server_contexts::build(const tls_config& settings, std::string& error) {
    std::vector<x509_ptr> client_cas;
    if (!settings.client_ca.empty()) {
        auto loaded = load_ca_file(settings.client_ca, error);
        if (!loaded) return nullptr;
        client_cas = std::move(*loaded);
    }
    std::shared_ptr<server_contexts> set(new server_contexts());
    for (const auto& entry : settings.certificates) {
        certificate_problem problem;
        auto loaded = load_certificate(entry.cert, entry.key, problem);
        if (!loaded) {
            error = problem.message;
            return nullptr;
        }
        ssl_ctx_ptr context(SSL_CTX_new(TLS_server_method()));
        if (!context || !configure(context.get(), settings, client_cas, error)) {
            if (error.empty()) error = "cannot set up TLS: " + openssl_reason();
            return nullptr;
        }
        STACK_OF(X509)* chain = sk_X509_new_null();
        for (const auto& intermediate : loaded->chain) sk_X509_push(chain, intermediate.get());
        const bool used = SSL_CTX_use_cert_and_key(context.get(), loaded->leaf.get(), loaded->key.get(), chain, 1) == 1;
        sk_X509_free(chain);  // the context took references of its own
        if (!used) {
            error = "\"" + entry.cert + "\" cannot be used: " + openssl_reason();
            return nullptr;
        }
        set->contexts_.push_back(std::move(context));
        set->names_.push_back(std::move(loaded->names));
    }
    if (set->contexts_.empty()) {
        error = "tls.certificates is empty";
        return nullptr;
    }
    // The first context starts every handshake; its SNI callback reads the set, which is
    // immutable from here on and outlives every handshake begun with it.
    SSL_CTX* first = set->contexts_.front().get();
    SSL_CTX_set_tlsext_servername_callback(first, on_server_name);
    SSL_CTX_set_tlsext_servername_arg(first, set.get());
    return set;
}

ssl_ptr server_contexts::new_session() const {
    ssl_ptr ssl(SSL_new(contexts_.front().get()));
    if (ssl) SSL_set_accept_state(ssl.get());
    return ssl;
}

}  // namespace gw::tls
