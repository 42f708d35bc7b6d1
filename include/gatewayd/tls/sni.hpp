#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace gw::tls {

// How a certificate name covers a host name: exactly, through a wildcard for its first label
// ("*.example.com" covers "api.example.com", not "example.com" nor "a.b.example.com"), or not.
// Case-insensitive; a trailing dot on the host is ignored.
enum class name_match { none, wildcard, exact };
name_match match_name(std::string_view certificate_name, std::string_view host);

// The certificate that answers a handshake for `server_name` (the client's SNI; empty when it
// sent none), given each certificate's DNS names in configured order: the first that names it
// exactly, else the first whose wildcard covers it, else the first certificate (0).
std::size_t choose_certificate(std::span<const std::vector<std::string>> names, std::string_view server_name);

}  // namespace gw::tls
