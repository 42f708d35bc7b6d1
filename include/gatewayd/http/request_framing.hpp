#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gw {

// Transfer-Encoding a request may carry: exactly one `chunked` over all its lines (RFC 9112
// 6.1: chunked once and last; any other coding leaves the body's end unknowable), and none at
// all in HTTP/1.0, which has no chunked framing. Anything else is ambiguous framing: 400.
bool acceptable_transfer_encoding(const std::vector<std::string_view>& values, unsigned version);

// The request target in the form to forward. Origin-form ("/p?q") goes as it is; absolute-form
// ("http://host/p?q") becomes origin-form with its authority taking Host's place (RFC 9112
// 3.2.2); asterisk-form ("*") only with OPTIONS. Anything else (authority-form, a bare word) is
// not a request we forward.
struct forward_target {
    std::string path;       // set only for absolute-form; otherwise the target stays as it is
    std::string authority;  // absolute-form's host[:port], for the Host header
};
std::optional<forward_target> normalize_target(std::string_view target, bool is_options);

}  // namespace gw
