#include "gatewayd/log/log_escape.hpp"

namespace gw {

namespace {

void append_hex_escape(std::string& out, unsigned char c, bool json) {
    static constexpr char digits[] = "0123456789abcdef";
    out += json ? "\\u00" : "\\x";
    out += digits[c >> 4];
    out += digits[c & 0xf];
}

bool continuation(std::string_view s, std::size_t i) {
    return i < s.size() && (static_cast<unsigned char>(s[i]) & 0xc0) == 0x80;
}

// Length of the well-formed UTF-8 sequence starting at s[i] (RFC 3629: no overlongs, no
// surrogates, nothing above U+10FFFF), or 0 when there is none.
std::size_t utf8_length(std::string_view s, std::size_t i) {
    const auto lead = static_cast<unsigned char>(s[i]);
    const auto second = i + 1 < s.size() ? static_cast<unsigned char>(s[i + 1]) : 0;
    if (lead >= 0xc2 && lead <= 0xdf) return continuation(s, i + 1) ? 2 : 0;
    if (lead >= 0xe0 && lead <= 0xef) {
        if (lead == 0xe0 && second < 0xa0) return 0;
        if (lead == 0xed && second > 0x9f) return 0;
        return continuation(s, i + 1) && continuation(s, i + 2) ? 3 : 0;
    }
    if (lead >= 0xf0 && lead <= 0xf4) {
        if (lead == 0xf0 && second < 0x90) return 0;
        if (lead == 0xf4 && second > 0x8f) return 0;
        return continuation(s, i + 1) && continuation(s, i + 2) && continuation(s, i + 3) ? 4 : 0;
    }
    return 0;
}

}  // namespace

std::string json_escape(std::string_view value) {
    std::string out;
    out.reserve(value.size() + 8);
    append_json_escaped(out, value);
    return out;
}

std::string text_escape(std::string_view value) {
    std::string out;
    out.reserve(value.size());
    append_text_escaped(out, value);
    return out;
}

void append_json_escaped(std::string& out, std::string_view value) {
    for (std::size_t i = 0; i < value.size(); ++i) {
        const char ch = value[i];
        const auto c = static_cast<unsigned char>(ch);
        if (c >= 0x80) {
            // Well-formed UTF-8 goes as it is; any other byte as its Latin-1 code point, so the
            // line stays valid JSON whatever bytes a client put in a path or header.
            if (const auto n = utf8_length(value, i); n != 0) {
                out.append(value.substr(i, n));
                i += n - 1;
            } else {
                append_hex_escape(out, c, true);
            }
            continue;
        }
        switch (ch) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (c < 0x20 || c == 0x7f) {
                append_hex_escape(out, c, true);
            } else {
                out += ch;
            }
        }
    }
}

void append_text_escaped(std::string& out, std::string_view value) {
    for (const char ch : value) {
        const auto c = static_cast<unsigned char>(ch);
        if (c < 0x21 || c == 0x7f || ch == '"' || ch == '\\') {
            append_hex_escape(out, c, false);
        } else {
            out += ch;
        }
    }
}

}  // namespace gw
