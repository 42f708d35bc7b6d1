#include "gatewayd/log_escape.hpp"

namespace gw {

namespace {

void append_hex_escape(std::string& out, unsigned char c, bool json) {
    static constexpr char digits[] = "0123456789abcdef";
    out += json ? "\\u00" : "\\x";
    out += digits[c >> 4];
    out += digits[c & 0xf];
}

}  // namespace

std::string json_escape(std::string_view value) {
    std::string out;
    out.reserve(value.size() + 8);
    for (const char ch : value) {
        const auto c = static_cast<unsigned char>(ch);
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
    return out;
}

std::string text_escape(std::string_view value) {
    std::string out;
    out.reserve(value.size());
    for (const char ch : value) {
        const auto c = static_cast<unsigned char>(ch);
        if (c < 0x21 || c == 0x7f || ch == '"' || ch == '\\') {
            append_hex_escape(out, c, false);
        } else {
            out += ch;
        }
    }
    return out;
}

}  // namespace gw
