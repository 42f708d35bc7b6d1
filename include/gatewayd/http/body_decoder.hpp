#pragma once

#include <boost/system/error_code.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace gw {

// Why a message body could not be relayed as framed.
enum class body_error {
    bad_framing = 1,  // chunked framing broken: a bare LF, a bad size, an unclosed quote, ...
    too_large,        // more than the body limit
    cut_short,        // the connection ended inside the body
};
const boost::system::error_category& body_error_category();
boost::system::error_code make_error_code(body_error error);

// The framing of one message body as its bytes arrive (RFC 9112 6 and 7.1): a known length,
// chunked, or until the connection closes. Body bytes are copied out and framing consumed;
// chunked framing is checked byte by byte, strictly, so that a malformed chunk is an error the
// moment it arrives instead of a wait for bytes that would make sense of it. Trailer fields are
// checked and dropped. Pure: no I/O.
class body_decoder {
public:
    static body_decoder none() { return body_decoder(kind::none, 0); }
    static body_decoder with_length(std::uint64_t length) { return body_decoder(kind::length, length); }
    // `limit`: the most body bytes allowed (0: no limit).
    static body_decoder chunked(std::uint64_t limit) { return body_decoder(kind::chunked, limit); }
    static body_decoder until_close() { return body_decoder(kind::until_close, 0); }

    struct step {
        std::size_t consumed = 0;  // bytes of `in` used (body and framing)
        std::size_t produced = 0;  // body bytes written to `out`
    };

    // Decodes as much of `in` as fits in `out`; stops at the end of the body, at an error, or
    // when either span is used up. With bytes left in `in` and room in `out`, a step that
    // produced nothing has ended the body or failed.
    step decode(std::span<const char> in, std::span<char> out);

    // The source closed: the end of an until-close body, otherwise a body cut short.
    void end_of_input();

    // Body bytes that may be read straight into the output instead of through decode's copy:
    // the rest of the length or of the current chunk, any amount for an until-close body, 0
    // where framing comes next or the body is over.
    std::uint64_t direct_room() const;
    // Counts `n` body bytes (at most direct_room()) that were read straight into the output.
    void took_direct(std::size_t n);

    bool done() const { return state_ == state::done; }
    bool failed() const { return error_.has_value(); }
    boost::system::error_code error() const { return error_ ? make_error_code(*error_) : boost::system::error_code{}; }
    bool is_chunked() const { return kind_ == kind::chunked; }
    bool has_length() const { return kind_ == kind::length; }

    // Framing bytes a chunk line or the trailer may take before the body is refused.
    static constexpr std::size_t max_chunk_line = 4096;
    static constexpr std::size_t max_trailer = 16 * 1024;

private:
    enum class kind { none, length, chunked, until_close };
    enum class state {
        data,            // body bytes (length, until-close, or inside a chunk)
        size_first,      // the first hex digit of a chunk size
        size,            // more hex digits
        ext_space,       // whitespace before ';'
        ext_name_space,  // whitespace after ';'
        ext_name,
        ext_name_end,    // whitespace after a name
        ext_value_space, // whitespace after '='
        ext_token,
        ext_quoted,
        ext_quoted_pair,
        ext_value_end,   // after a quoted value
        size_lf,         // CR seen at the end of a chunk line
        data_cr,         // CRLF after a chunk's data
        data_lf,
        trailer_start,   // a trailer field or the final CRLF
        trailer_name,
        trailer_value,
        trailer_lf,
        final_lf,
        done,
    };

    body_decoder(kind framing, std::uint64_t length_or_limit);
    void chunk_byte(char c);
    bool chunk_line_byte(char c);
    bool framing_byte(char c);
    bool end_chunk_line();
    bool next(state to) {
        state_ = to;
        return true;
    }
    void fail(body_error error);
    void count_data(std::size_t n);

    kind kind_;
    state state_;
    std::uint64_t remaining_ = 0;  // body bytes left: of the length, or of the current chunk
    std::uint64_t limit_ = 0;      // chunked: the most body bytes in all (0: no limit)
    std::uint64_t total_ = 0;      // chunked: body bytes so far
    std::size_t line_bytes_ = 0;   // framing bytes of the current chunk line, or of the trailer
    unsigned size_digits_ = 0;
    std::optional<body_error> error_;
};

}  // namespace gw

namespace boost::system {
template <>
struct is_error_code_enum<gw::body_error> : std::true_type {};
}  // namespace boost::system
