#pragma once

#include "gatewayd/config/config.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gw {

// One problem in a config file, reported as FILE:LINE:COLUMN: message (line and column 1-based).
struct config_error {
    std::string file;
    int line = 0;
    int column = 0;
    std::string message;
    std::string to_string() const;
};

// Either a complete, validated config or every problem found; never both.
struct config_result {
    std::optional<config> value;
    std::vector<config_error> errors;
};

config_result load_config_file(const std::string& path);
config_result load_config_text(std::string_view yaml, const std::string& file_name);

// Every key the loader accepts, as a dotted path ("client.max_header_bytes"); list items are
// "[]" ("routes[].match.path_prefix"). docs/configuration.md documents exactly these.
std::vector<std::string> config_key_paths();

}  // namespace gw
