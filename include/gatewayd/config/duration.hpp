#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace gw {

// "250ms", "3s", "1m", "1h", and sums of them such as "1m30s"; a unit is required.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

// The shortest text that parse_duration reads back as the same value ("1m30s", "250ms", "0s").
std::string format_duration(std::chrono::milliseconds value);

}  // namespace gw
