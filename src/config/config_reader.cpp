#include "config_reader.hpp"

#include "gatewayd/config/byte_size.hpp"
#include "gatewayd/config/duration.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>

namespace gw::config_detail {

std::string quoted(std::string_view text) {
    return "\"" + std::string{text} + "\"";
}

std::string join(std::span<const std::string_view> words) {
    std::string text;
    for (auto word : words) {
        if (!text.empty()) text += ", ";
        text += word;
    }
    return text;
}

std::string to_lower(std::string_view text) {
    std::string lower{text};
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    return lower;
}

std::string to_upper(std::string_view text) {
    std::string upper{text};
    std::transform(upper.begin(), upper.end(), upper.begin(),
                   [](unsigned char c) { return std::toupper(c); });
    return upper;
}

// "1KiB" rather than "1024" when the value is a whole unit, so limits read as they are written.
std::string format_size(std::uint64_t bytes) {
    constexpr std::array<std::pair<std::uint64_t, std::string_view>, 3> units{
        {{1ULL << 30, "GiB"}, {1ULL << 20, "MiB"}, {1ULL << 10, "KiB"}}};
    for (auto [size, name] : units) {
        if (bytes != 0 && bytes % size == 0) return std::to_string(bytes / size) + std::string{name};
    }
    return std::to_string(bytes);
}

std::string child_path(const std::string& parent, std::string_view key) {
    return parent.empty() ? std::string{key} : parent + "." + std::string{key};
}

std::string config_reader::item_path(const std::string& parent, std::size_t index) const {
    return parent + "[" + (listed_ != nullptr ? std::string() : std::to_string(index)) + "]";
}

std::vector<YAML::Node> config_reader::items_of(const YAML::Node& list) const {
    if (listed_ != nullptr) return {YAML::Node(YAML::NodeType::Map)};
    return {list.begin(), list.end()};
}

std::vector<std::string> config_reader::list_keys() {
    std::vector<std::string> keys;
    listed_ = &keys;
    config ignored;
    read_document(YAML::Node(YAML::NodeType::Map), ignored);
    listed_ = nullptr;
    errors_.clear();
    return keys;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            std::size_t above = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
            diagonal = above;
        }
    }
    return row[b.size()];
}

bool is_digits(std::string_view text) {
    return !text.empty() &&
           std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Bytes that would break a request line or a header when the text is sent on the wire.
bool has_space_or_control(std::string_view text) {
    return std::any_of(text.begin(), text.end(), [](unsigned char c) { return c <= 0x20 || c == 0x7f; });
}

// Quoted scalars are text: `threads: "4"` is a string, not a number, as in any typed YAML reader.
bool is_quoted(const YAML::Node& node) {
    return node.Tag() == "!";
}


// Calls each known key's reader; returns false (with an error) when the node is not a mapping.
bool config_reader::read_mapping(const YAML::Node& node, const std::string& path,
                                 std::span<const field> fields) {
    if (listed_ != nullptr) {
        // Every known key, and the keys below it through an empty mapping of its own.
        for (const auto& f : fields) {
            const std::string key = child_path(path, f.name);
            listed_->push_back(key);
            f.read(YAML::Node(YAML::NodeType::Map), key);
        }
        return true;
    }
    if (!node.IsMap()) {
        fail(node, path, path.empty() ? "the top level must be a mapping" : "expected a mapping");
        return false;
    }
    std::set<std::string> seen;
    for (const auto& pair : node) {
        const YAML::Node& key = pair.first;
        if (!key.IsScalar()) {
            fail(key, path, "a key must be a plain name");
            continue;
        }
        auto known = std::find_if(fields.begin(), fields.end(),
                                  [&](const field& f) { return f.name == key.Scalar(); });
        if (known == fields.end()) {
            report_unknown_key(key, path, fields);
            continue;
        }
        // yaml-cpp keeps both copies of a repeated key; the second would silently win elsewhere.
        if (!seen.insert(key.Scalar()).second) {
            fail(key.Mark(),
                 "duplicate key " + quoted(key.Scalar()) + (path.empty() ? "" : " in " + quoted(path)));
            continue;
        }
        if (!pair.second.IsNull()) known->read(pair.second, child_path(path, key.Scalar()));
    }
    return true;
}

void config_reader::report_unknown_key(const YAML::Node& key, const std::string& path,
                                       std::span<const field> fields) {
    std::string message = "unknown key " + quoted(key.Scalar());
    if (!path.empty()) message += " in " + quoted(path);
    // Suggest a known key only when it is a plausible typo, not a different word.
    std::string_view best;
    std::size_t best_distance = 3;
    for (const auto& f : fields) {
        auto distance = edit_distance(key.Scalar(), f.name);
        if (distance < best_distance && distance < f.name.size()) {
            best = f.name;
            best_distance = distance;
        }
    }
    if (!best.empty()) message += " (did you mean " + quoted(best) + "?)";
    fail(key.Mark(), message);
}

std::optional<std::string> config_reader::read_scalar(const YAML::Node& node, const std::string& path,
                                                      std::string_view expected) {
    if (node.IsScalar()) return node.Scalar();
    fail(node, path, "expected " + std::string{expected});
    return std::nullopt;
}

void config_reader::read_bool(const YAML::Node& node, const std::string& path, bool& out) {
    // Only YAML 1.2 booleans: "yes", "on" and "n" are exactly the kind of thing that surprises.
    static constexpr std::array truths{"true"sv, "True"sv, "TRUE"sv};
    static constexpr std::array falsehoods{"false"sv, "False"sv, "FALSE"sv};
    if (node.IsScalar() && !is_quoted(node)) {
        const auto& text = node.Scalar();
        if (std::find(truths.begin(), truths.end(), text) != truths.end()) {
            out = true;
            return;
        }
        if (std::find(falsehoods.begin(), falsehoods.end(), text) != falsehoods.end()) {
            out = false;
            return;
        }
    }
    fail(node, path, "expected true or false");
}

void config_reader::read_string(const YAML::Node& node, const std::string& path, std::string& out) {
    if (auto text = read_scalar(node, path, "a string")) out = *text;
}

void config_reader::read_uint(const YAML::Node& node, const std::string& path, std::uint64_t& out,
                              std::uint64_t min, std::uint64_t max) {
    std::uint64_t value = 0;
    const std::string& text = node.IsScalar() ? node.Scalar() : std::string{};
    // Plain decimal digits only: no sign, no 0x, no 1e3, no quotes.
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (!node.IsScalar() || is_quoted(node) || !is_digits(text) || ec != std::errc{} ||
        end != text.data() + text.size()) {
        fail(node, path, "expected a non-negative integer");
        return;
    }
    if (value < min || value > max) {
        fail(node, path,
             max == no_max ? "must be at least " + std::to_string(min)
                           : "must be between " + std::to_string(min) + " and " + std::to_string(max));
        return;
    }
    out = value;
}

void config_reader::read_duration(const YAML::Node& node, const std::string& path, duration& out,
                                  bool allow_zero) {
    auto text = read_scalar(node, path, "a duration" + std::string{duration_hint});
    if (!text) return;
    auto value = parse_duration(*text);
    if (!value) {
        fail(node, path, quoted(*text) + " is not a duration" + std::string{duration_hint});
    } else if (*value == duration::zero() && !allow_zero) {
        fail(node, path, "must be greater than 0s");
    } else if (*value > max_duration) {
        fail(node, path, "must be at most " + format_duration(max_duration));
    } else {
        out = *value;
    }
}

void config_reader::read_size(const YAML::Node& node, const std::string& path, std::uint64_t& out,
                              std::uint64_t min, std::uint64_t max) {
    auto text = read_scalar(node, path, "a size" + std::string{size_hint});
    if (!text) return;
    auto value = parse_byte_size(*text);
    if (!value) {
        fail(node, path, quoted(*text) + " is not a size" + std::string{size_hint});
    } else if (*value < min || *value > max) {
        fail(node, path, "must be between " + format_size(min) + " and " + format_size(max));
    } else {
        out = *value;
    }
}

void config_reader::read_ratio(const YAML::Node& node, const std::string& path, double& out) {
    std::string text = node.IsScalar() && !is_quoted(node) ? node.Scalar() : std::string{};
    // YAML writes ".5" and "+0.5"; from_chars wants a digit first.
    if (text.starts_with('+')) text.erase(0, 1);
    if (text.starts_with('.')) text.insert(0, "0");
    double value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || !std::isfinite(value)) {
        fail(node, path, "expected a number");
    } else if (value <= 0 || value > 1) {
        fail(node, path, "must be greater than 0 and at most 1");
    } else {
        out = value;
    }
}

void config_reader::read_enum(const YAML::Node& node, const std::string& path, std::string& out,
                              std::span<const std::string_view> allowed) {
    auto text = read_scalar(node, path, "one of " + join(allowed));
    if (!text) return;
    if (std::find(allowed.begin(), allowed.end(), *text) == allowed.end()) {
        fail(node, path, quoted(*text) + " is not one of " + join(allowed));
        return;
    }
    out = *text;
}

void config_reader::read_host_port(const YAML::Node& node, const std::string& path, std::string& text,
                                   host_port& out) {
    auto value = read_scalar(node, path, "host:port");
    if (!value) return;
    auto parsed = parse_host_port(*value);
    if (!parsed) {
        fail(node, path, quoted(*value) + " is not host:port (e.g. 0.0.0.0:8080 or [::1]:8080)");
        return;
    }
    text = *value;
    out = *parsed;
}

void config_reader::read_optional_listen(const YAML::Node& node, const std::string& path, std::string& text,
                                         std::optional<host_port>& out) {
    if (node.IsScalar() && node.Scalar().empty()) {
        text.clear();
        out.reset();
        return;
    }
    host_port address;
    std::string value;
    read_host_port(node, path, value, address);
    if (!value.empty()) {
        text = value;
        out = address;
    }
}

// A path sent on the wire as is, so it must be one: leading "/" and nothing that ends the token.
void config_reader::read_url_path(const YAML::Node& node, const std::string& path, std::string& out) {
    auto value = read_scalar(node, path, "a path");
    if (!value) return;
    if (!value->starts_with('/')) {
        fail(node, path, "must start with \"/\"");
    } else if (has_space_or_control(*value)) {
        fail(node, path, "must not contain spaces or control characters");
    } else {
        out = *value;
    }
}

}  // namespace gw::config_detail
