// parse_duration / format_duration and parse_byte_size on arbitrary text: never crash, and every
// value read back from its own text is the same value.
#include "fuzz_check.hpp"

#include "gatewayd/config/byte_size.hpp"
#include "gatewayd/config/duration.hpp"

#include <array>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>

namespace {

using std::chrono::milliseconds;

void check_duration_text(std::string_view text) {
    const auto parsed = gw::parse_duration(text);
    if (!parsed) return;
    FUZZ_CHECK(parsed->count() >= 0);
    // Only digits and unit letters can make a duration.
    FUZZ_CHECK(text.find_first_not_of("0123456789hms") == std::string_view::npos);
    const std::string formatted = gw::format_duration(*parsed);
    const auto again = gw::parse_duration(formatted);
    FUZZ_CHECK(again && *again == *parsed);
    // The formatted text is canonical: formatting what it reads gives the same text.
    FUZZ_CHECK(gw::format_duration(*again) == formatted);
}

void check_duration_value(std::int64_t millis) {
    if (millis < 0) return;  // negative durations are for logs only, never parsed
    const std::string formatted = gw::format_duration(milliseconds{millis});
    const auto parsed = gw::parse_duration(formatted);
    FUZZ_CHECK(parsed && parsed->count() == millis);
}

constexpr std::array<std::pair<std::uint64_t, std::string_view>, 3> size_units{
    {{std::uint64_t{1} << 10, "KiB"}, {std::uint64_t{1} << 20, "MiB"}, {std::uint64_t{1} << 30, "GiB"}}};

void check_size_value(std::uint64_t bytes) {
    FUZZ_CHECK(gw::parse_byte_size(std::to_string(bytes)) == bytes);
    for (const auto& [unit, suffix] : size_units) {
        if (bytes % unit != 0) continue;
        FUZZ_CHECK(gw::parse_byte_size(std::to_string(bytes / unit) + std::string{suffix}) == bytes);
    }
}

void check_size_text(std::string_view text) {
    const auto parsed = gw::parse_byte_size(text);
    if (!parsed) return;
    FUZZ_CHECK(!text.empty() && text.front() >= '0' && text.front() <= '9');
    check_size_value(*parsed);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text{reinterpret_cast<const char*>(data), size};
    check_duration_text(text);
    check_size_text(text);
    // The same bytes read as a number exercise values no text seed would reach.
    if (size >= sizeof(std::uint64_t)) {
        std::uint64_t raw = 0;
        std::memcpy(&raw, data, sizeof raw);
        check_duration_value(static_cast<std::int64_t>(raw & static_cast<std::uint64_t>(
                                                                   std::numeric_limits<std::int64_t>::max())));
        check_size_value(raw);
    }
    return 0;
}
