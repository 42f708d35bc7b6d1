#pragma once

#include <string>
#include <string_view>

namespace gw {

// A value as the inside of a JSON string.
std::string json_escape(std::string_view value);

// A value for a space-separated text log line: controls, spaces, quotes and backslashes become
// \xNN, so a request cannot forge or split log lines.
std::string text_escape(std::string_view value);

// The same, appended to `out` (no temporary string: the access log runs this per request).
void append_json_escaped(std::string& out, std::string_view value);
void append_text_escaped(std::string& out, std::string_view value);

}  // namespace gw
