#include "gatewayd/config/duration.hpp"

#include <array>
#include <charconv>
#include <cstdint>
#include <limits>

namespace gw {

namespace {

struct unit {
    std::string_view suffix;
    std::int64_t millis;
};

// Largest first: a duration names each unit at most once, in this order ("1h30m", not "30m1h").
constexpr std::array<unit, 4> units{{
    {"h", 3'600'000},
    {"m", 60'000},
    {"s", 1'000},
    {"ms", 1},
}};

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

// The unit at the start of `text`; "ms" is tried before "m" so that "250ms" is not "250m" + "s".
std::optional<std::size_t> match_unit(std::string_view text) {
    if (text.starts_with("ms")) return 3;
    for (std::size_t i = 0; i < 3; ++i) {
        if (text.starts_with(units[i].suffix)) return i;
    }
    return std::nullopt;
}

}  // namespace

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
    if (text.empty()) return std::nullopt;
    constexpr auto max = std::numeric_limits<std::int64_t>::max();
    std::int64_t total = 0;
    std::size_t next_unit = 0;  // units before this index were already used or skipped
    while (!text.empty()) {
        // A sign, a space or a fraction is not a digit, so from_chars alone would be too lenient.
        if (!is_digit(text.front())) return std::nullopt;
        std::uint64_t count = 0;
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), count);
        if (ec != std::errc{}) return std::nullopt;
        text.remove_prefix(static_cast<std::size_t>(end - text.data()));

        auto index = match_unit(text);
        if (!index || *index < next_unit) return std::nullopt;
        text.remove_prefix(units[*index].suffix.size());
        next_unit = *index + 1;

        auto per = static_cast<std::uint64_t>(units[*index].millis);
        if (count > static_cast<std::uint64_t>(max) / per) return std::nullopt;
        auto part = static_cast<std::int64_t>(count * per);
        if (total > max - part) return std::nullopt;
        total += part;
    }
    return std::chrono::milliseconds{total};
}

std::string format_duration(std::chrono::milliseconds value) {
    auto rest = value.count();
    if (rest == 0) return "0s";
    std::string text;
    // Negative values cannot be parsed back; they are shown with a sign for logs only.
    if (rest < 0) {
        text += '-';
        if (rest == std::numeric_limits<std::int64_t>::min()) return text + "9223372036854775808ms";
        rest = -rest;
    }
    for (const auto& u : units) {
        if (rest >= u.millis) {
            text += std::to_string(rest / u.millis);
            text += u.suffix;
            rest %= u.millis;
        }
    }
    return text;
}

}  // namespace gw
