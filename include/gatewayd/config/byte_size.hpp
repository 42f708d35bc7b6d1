#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace gw {

// "1048576", "16KiB", "1MiB", "1GiB": whole bytes, no sign, no overflow.
std::optional<std::uint64_t> parse_byte_size(std::string_view text);

}  // namespace gw
