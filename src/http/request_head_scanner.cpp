#include "gatewayd/http/request_head_scanner.hpp"

namespace gw {

namespace {

// The target of a request line, complete or not: from after the first space to the next one
// (or to the end of what arrived).
std::string_view target_of(std::string_view line) {
    const auto first = line.find(' ');
    if (first == std::string_view::npos) return {};
    const std::string_view rest = line.substr(first + 1);
    return rest.substr(0, rest.find(' '));
}

}  // namespace

head_verdict request_head_scanner::check_request_line(std::string_view line) const {
    return target_of(line).size() > max_target_bytes ? head_verdict::target_too_long : head_verdict::complete;
}

head_verdict request_head_scanner::check_field_line(std::string_view line) {
    // A line that starts with whitespace continues the one before (obs-fold, RFC 9112 5.2) or,
    // right after the request line, hides a field from some parsers (RFC 9112 2.2): refused.
    if (line.front() == ' ' || line.front() == '\t') return head_verdict::bad_request;
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) return head_verdict::bad_request;
    if (colon > max_field_bytes || line.size() - colon - 1 > max_field_bytes) return head_verdict::too_large;
    return head_verdict::complete;
}

head_scan request_head_scanner::scan(std::string_view buffered) {
    std::size_t pos = checked_;
    for (;;) {
        const auto newline = buffered.find('\n', pos);
        if (newline == std::string_view::npos) {
            // A line still arriving: over the limits already, it can only get worse.
            if (buffered.size() > max_head_) return {head_verdict::too_large};
            if (!in_fields_ && skip_ < buffered.size() &&
                check_request_line(buffered.substr(skip_)) == head_verdict::target_too_long) {
                return {head_verdict::target_too_long};
            }
            return {head_verdict::need_more};
        }
        if (newline == pos || buffered[newline - 1] != '\r') return {head_verdict::bad_request};  // bare LF
        const std::string_view line = buffered.substr(pos, newline - 1 - pos);
        const std::size_t next = newline + 1;
        // Blank lines before the request count too, or a stream of them would never end.
        if (next > max_head_) return {head_verdict::too_large};
        if (!in_fields_) {
            if (line.empty()) {
                skip_ = next;
            } else {
                if (check_request_line(line) != head_verdict::complete) return {head_verdict::target_too_long};
                in_fields_ = true;
            }
        } else if (line.empty()) {
            return {head_verdict::complete, skip_, next - skip_};
        } else if (const head_verdict verdict = check_field_line(line); verdict != head_verdict::complete) {
            return {verdict};
        }
        pos = next;
        checked_ = next;
    }
}

}  // namespace gw
