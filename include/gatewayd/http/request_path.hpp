#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace gw {

// How the path of a request is put in its one canonical form before routes see it.
struct path_rules {
    bool reject_encoded_slashes = true;  // %2F and %5C: 400, or kept as part of a segment
    bool merge_slashes = true;           // "//" as "/", or kept and matched as written
};

enum class path_problem {
    malformed,         // a bad percent escape, a raw backslash, a '#' anywhere, no leading '/'
    above_root,        // more ".." segments than there are segments before them
    encoded_slash,     // %2F or %5C while they are refused
};

struct normalized_path {
    std::optional<std::string> target;  // the new path and query; empty when nothing changed
    std::optional<path_problem> problem;
};

// The origin-form target with its path normalised (RFC 3986 6.2.2): percent-encoded unreserved
// characters decoded, other escapes in upper case, dot segments removed (5.2.4, after the
// decoding, so "%2e%2e" is ".."), "//" merged when the rules say so. The query is left as it
// is. Routes match on the result and the backend receives it, so what a route matched is what
// the backend serves: "/public/../admin" is "/admin", never the public route's.
normalized_path normalize_path(std::string_view target, const path_rules& rules);

}  // namespace gw
