#pragma once

#include <cstddef>
#include <string_view>

namespace gw {

// The longest header field name or value, and request target, the gateway accepts: Beast keeps
// a field in at most 65,535 bytes with its ": " and throws beyond, and a target can become a
// Host field (absolute form).
inline constexpr std::size_t max_field_bytes = 65'533;
inline constexpr std::size_t max_target_bytes = 65'533;

// What a look at the buffered start of a request says.
enum class head_verdict {
    need_more,        // no complete head yet, nothing wrong so far
    complete,         // `skip` blank bytes, then a head of `size` bytes for the parser
    bad_request,      // a bare LF, an obs-fold or whitespace before the first field
    too_large,        // the head is over max_header_bytes, or one field is over max_field_bytes
    target_too_long,  // the request target is over max_target_bytes
};

struct head_scan {
    head_verdict verdict = head_verdict::need_more;
    std::size_t skip = 0;  // empty lines before the request line (RFC 9112 2.2), to drop
    std::size_t size = 0;  // the head with its final empty line, when complete
};

// Checks a request head line by line before Beast's parser sees it, so that what Beast cannot
// hold is refused with a status instead of an exception, and what Beast would accept but
// nginx refuses (obs-fold) is refused too. Call scan() again with the same bytes plus more
// after need_more: lines already checked are not looked at twice. One scanner per request.
class request_head_scanner {
public:
    explicit request_head_scanner(std::size_t max_head_bytes) : max_head_(max_head_bytes) {}

    head_scan scan(std::string_view buffered);

private:
    head_verdict check_request_line(std::string_view line) const;
    static head_verdict check_field_line(std::string_view line);

    std::size_t max_head_;
    std::size_t skip_ = 0;      // blank bytes seen before the request line
    std::size_t checked_ = 0;   // bytes (from the start of the buffer) of complete lines checked
    bool in_fields_ = false;    // the request line is behind us
};

}  // namespace gw
