#include "gatewayd/http/head_writer.hpp"

#include <cstring>

namespace gw {

namespace http = boost::beast::http;

namespace {

constexpr std::string_view separator = ": ";

std::string_view version_text(unsigned version) { return version == 10 ? "HTTP/1.0" : "HTTP/1.1"; }

std::size_t fields_size(const header_fields& fields) {
    std::size_t size = 2;  // the blank line
    for (const auto& field : fields) {
        size += field.name_string().size() + separator.size() + field.value().size() + crlf.size();
    }
    return size;
}

// Appends to a buffer already known to be large enough.
class appender {
public:
    explicit appender(char* at) : at_(at) {}
    appender& operator<<(std::string_view text) {
        std::memcpy(at_, text.data(), text.size());
        at_ += text.size();
        return *this;
    }
    char* position() const { return at_; }

private:
    char* at_;
};

void append_fields(appender& out, const header_fields& fields) {
    for (const auto& field : fields) out << field.name_string() << separator << field.value() << crlf;
    out << crlf;
}

std::string_view status_digits(unsigned status, char (&digits)[3]) {
    digits[0] = static_cast<char>('0' + status / 100 % 10);
    digits[1] = static_cast<char>('0' + status / 10 % 10);
    digits[2] = static_cast<char>('0' + status % 10);
    return {digits, 3};
}

}  // namespace

std::size_t head_size(const request_head& head) {
    // METHOD SP target SP HTTP/1.1 CRLF
    return head.method_string().size() + 1 + head.target().size() + 1 + 8 + crlf.size() + fields_size(head);
}

std::size_t head_size(const response_head& head) {
    // HTTP/1.1 SP 200 SP reason CRLF
    return 8 + 1 + 3 + 1 + head.reason().size() + crlf.size() + fields_size(head);
}

std::size_t write_head(const request_head& head, std::span<char> out) {
    const std::size_t size = head_size(head);
    if (size > out.size()) return 0;
    appender to(out.data());
    to << head.method_string() << " " << head.target() << " " << version_text(head.version()) << crlf;
    append_fields(to, head);
    return size;
}

std::size_t write_head(const response_head& head, std::span<char> out) {
    const std::size_t size = head_size(head);
    if (size > out.size()) return 0;
    appender to(out.data());
    char digits[3];
    to << version_text(head.version()) << " " << status_digits(head.result_int(), digits) << " " << head.reason()
       << crlf;
    append_fields(to, head);
    return size;
}

chunk_size_line::chunk_size_line(std::size_t size) {
    static constexpr char hex[] = "0123456789abcdef";
    char reversed[2 * sizeof(std::size_t)];
    std::size_t digits = 0;
    do {
        reversed[digits++] = hex[size & 0xf];
        size >>= 4;
    } while (size != 0);
    for (std::size_t i = 0; i < digits; ++i) text_[i] = reversed[digits - 1 - i];
    text_[digits] = '\r';
    text_[digits + 1] = '\n';
    size_ = digits + 2;
}

}  // namespace gw
