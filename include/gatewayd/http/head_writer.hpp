#pragma once

#include "gatewayd/http/message.hpp"

#include <cstddef>
#include <span>
#include <string_view>

namespace gw {

// Message heads written by hand in one pass over the fields, so that a head and the body bytes
// behind it leave in one gathered write. Beast's serializer walked a chain of buffer-sequence
// adaptors per field and per write: a fifth of the proxy's instructions.

// The exact size of the head: start line, fields, blank line.
std::size_t head_size(const request_head& head);
std::size_t head_size(const response_head& head);

// Writes the head into the front of `out`; returns its size, or 0 when `out` is too small.
std::size_t write_head(const request_head& head, std::span<char> out);
std::size_t write_head(const response_head& head, std::span<char> out);

// The line in front of a chunk of `size` bytes in chunked framing: the size in hex and CRLF.
class chunk_size_line {
public:
    explicit chunk_size_line(std::size_t size);
    std::string_view text() const { return {text_, size_}; }

private:
    char text_[2 * sizeof(std::size_t) + 2];
    std::size_t size_ = 0;
};

// What ends a chunked body: the last, empty chunk and no trailers.
inline constexpr std::string_view last_chunk = "0\r\n\r\n";
inline constexpr std::string_view crlf = "\r\n";

}  // namespace gw
