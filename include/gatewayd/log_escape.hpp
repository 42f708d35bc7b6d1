#pragma once

#include <string>
#include <string_view>

namespace gw {

// A value as the inside of a JSON string.
std::string json_escape(std::string_view value);

// A value for a space-separated text log line: controls, spaces, quotes and backslashes become
// \xNN, so a request cannot forge or split log lines.
std::string text_escape(std::string_view value);

}  // namespace gw
