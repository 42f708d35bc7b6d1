#include "gatewayd/tls/certificate_files.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace gw::tls {

std::string openssl_reason() {
    const unsigned long code = ERR_peek_last_error();
    ERR_clear_error();
    if (code == 0) return "unknown OpenSSL error";
    const char* reason = ERR_reason_error_string(code);
    return reason != nullptr ? reason : "OpenSSL error " + std::to_string(code);
}

void x509_free::operator()(X509* certificate) const noexcept { X509_free(certificate); }
void pkey_free::operator()(EVP_PKEY* key) const noexcept { EVP_PKEY_free(key); }

namespace {

// A certificate chain or a key is a few KiB; a CA bundle a few hundred.
constexpr std::size_t max_pem_file = 1024 * 1024;

struct bio_free {
    void operator()(BIO* bio) const noexcept { BIO_free(bio); }
};
using bio_ptr = std::unique_ptr<BIO, bio_free>;

struct fd_closer {
    int fd;
    ~fd_closer() { ::close(fd); }
};

std::string quoted(const std::string& text) { return "\"" + text + "\""; }

// The whole file, or why not.
std::optional<std::string> read_small_file(const std::string& path, std::string& error) {
    // O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused just below.
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        error = "cannot read " + quoted(path) + ": " + std::strerror(errno);
        return std::nullopt;
    }
    const fd_closer closer{fd};
    struct stat status {};
    if (::fstat(fd, &status) != 0 || !S_ISREG(status.st_mode)) {
        error = quoted(path) + " is not a regular file";
        return std::nullopt;
    }
    if (static_cast<std::uint64_t>(status.st_size) > max_pem_file) {
        error = quoted(path) + " is larger than 1MiB";
        return std::nullopt;
    }
    std::string text(static_cast<std::size_t>(status.st_size), '\0');
    std::size_t done = 0;
    while (done < text.size()) {
        const auto n = ::read(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            error = "cannot read " + quoted(path) + ": " + std::strerror(errno);
            return std::nullopt;
        }
        if (n == 0) break;
        done += static_cast<std::size_t>(n);
    }
    text.resize(done);
    return text;
}

bio_ptr memory_bio(const std::string& text) {
    return bio_ptr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

// Every certificate in the text, in order.
std::vector<x509_ptr> read_certificates(const std::string& text) {
    std::vector<x509_ptr> certificates;
    const bio_ptr bio = memory_bio(text);
    while (bio) {
        x509_ptr next(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
        if (!next) break;
        certificates.push_back(std::move(next));
    }
    // The read that found no more leaves "no start line" behind.
    ERR_clear_error();
    return certificates;
}

// Never prompt: a key that needs a passphrase is refused.
int no_passphrase(char*, int, int, void*) { return -1; }

}  // namespace

std::vector<std::string> dns_names(X509* certificate) {
    std::vector<std::string> names;
    auto* alternatives =
        static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(certificate, NID_subject_alt_name, nullptr, nullptr));
    if (alternatives == nullptr) return names;
    for (int i = 0; i < sk_GENERAL_NAME_num(alternatives); ++i) {
        const GENERAL_NAME* entry = sk_GENERAL_NAME_value(alternatives, i);
        if (entry->type != GEN_DNS) continue;
        const auto* data = ASN1_STRING_get0_data(entry->d.dNSName);
        const auto size = static_cast<std::size_t>(ASN1_STRING_length(entry->d.dNSName));
        std::string name(reinterpret_cast<const char*>(data), size);
        // A name with bytes no host name has (a NUL, a space) can never match; leave it out.
        bool printable = !name.empty();
        for (char& c : name) {
            if (c <= ' ' || c > '~') printable = false;
            if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        }
        if (printable) names.push_back(std::move(name));
    }
    GENERAL_NAMES_free(alternatives);
    ERR_clear_error();
    return names;
}

std::optional<certificate> load_certificate(const std::string& cert_path, const std::string& key_path,
                                            certificate_problem& problem) {
    std::string error;
    const auto cert_text = read_small_file(cert_path, error);
    if (!cert_text) {
        problem = {false, error};
        return std::nullopt;
    }
    auto certificates = read_certificates(*cert_text);
    if (certificates.empty()) {
        problem = {false, quoted(cert_path) + " holds no PEM certificate"};
        return std::nullopt;
    }
    const auto key_text = read_small_file(key_path, error);
    if (!key_text) {
        problem = {true, error};
        return std::nullopt;
    }
    const bio_ptr bio = memory_bio(*key_text);
    pkey_ptr key(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr) : nullptr);
    ERR_clear_error();
    if (!key) {
        problem = {true, quoted(key_path) + " holds no PEM private key (an encrypted key is not supported)"};
        return std::nullopt;
    }
    const bool matches = X509_check_private_key(certificates.front().get(), key.get()) == 1;
    ERR_clear_error();
    if (!matches) {
        problem = {true, quoted(key_path) + " does not match the certificate " + quoted(cert_path)};
        return std::nullopt;
    }
    certificate loaded;
    loaded.names = dns_names(certificates.front().get());
    loaded.leaf = std::move(certificates.front());
    for (std::size_t i = 1; i < certificates.size(); ++i) loaded.chain.push_back(std::move(certificates[i]));
    loaded.key = std::move(key);
    return loaded;
}

std::optional<std::vector<x509_ptr>> load_ca_file(const std::string& path, std::string& error) {
    const auto text = read_small_file(path, error);
    if (!text) return std::nullopt;
    auto certificates = read_certificates(*text);
    if (certificates.empty()) {
        error = quoted(path) + " holds no PEM certificate";
        return std::nullopt;
    }
    return certificates;
}

}  // namespace gw::tls
