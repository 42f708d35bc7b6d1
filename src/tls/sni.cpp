#include "gatewayd/tls/sni.hpp"

#include <boost/beast/core/string.hpp>

namespace gw::tls {

namespace {

// The most a DNS name can be (RFC 1035), and more than any SNI a real client sends.
constexpr std::size_t max_host_name = 253;

}  // namespace

name_match match_name(std::string_view certificate_name, std::string_view host) {
    if (host.ends_with('.')) host.remove_suffix(1);
    if (host.empty() || host.size() > max_host_name || certificate_name.empty()) return name_match::none;
    if (boost::beast::iequals(certificate_name, host)) return name_match::exact;
    // Only a whole first label may be a wildcard, and it stands for exactly one label.
    if (!certificate_name.starts_with("*.") || certificate_name.size() < 3) return name_match::none;
    const auto first_dot = host.find('.');
    if (first_dot == 0 || first_dot == std::string_view::npos) return name_match::none;
    const std::string_view parent = host.substr(first_dot + 1);
    if (parent.empty()) return name_match::none;
    return boost::beast::iequals(certificate_name.substr(2), parent) ? name_match::wildcard : name_match::none;
}

std::size_t choose_certificate(std::span<const std::vector<std::string>> names, std::string_view server_name) {
    if (server_name.empty()) return 0;
    std::size_t wildcard = names.size();
    for (std::size_t i = 0; i < names.size(); ++i) {
        for (const auto& name : names[i]) {
            const auto how = match_name(name, server_name);
            if (how == name_match::exact) return i;
            if (how == name_match::wildcard && wildcard == names.size()) wildcard = i;
        }
    }
    return wildcard < names.size() ? wildcard : 0;
}

}  // namespace gw::tls
