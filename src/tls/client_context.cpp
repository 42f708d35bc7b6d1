#include "gatewayd/tls/client_context.hpp"

#include "gatewayd/tls/certificate_files.hpp"

#include <boost/asio/ip/address.hpp>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <atomic>

namespace gw::tls {

namespace {

constexpr unsigned char alpn_http11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};

std::atomic<std::uint64_t> next_generation{1};

// Where an SSL keeps a pointer to the slot its new sessions go to.
int slot_index() {
    static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
    return index;
}
int generation_index() {
    static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
    return index;
}

// OpenSSL hands over every session the backend gives (at the end of a TLS 1.2 handshake, or
// with each TLS 1.3 ticket); the newest is kept for the next connection.
int keep_session(SSL* ssl, SSL_SESSION* session) {
    auto* slot = static_cast<session_slot*>(SSL_get_ex_data(ssl, slot_index()));
    if (slot == nullptr) return 0;
    const auto* generation =
        static_cast<const std::uint64_t*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), generation_index()));
    slot->session.reset(session);
    slot->generation = generation != nullptr ? *generation : 0;
    return 1;  // the slot owns the reference now
}

}  // namespace

client_context::~client_context() = default;

std::shared_ptr<const client_context> client_context::build(const upstream_tls_config& settings, std::string& error) {
    std::shared_ptr<client_context> built(new client_context());
    built->context_.reset(SSL_CTX_new(TLS_client_method()));
    SSL_CTX* context = built->context_.get();
    if (context == nullptr || SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION) != 1 ||
        SSL_CTX_set_alpn_protos(context, alpn_http11, sizeof alpn_http11) != 0) {
        error = "cannot set up TLS toward backends: " + openssl_reason();
        return nullptr;
    }
    SSL_CTX_set_options(context, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
    SSL_CTX_set_mode(context, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                                  SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_read_ahead(context, 1);
    built->generation_ = next_generation.fetch_add(1);
    SSL_CTX_set_ex_data(context, generation_index(), &built->generation_);
    SSL_CTX_set_session_cache_mode(context, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(context, keep_session);

    built->verify_ = settings.verify;
    if (settings.verify) {
        SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nullptr);
        if (settings.ca_file.empty()) {
            if (SSL_CTX_set_default_verify_paths(context) != 1) {
                error = "cannot load the system trust store: " + openssl_reason();
                return nullptr;
            }
        } else {
            auto cas = load_ca_file(settings.ca_file, error);
            if (!cas) return nullptr;
            X509_STORE* store = SSL_CTX_get_cert_store(context);
            for (const auto& ca : *cas) X509_STORE_add_cert(store, ca.get());
            ERR_clear_error();
        }
    } else {
        SSL_CTX_set_verify(context, SSL_VERIFY_NONE, nullptr);
    }
    if (!settings.cert.empty()) {
        certificate_problem problem;
        auto loaded = load_certificate(settings.cert, settings.key, problem);
        if (!loaded) {
            error = problem.message;
            return nullptr;
        }
        STACK_OF(X509)* chain = sk_X509_new_null();
        for (const auto& intermediate : loaded->chain) sk_X509_push(chain, intermediate.get());
        const bool used = SSL_CTX_use_cert_and_key(context, loaded->leaf.get(), loaded->key.get(), chain, 1) == 1;
        sk_X509_free(chain);
        if (!used) {
            error = "\"" + settings.cert + "\" cannot be used: " + openssl_reason();
            return nullptr;
        }
    }
    return built;
}

ssl_ptr client_context::new_session(const std::string& host, session_slot& slot) const {
    ssl_ptr ssl(SSL_new(context_.get()));
    if (!ssl) return ssl;
    SSL* s = ssl.get();
    SSL_set_connect_state(s);
    boost::system::error_code not_ip;
    boost::asio::ip::make_address(host, not_ip);
    const bool is_ip = !not_ip;
    if (!is_ip) SSL_set_tlsext_host_name(s, host.c_str());
    if (verify_) {
        X509_VERIFY_PARAM* param = SSL_get0_param(s);
        X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        if (is_ip) {
            X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str());
        } else {
            X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size());
        }
    }
    SSL_set_ex_data(s, slot_index(), &slot);
    if (slot.session && slot.generation == generation_) SSL_set_session(s, slot.session.get());
    ERR_clear_error();
    return ssl;
}

std::string describe_handshake_failure(SSL* ssl, const boost::system::error_code& ec) {
    if (ssl != nullptr && (SSL_get_verify_mode(ssl) & SSL_VERIFY_PEER) != 0) {
        const long verified = SSL_get_verify_result(ssl);
        if (verified != X509_V_OK) return std::string("certificate not trusted: ") + X509_verify_cert_error_string(verified);
    }
    return ec.message();
}

}  // namespace gw::tls
