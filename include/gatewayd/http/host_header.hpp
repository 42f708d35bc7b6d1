#pragma once

#include <string_view>

namespace gw {

// A Host field value, or the authority of an absolute-form target: uri-host [":" port]
// (RFC 9110 7.2, RFC 3986 3.2.2). The host is a bracketed IPv6 address, or up to 255
// characters of unreserved, sub-delims and percent escapes (which covers IPv4 and DNS names);
// the port is decimal, at most 65535. Anything else, and an empty value, is a 400 (RFC 9112 3.2).
bool valid_host(std::string_view value);

}  // namespace gw
