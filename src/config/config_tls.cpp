#include "config_reader.hpp"

#include "gatewayd/tls/certificate_files.hpp"

// The TLS listener and the TLS settings toward https:// backends. The files they name are read
// here, so that --check-config and a reload catch a bad one where it is written.

namespace gw::config_detail {

void config_reader::read_tls(const YAML::Node& node, const std::string& path, tls_config& out) {
    const field fields[] = {
        {"listen",
         [&](auto& v, auto& p) {
             tls_listen_mark_ = v.Mark();
             read_optional_listen(v, p, out.listen, out.address);
         }},
        {"certificates", [&](auto& v, auto& p) { read_certificates(v, p, out.certificates); }},
        {"min_version", [&](auto& v, auto& p) { read_enum(v, p, out.min_version, tls_versions); }},
        {"client_ca",
         [&](auto& v, auto& p) {
             read_string(v, p, out.client_ca);
             check_ca_file(p, out.client_ca, v.Mark());
         }},
    };
    if (!read_mapping(node, path, fields) || listed_ != nullptr) return;
    if (out.address && out.certificates.empty()) {
        fail(tls_listen_mark_, child_path(path, "certificates") + ": at least one certificate is needed with tls.listen");
    }
}

void config_reader::read_certificates(const YAML::Node& node, const std::string& path,
                                      std::vector<tls_certificate_config>& out) {
    if (!is_list(node)) {
        fail(node, path, "expected a list of {cert: FILE, key: FILE}");
        return;
    }
    std::vector<tls_certificate_config> certificates;
    std::size_t index = 0;
    for (const auto& item : items_of(node)) {
        const auto at = item_path(path, index++);
        tls_certificate_config entry;
        YAML::Mark cert_mark;
        YAML::Mark key_mark;
        const field fields[] = {
            {"cert",
             [&](auto& v, auto& p) {
                 cert_mark = v.Mark();
                 read_string(v, p, entry.cert);
             }},
            {"key",
             [&](auto& v, auto& p) {
                 key_mark = v.Mark();
                 read_string(v, p, entry.key);
             }},
        };
        if (!read_mapping(item, at, fields) || listed_ != nullptr) continue;
        if (entry.cert.empty()) fail(item, at, "\"cert\" is required");
        if (entry.key.empty()) fail(item, at, "\"key\" is required");
        if (entry.cert.empty() || entry.key.empty()) continue;
        check_certificate_pair(at, entry.cert, cert_mark, entry.key, key_mark);
        certificates.push_back(std::move(entry));
    }
    out = std::move(certificates);
}

void config_reader::read_upstream_tls(const YAML::Node& node, const std::string& path, upstream_tls_config& out) {
    YAML::Mark cert_mark;
    YAML::Mark key_mark;
    const field fields[] = {
        {"ca_file",
         [&](auto& v, auto& p) {
             read_string(v, p, out.ca_file);
             check_ca_file(p, out.ca_file, v.Mark());
         }},
        {"verify", [&](auto& v, auto& p) { read_bool(v, p, out.verify); }},
        {"cert",
         [&](auto& v, auto& p) {
             cert_mark = v.Mark();
             read_string(v, p, out.cert);
         }},
        {"key",
         [&](auto& v, auto& p) {
             key_mark = v.Mark();
             read_string(v, p, out.key);
         }},
    };
    if (!read_mapping(node, path, fields) || listed_ != nullptr) return;
    if (!out.cert.empty() && out.key.empty()) {
        fail(cert_mark, child_path(path, "cert") + ": a client certificate needs its key (upstream_tls.key)");
    } else if (out.cert.empty() && !out.key.empty()) {
        fail(key_mark, child_path(path, "key") + ": a key needs its client certificate (upstream_tls.cert)");
    } else if (!out.cert.empty()) {
        check_certificate_pair(path, out.cert, cert_mark, out.key, key_mark);
    }
}

void config_reader::check_certificate_pair(const std::string& path, const std::string& cert,
                                           const YAML::Mark& cert_mark, const std::string& key,
                                           const YAML::Mark& key_mark) {
    tls::certificate_problem problem;
    if (tls::load_certificate(cert, key, problem)) return;
    if (problem.in_key) {
        fail(key_mark, child_path(path, "key") + ": " + problem.message);
    } else {
        fail(cert_mark, child_path(path, "cert") + ": " + problem.message);
    }
}

void config_reader::check_ca_file(const std::string& path, const std::string& file, const YAML::Mark& mark) {
    if (file.empty() || listed_ != nullptr) return;
    std::string error;
    if (!tls::load_ca_file(file, error)) fail(mark, path + ": " + error);
}

}  // namespace gw::config_detail
