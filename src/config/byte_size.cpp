#include "gatewayd/config/byte_size.hpp"

#include <array>
#include <charconv>
#include <limits>

namespace gw {

namespace {

struct suffix {
    std::string_view text;
    std::uint64_t multiplier;
};

// Binary units only: "KB" is left out on purpose because it is ambiguous (1000 or 1024?).
constexpr std::array<suffix, 3> suffixes{{
    {"KiB", std::uint64_t{1} << 10},
    {"MiB", std::uint64_t{1} << 20},
    {"GiB", std::uint64_t{1} << 30},
}};

}  // namespace

std::optional<std::uint64_t> parse_byte_size(std::string_view text) {
    // from_chars into an unsigned type already refuses "", "-1", "+1" and " 1".
    std::uint64_t count = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), count);
    if (ec != std::errc{}) return std::nullopt;
    auto unit = text.substr(static_cast<std::size_t>(end - text.data()));
    if (unit.empty()) return count;
    for (const auto& s : suffixes) {
        if (unit != s.text) continue;
        if (count > std::numeric_limits<std::uint64_t>::max() / s.multiplier) return std::nullopt;
        return count * s.multiplier;
    }
    return std::nullopt;
}

}  // namespace gw
