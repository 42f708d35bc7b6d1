#include "gatewayd/http/body_decoder.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <string>

namespace gw {

namespace {

class body_error_category_impl : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "gatewayd.body"; }
    std::string message(int value) const override {
        switch (static_cast<body_error>(value)) {
        case body_error::bad_framing: return "malformed chunked framing";
        case body_error::too_large: return "body larger than the limit";
        case body_error::cut_short: return "connection ended inside the body";
        }
        return "body error";
    }
};

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// RFC 9110 5.6.2.
bool is_tchar(char c) {
    constexpr std::string_view others = "!#$%&'*+-.^_`|~";
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           others.find(c) != std::string_view::npos;
}

bool is_space(char c) { return c == ' ' || c == '\t'; }

// qdtext (RFC 9110 5.6.4): HTAB, SP, any visible character but '"' and '\', obs-text.
bool is_qdtext(char c) {
    const auto u = static_cast<unsigned char>(c);
    return c == '\t' || c == ' ' || u == 0x21 || (u >= 0x23 && u <= 0x5b) || (u >= 0x5d && u <= 0x7e) || u >= 0x80;
}

// A field value byte: visible, SP, HTAB or obs-text; never CR, LF, NUL or another control.
bool is_field_byte(char c) {
    const auto u = static_cast<unsigned char>(c);
    return c == '\t' || (u >= 0x20 && u != 0x7f);
}

constexpr unsigned max_size_digits = 15;  // 2^60 bytes; more is no real chunk

}  // namespace

const boost::system::error_category& body_error_category() {
    static const body_error_category_impl category;
    return category;
}

boost::system::error_code make_error_code(body_error error) {
    return {static_cast<int>(error), body_error_category()};
}

body_decoder::body_decoder(kind framing, std::uint64_t length_or_limit) : kind_(framing), state_(state::data) {
    switch (framing) {
    case kind::none: state_ = state::done; break;
    case kind::length:
        remaining_ = length_or_limit;
        if (remaining_ == 0) state_ = state::done;
        break;
    case kind::chunked:
        limit_ = length_or_limit;
        state_ = state::size_first;
        break;
    case kind::until_close: break;
    }
}

void body_decoder::fail(body_error error) {
    if (!error_) error_ = error;
}

void body_decoder::end_of_input() {
    if (state_ == state::done || failed()) return;
    if (kind_ == kind::until_close) {
        state_ = state::done;
        return;
    }
    fail(body_error::cut_short);
}

std::uint64_t body_decoder::direct_room() const {
    if (state_ != state::data || failed()) return 0;
    return kind_ == kind::until_close ? std::numeric_limits<std::uint64_t>::max() : remaining_;
}

void body_decoder::took_direct(std::size_t n) {
    if (n > direct_room()) {
        fail(body_error::bad_framing);
        return;
    }
    count_data(n);
}

void body_decoder::count_data(std::size_t n) {
    if (kind_ == kind::until_close) return;
    remaining_ -= n;
    if (remaining_ == 0) state_ = kind_ == kind::length ? state::done : state::data_cr;
}

body_decoder::step body_decoder::decode(std::span<const char> in, std::span<char> out) {
    step s;
    while (!failed() && state_ != state::done) {
        if (state_ == state::data) {
            std::size_t n = std::min(in.size() - s.consumed, out.size() - s.produced);
            if (kind_ != kind::until_close) n = static_cast<std::size_t>(std::min<std::uint64_t>(n, remaining_));
            if (n == 0) break;
            std::memcpy(out.data() + s.produced, in.data() + s.consumed, n);
            s.consumed += n;
            s.produced += n;
            count_data(n);
            continue;
        }
        if (s.consumed == in.size()) break;
        chunk_byte(in[s.consumed++]);
    }
    return s;
}

void body_decoder::chunk_byte(char c) {
    const bool in_chunk_line = state_ >= state::size_first && state_ <= state::size_lf;
    const bool in_trailer = state_ >= state::trailer_start && state_ <= state::final_lf;
    if ((in_chunk_line && ++line_bytes_ > max_chunk_line) || (in_trailer && ++line_bytes_ > max_trailer)) {
        fail(body_error::bad_framing);
        return;
    }
    const bool accepted = in_chunk_line ? chunk_line_byte(c) : framing_byte(c);
    if (!accepted) fail(body_error::bad_framing);
}

// chunk-size [ chunk-ext ] CRLF, with chunk-ext = *( BWS ";" BWS name [ BWS "=" BWS value ] )
// and a value a token or a quoted-string (RFC 9112 7.1.1).
bool body_decoder::chunk_line_byte(char c) {
    switch (state_) {
    case state::size_first:
    case state::size:
        if (const int digit = hex_value(c); digit >= 0) {
            if (++size_digits_ > max_size_digits) return false;
            remaining_ = remaining_ * 16 + static_cast<unsigned>(digit);
            state_ = state::size;
            return true;
        }
        if (state_ == state::size_first) return false;
        if (c == ';') return next(state::ext_name_space);
        if (is_space(c)) return next(state::ext_space);
        return c == '\r' && next(state::size_lf);
    case state::ext_space:
        if (is_space(c)) return true;
        return c == ';' && next(state::ext_name_space);
    case state::ext_name_space:
        if (is_space(c)) return true;
        return is_tchar(c) && next(state::ext_name);
    case state::ext_name:
        if (is_tchar(c)) return true;
        if (is_space(c)) return next(state::ext_name_end);
        if (c == '=') return next(state::ext_value_space);
        if (c == ';') return next(state::ext_name_space);
        return c == '\r' && next(state::size_lf);
    case state::ext_name_end:
        if (is_space(c)) return true;
        if (c == '=') return next(state::ext_value_space);
        return c == ';' && next(state::ext_name_space);
    case state::ext_value_space:
        if (is_space(c)) return true;
        if (c == '"') return next(state::ext_quoted);
        return is_tchar(c) && next(state::ext_token);
    case state::ext_token:
        if (is_tchar(c)) return true;
        [[fallthrough]];
    case state::ext_value_end:
        if (is_space(c)) return next(state::ext_space);
        if (c == ';') return next(state::ext_name_space);
        return c == '\r' && next(state::size_lf);
    case state::ext_quoted:
        if (c == '"') return next(state::ext_value_end);
        if (c == '\\') return next(state::ext_quoted_pair);
        return is_qdtext(c);
    case state::ext_quoted_pair:
        if (c != '\t' && c != ' ' && (static_cast<unsigned char>(c) < 0x21 || c == 0x7f)) return false;
        return next(state::ext_quoted);
    case state::size_lf: return c == '\n' && end_chunk_line();
    default: return false;
    }
}

// The LF that ends a chunk line: a chunk's data follows, or the trailer after the last chunk.
bool body_decoder::end_chunk_line() {
    line_bytes_ = 0;
    size_digits_ = 0;
    if (remaining_ == 0) return next(state::trailer_start);
    if (limit_ != 0 && (remaining_ > limit_ || total_ > limit_ - remaining_)) {
        fail(body_error::too_large);
        return true;
    }
    total_ += remaining_;
    return next(state::data);
}

// The CRLF after a chunk's data, the trailer fields and the final CRLF.
bool body_decoder::framing_byte(char c) {
    switch (state_) {
    case state::data_cr: return c == '\r' && next(state::data_lf);
    case state::data_lf: return c == '\n' && next(state::size_first);
    case state::trailer_start:
        if (c == '\r') return next(state::final_lf);
        return is_tchar(c) && next(state::trailer_name);
    case state::trailer_name:
        if (is_tchar(c)) return true;
        return c == ':' && next(state::trailer_value);
    case state::trailer_value:
        if (c == '\r') return next(state::trailer_lf);
        return is_field_byte(c);
    case state::trailer_lf: return c == '\n' && next(state::trailer_start);
    case state::final_lf: return c == '\n' && next(state::done);
    default: return false;
    }
}

}  // namespace gw
