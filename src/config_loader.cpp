#include "gatewayd/config_loader.hpp"

#include "gatewayd/byte_size.hpp"
#include "gatewayd/duration.hpp"

#include <boost/url/parse.hpp>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <functional>
#include <limits>
#include <set>
#include <span>
#include <sstream>
#include <tuple>

namespace gw {

std::string config_error::to_string() const {
    // A problem with the file as a whole (cannot be read) has no position.
    if (line <= 0) return file + ": " + message;
    return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + message;
}

namespace {

using namespace std::string_view_literals;

constexpr std::uint64_t max_threads = 256;
// Under 1 KiB a browser's request line and cookies do not fit; over 1 MiB one slow client could
// pin that much memory per connection before the limit is even checked.
constexpr std::uint64_t min_header_bytes = 1024;
constexpr std::uint64_t max_header_bytes = 1024 * 1024;
// A year is longer than any sensible timeout or window, and now() + it cannot overflow a clock.
constexpr duration max_duration = std::chrono::hours{24 * 365};
constexpr std::uint64_t no_max = std::numeric_limits<std::uint64_t>::max();

constexpr std::array log_levels{"trace"sv, "debug"sv, "info"sv, "warn"sv, "error"sv};
constexpr std::array log_formats{"text"sv, "json"sv};
constexpr std::array rate_limit_stores{"redis"sv, "memory"sv};
constexpr std::array store_error_policies{"memory"sv, "allow"sv, "deny"sv};
constexpr std::array encoded_slash_policies{"reject"sv, "keep"sv};
constexpr std::array http_methods{"GET"sv,   "HEAD"sv,    "POST"sv,  "PUT"sv,    "DELETE"sv,
                                  "PATCH"sv, "OPTIONS"sv, "TRACE"sv, "CONNECT"sv};

constexpr std::string_view duration_hint = " (use 250ms, 3s, 1m, 1h)";
constexpr std::string_view size_hint = " (use 1024, 16KiB, 1MiB, 1GiB)";

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

std::string index_path(const std::string& parent, std::size_t index) {
    return parent + "[" + std::to_string(index) + "]";
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

// One known key of a mapping and how to read its value; a null value keeps the default.
struct field {
    std::string_view name;
    std::function<void(const YAML::Node& value, const std::string& path)> read;
};

// Walks a parsed document into a config, recording every problem instead of stopping at the first.
class config_reader {
public:
    explicit config_reader(std::string file) : file_(std::move(file)) {}

    void fail(const YAML::Mark& mark, std::string message) {
        // yaml-cpp marks are 0-based and -1 when unknown.
        int line = mark.line >= 0 ? mark.line + 1 : 0;
        int column = mark.column >= 0 ? mark.column + 1 : 0;
        errors_.push_back({file_, line, column, std::move(message)});
    }

    void fail(const YAML::Node& at, const std::string& path, std::string_view message) {
        fail(at.Mark(), path.empty() ? std::string{message} : path + ": " + std::string{message});
    }

    // Errors in file order, whatever order the checks ran in.
    std::vector<config_error> take_errors() {
        std::stable_sort(errors_.begin(), errors_.end(), [](const auto& a, const auto& b) {
            return std::tie(a.line, a.column) < std::tie(b.line, b.column);
        });
        return std::move(errors_);
    }

    void read_document(const YAML::Node& root, config& out);

private:
    bool read_mapping(const YAML::Node& node, const std::string& path, std::span<const field> fields);
    void report_unknown_key(const YAML::Node& key, const std::string& path, std::span<const field> fields);

    std::optional<std::string> read_scalar(const YAML::Node& node, const std::string& path,
                                           std::string_view expected);
    void read_bool(const YAML::Node& node, const std::string& path, bool& out);
    void read_string(const YAML::Node& node, const std::string& path, std::string& out);
    void read_uint(const YAML::Node& node, const std::string& path, std::uint64_t& out, std::uint64_t min = 0,
                   std::uint64_t max = no_max);
    void read_duration(const YAML::Node& node, const std::string& path, duration& out,
                       bool allow_zero = false);
    void read_size(const YAML::Node& node, const std::string& path, std::uint64_t& out, std::uint64_t min = 0,
                   std::uint64_t max = no_max);
    void read_ratio(const YAML::Node& node, const std::string& path, double& out);
    void read_enum(const YAML::Node& node, const std::string& path, std::string& out,
                   std::span<const std::string_view> allowed);
    void read_host_port(const YAML::Node& node, const std::string& path, std::string& text, host_port& out);
    void read_url_path(const YAML::Node& node, const std::string& path, std::string& out);

    void read_admin(const YAML::Node& node, const std::string& path, admin_config& out);
    void read_log(const YAML::Node& node, const std::string& path, log_config& out);
    void read_client(const YAML::Node& node, const std::string& path, client_config& out);
    void read_trusted_proxies(const YAML::Node& node, const std::string& path, std::vector<ip_network>& out);
    void read_backends(const YAML::Node& node, const std::string& path, std::vector<backend_config>& out);
    std::optional<backend_config> read_backend_url(const YAML::Node& node, const std::string& path);
    void read_upstream(const YAML::Node& node, const std::string& path, upstream_config& out);
    void read_health_check(const YAML::Node& node, const std::string& path, health_check_config& out);
    void read_circuit_breaker(const YAML::Node& node, const std::string& path, circuit_breaker_config& out);
    void read_rate_limit(const YAML::Node& node, const std::string& path, rate_limit_config& out);
    void read_routes(const YAML::Node& node, const std::string& path, std::vector<route_config>& out);
    void read_route(const YAML::Node& node, const std::string& path, route_config& out,
                    std::set<std::string>& names);
    void read_route_name(const YAML::Node& node, const std::string& path, std::string& out,
                         std::set<std::string>& names);
    void read_route_match(const YAML::Node& node, const std::string& path, route_config& out,
                          bool& has_path_prefix);
    void read_route_host(const YAML::Node& node, const std::string& path, std::string& out);
    void read_methods(const YAML::Node& node, const std::string& path, std::vector<std::string>& out);
    void read_route_rate_limit(const YAML::Node& node, const std::string& path, route_rate_limit& out);
    void read_redis(const YAML::Node& node, const std::string& path, redis_config& out);
    void check_listeners_differ(const config& out);

    std::string file_;
    std::vector<config_error> errors_;
    YAML::Mark admin_listen_mark_;  // where admin.listen was written, for the clash check
};

// Calls each known key's reader; returns false (with an error) when the node is not a mapping.
bool config_reader::read_mapping(const YAML::Node& node, const std::string& path,
                                 std::span<const field> fields) {
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

void config_reader::read_document(const YAML::Node& root, config& out) {
    // An empty file (or one with comments only) is a valid config made of defaults.
    if (root.IsNull()) return;
    const field fields[] = {
        {"listen", [&](auto& v, auto& p) { read_host_port(v, p, out.listen, out.listen_address); }},
        {"threads", [&](auto& v, auto& p) { read_uint(v, p, out.threads, 1, max_threads); }},
        {"shutdown_timeout", [&](auto& v, auto& p) { read_duration(v, p, out.shutdown_timeout); }},
        {"admin", [&](auto& v, auto& p) { read_admin(v, p, out.admin); }},
        {"log", [&](auto& v, auto& p) { read_log(v, p, out.log); }},
        {"client", [&](auto& v, auto& p) { read_client(v, p, out.client); }},
        {"backends", [&](auto& v, auto& p) { read_backends(v, p, out.backends); }},
        {"upstream", [&](auto& v, auto& p) { read_upstream(v, p, out.upstream); }},
        {"health_check", [&](auto& v, auto& p) { read_health_check(v, p, out.health_check); }},
        {"circuit_breaker", [&](auto& v, auto& p) { read_circuit_breaker(v, p, out.circuit_breaker); }},
        {"rate_limit", [&](auto& v, auto& p) { read_rate_limit(v, p, out.rate_limit); }},
        {"routes", [&](auto& v, auto& p) { read_routes(v, p, out.routes); }},
        {"redis", [&](auto& v, auto& p) { read_redis(v, p, out.redis); }},
    };
    if (read_mapping(root, "", fields)) check_listeners_differ(out);
}

void config_reader::read_admin(const YAML::Node& node, const std::string& path, admin_config& out) {
    const field fields[] = {
        {"listen",
         [&](auto& v, auto& p) {
             admin_listen_mark_ = v.Mark();
             // "" is the documented way to turn the admin listener off.
             if (v.IsScalar() && v.Scalar().empty()) {
                 out.listen.clear();
                 out.address.reset();
                 return;
             }
             host_port address;
             std::string text;
             read_host_port(v, p, text, address);
             if (!text.empty()) {
                 out.listen = text;
                 out.address = address;
             }
         }},
    };
    read_mapping(node, path, fields);
}

// Two listeners on one port fail at bind time; saying so in --check-config is friendlier.
void config_reader::check_listeners_differ(const config& out) {
    if (!out.admin.address || out.admin.address->port != out.listen_address.port) return;
    auto is_wildcard = [](const std::string& host) {
        return host.empty() || host == "0.0.0.0" || host == "::";
    };
    const auto& admin_host = out.admin.address->host;
    if (admin_host == out.listen_address.host || is_wildcard(admin_host) ||
        is_wildcard(out.listen_address.host)) {
        fail(admin_listen_mark_,
             "admin.listen: " + quoted(out.admin.listen) + " overlaps listen " + quoted(out.listen));
    }
}

void config_reader::read_log(const YAML::Node& node, const std::string& path, log_config& out) {
    const field fields[] = {
        {"level", [&](auto& v, auto& p) { read_enum(v, p, out.level, log_levels); }},
        {"format", [&](auto& v, auto& p) { read_enum(v, p, out.format, log_formats); }},
        {"access_log", [&](auto& v, auto& p) { read_bool(v, p, out.access_log); }},
    };
    read_mapping(node, path, fields);
}

void config_reader::read_client(const YAML::Node& node, const std::string& path, client_config& out) {
    const field fields[] = {
        {"trusted_proxies", [&](auto& v, auto& p) { read_trusted_proxies(v, p, out.trusted_proxies); }},
        {"header_timeout", [&](auto& v, auto& p) { read_duration(v, p, out.header_timeout); }},
        {"idle_timeout", [&](auto& v, auto& p) { read_duration(v, p, out.idle_timeout); }},
        {"body_timeout", [&](auto& v, auto& p) { read_duration(v, p, out.body_timeout); }},
        {"max_header_bytes",
         [&](auto& v, auto& p) {
             read_size(v, p, out.max_header_bytes, min_header_bytes, max_header_bytes);
         }},
        {"max_body_bytes", [&](auto& v, auto& p) { read_size(v, p, out.max_body_bytes); }},
        {"max_connections", [&](auto& v, auto& p) { read_uint(v, p, out.max_connections, 1); }},
        {"encoded_slashes",
         [&](auto& v, auto& p) {
             std::string policy = out.paths.reject_encoded_slashes ? "reject" : "keep";
             read_enum(v, p, policy, encoded_slash_policies);
             out.paths.reject_encoded_slashes = policy == "reject";
         }},
        {"merge_slashes", [&](auto& v, auto& p) { read_bool(v, p, out.paths.merge_slashes); }},
    };
    read_mapping(node, path, fields);
}

void config_reader::read_trusted_proxies(const YAML::Node& node, const std::string& path,
                                         std::vector<ip_network>& out) {
    if (!node.IsSequence()) {
        fail(node, path, "expected a list of IP addresses or CIDR blocks");
        return;
    }
    std::vector<ip_network> networks;
    std::size_t index = 0;
    for (const auto& item : node) {
        auto item_path = index_path(path, index++);
        auto text = read_scalar(item, item_path, "an IP address or CIDR block");
        if (!text) continue;
        if (auto network = parse_ip_network(*text)) {
            networks.push_back(*network);
        } else {
            fail(item, item_path, quoted(*text) + " is not an IP address or CIDR block");
        }
    }
    out = std::move(networks);
}

void config_reader::read_backends(const YAML::Node& node, const std::string& path,
                                  std::vector<backend_config>& out) {
    if (!node.IsSequence()) {
        fail(node, path, "expected a list of {url: http://host:port}");
        return;
    }
    std::vector<backend_config> backends;
    std::size_t index = 0;
    for (const auto& item : node) {
        auto item_path = index_path(path, index++);
        std::optional<backend_config> backend;
        bool has_url = false;
        const field fields[] = {
            {"url",
             [&](auto& v, auto& p) {
                 has_url = true;
                 backend = read_backend_url(v, p);
                 // One breaker per URL: the same backend twice in a list would double its share.
                 auto same = [&](const backend_config& b) { return backend && b.url == backend->url; };
                 if (std::any_of(backends.begin(), backends.end(), same)) {
                     fail(v, p, "duplicate backend " + quoted(backend->url));
                     backend.reset();
                 }
             }},
        };
        if (!read_mapping(item, item_path, fields)) continue;
        if (!has_url) fail(item, item_path, "\"url\" is required");
        if (backend) backends.push_back(*backend);
    }
    out = std::move(backends);
}

// http://host[:port][/] only; the URL is rewritten in one canonical form (lower-case host, no
// default port, no trailing slash) so that one backend written two ways is still one backend.
std::optional<backend_config> config_reader::read_backend_url(const YAML::Node& node,
                                                              const std::string& path) {
    auto text = read_scalar(node, path, "a URL (http://host:port)");
    if (!text) return std::nullopt;
    auto problem = [&](std::string_view why) {
        fail(node, path, quoted(*text) + ": " + std::string{why});
        return std::nullopt;
    };
    auto parsed = boost::urls::parse_uri(*text);
    if (!parsed) return problem("not a URL (use http://host:port)");
    const auto& url = *parsed;
    if (url.scheme_id() != boost::urls::scheme::http) return problem("the scheme must be http");
    if (url.has_userinfo()) return problem("user info is not allowed");
    if (!url.has_authority() || url.encoded_host().empty()) return problem("a host is required");
    if (url.has_query() || url.has_fragment()) return problem("a query or fragment is not allowed");
    if (!url.encoded_path().empty() && url.encoded_path() != "/") return problem("a path is not allowed");

    std::string port = url.has_port() ? std::string{url.port()} : "80";
    // parse_host_port holds the one definition of a valid host and port; reuse it.
    auto address = parse_host_port(to_lower(url.encoded_host()) + ":" + port);
    if (!address) {
        if (!parse_host_port("localhost:" + port)) return problem("the port must be 1-65535");
        return problem("invalid host");
    }
    backend_config backend{.url = "", .host = address->host, .port = address->port};
    bool bracketed = url.host_type() == boost::urls::host_type::ipv6;
    backend.url = "http://" + (bracketed ? "[" + backend.host + "]" : backend.host);
    if (backend.port != 80) backend.url += ":" + std::to_string(backend.port);
    return backend;
}

void config_reader::read_upstream(const YAML::Node& node, const std::string& path, upstream_config& out) {
    const field fields[] = {
        {"connect_timeout", [&](auto& v, auto& p) { read_duration(v, p, out.connect_timeout); }},
        {"timeout", [&](auto& v, auto& p) { read_duration(v, p, out.timeout); }},
        {"idle_timeout", [&](auto& v, auto& p) { read_duration(v, p, out.idle_timeout); }},
        {"max_idle_per_backend", [&](auto& v, auto& p) { read_uint(v, p, out.max_idle_per_backend); }},
        {"retries", [&](auto& v, auto& p) { read_uint(v, p, out.retries); }},
    };
    read_mapping(node, path, fields);
}

void config_reader::read_health_check(const YAML::Node& node, const std::string& path,
                                      health_check_config& out) {
    const field fields[] = {
        {"enabled", [&](auto& v, auto& p) { read_bool(v, p, out.enabled); }},
        {"path", [&](auto& v, auto& p) { read_url_path(v, p, out.path); }},
        {"interval", [&](auto& v, auto& p) { read_duration(v, p, out.interval); }},
        {"timeout", [&](auto& v, auto& p) { read_duration(v, p, out.timeout); }},
        {"healthy_threshold", [&](auto& v, auto& p) { read_uint(v, p, out.healthy_threshold, 1); }},
        {"unhealthy_threshold", [&](auto& v, auto& p) { read_uint(v, p, out.unhealthy_threshold, 1); }},
    };
    read_mapping(node, path, fields);
}

void config_reader::read_circuit_breaker(const YAML::Node& node, const std::string& path,
                                         circuit_breaker_config& out) {
    const field fields[] = {
        {"enabled", [&](auto& v, auto& p) { read_bool(v, p, out.enabled); }},
        {"min_requests", [&](auto& v, auto& p) { read_uint(v, p, out.min_requests, 1); }},
        {"failure_ratio", [&](auto& v, auto& p) { read_ratio(v, p, out.failure_ratio); }},
        // 0s is meaningful here: closed-state counts are never cleared.
        {"interval", [&](auto& v, auto& p) { read_duration(v, p, out.interval, true); }},
        {"open_timeout", [&](auto& v, auto& p) { read_duration(v, p, out.open_timeout); }},
        {"half_open_max_requests", [&](auto& v, auto& p) { read_uint(v, p, out.half_open_max_requests, 1); }},
    };
    read_mapping(node, path, fields);
}

void config_reader::read_rate_limit(const YAML::Node& node, const std::string& path, rate_limit_config& out) {
    const field fields[] = {
        {"enabled", [&](auto& v, auto& p) { read_bool(v, p, out.enabled); }},
        {"requests", [&](auto& v, auto& p) { read_uint(v, p, out.requests, 1); }},
        {"window", [&](auto& v, auto& p) { read_duration(v, p, out.window); }},
        {"key_prefix", [&](auto& v, auto& p) { read_string(v, p, out.key_prefix); }},
        {"store", [&](auto& v, auto& p) { read_enum(v, p, out.store, rate_limit_stores); }},
        {"on_store_error",
         [&](auto& v, auto& p) { read_enum(v, p, out.on_store_error, store_error_policies); }},
        {"headers", [&](auto& v, auto& p) { read_bool(v, p, out.headers); }},
    };
    read_mapping(node, path, fields);
}

void config_reader::read_routes(const YAML::Node& node, const std::string& path,
                                std::vector<route_config>& out) {
    if (!node.IsSequence()) {
        fail(node, path, "expected a list of routes");
        return;
    }
    std::vector<route_config> routes;
    std::set<std::string> names;
    std::size_t index = 0;
    for (const auto& item : node) {
        route_config route;
        read_route(item, index_path(path, index++), route, names);
        routes.push_back(std::move(route));
    }
    out = std::move(routes);
}

void config_reader::read_route(const YAML::Node& node, const std::string& path, route_config& out,
                               std::set<std::string>& names) {
    bool has_name = false;
    bool has_path_prefix = false;
    const field fields[] = {
        {"name",
         [&](auto& v, auto& p) {
             has_name = true;
             read_route_name(v, p, out.name, names);
         }},
        {"match", [&](auto& v, auto& p) { read_route_match(v, p, out, has_path_prefix); }},
        {"strip_prefix", [&](auto& v, auto& p) { read_bool(v, p, out.strip_prefix); }},
        {"backends", [&](auto& v, auto& p) { read_backends(v, p, out.backends.emplace()); }},
        {"rate_limit", [&](auto& v, auto& p) { read_route_rate_limit(v, p, out.rate_limit.emplace()); }},
    };
    if (!read_mapping(node, path, fields)) return;
    if (!has_name) fail(node, path, "\"name\" is required");
    if (!has_path_prefix) fail(node, path, "\"match.path_prefix\" is required");
}

void config_reader::read_route_name(const YAML::Node& node, const std::string& path, std::string& out,
                                    std::set<std::string>& names) {
    auto text = read_scalar(node, path, "a name");
    if (!text) return;
    // The name ends up in Redis keys and metric labels, so it stays within a safe alphabet.
    auto allowed = [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    };
    if (text->empty() || !std::all_of(text->begin(), text->end(), allowed)) {
        fail(node, path, quoted(*text) + " must match [a-z0-9_-]+");
    } else if (!names.insert(*text).second) {
        fail(node, path, "duplicate route name " + quoted(*text));
    } else {
        out = *text;
    }
}

void config_reader::read_route_match(const YAML::Node& node, const std::string& path, route_config& out,
                                     bool& has_path_prefix) {
    const field fields[] = {
        {"path_prefix",
         [&](auto& v, auto& p) {
             has_path_prefix = true;
             read_url_path(v, p, out.path_prefix);
             if (out.path_prefix.find_first_of("?#") != std::string::npos) {
                 fail(v, p, "must not contain \"?\" or \"#\"");
             }
         }},
        {"host", [&](auto& v, auto& p) { read_route_host(v, p, out.host); }},
        {"methods", [&](auto& v, auto& p) { read_methods(v, p, out.methods); }},
    };
    read_mapping(node, path, fields);
}

// Matched against the Host header case-insensitively with the port ignored, so it is stored
// lower-case and may not carry a port itself.
void config_reader::read_route_host(const YAML::Node& node, const std::string& path, std::string& out) {
    auto text = read_scalar(node, path, "a host name");
    if (!text || text->empty()) return;
    // Borrow parse_host_port's host rules with a dummy port; "[::1]" keeps its brackets for matching.
    auto parsed = parse_host_port(*text + ":1");
    if (!parsed) {
        fail(node, path, quoted(*text) + " is not a host name (no scheme, port or path)");
        return;
    }
    out = to_lower(*text);
}

void config_reader::read_methods(const YAML::Node& node, const std::string& path,
                                 std::vector<std::string>& out) {
    if (!node.IsSequence()) {
        fail(node, path, "expected a list of HTTP methods");
        return;
    }
    std::vector<std::string> methods;
    std::size_t index = 0;
    for (const auto& item : node) {
        auto item_path = index_path(path, index++);
        auto text = read_scalar(item, item_path, "an HTTP method");
        if (!text) continue;
        auto method = to_upper(*text);
        if (std::find(http_methods.begin(), http_methods.end(), method) == http_methods.end()) {
            fail(item, item_path, quoted(*text) + " is not one of " + join(http_methods));
        } else if (std::find(methods.begin(), methods.end(), method) != methods.end()) {
            fail(item, item_path, "duplicate method " + quoted(method));
        } else {
            methods.push_back(method);
        }
    }
    out = std::move(methods);
}

void config_reader::read_route_rate_limit(const YAML::Node& node, const std::string& path,
                                          route_rate_limit& out) {
    const field fields[] = {
        {"enabled", [&](auto& v, auto& p) { read_bool(v, p, out.enabled.emplace()); }},
        {"requests", [&](auto& v, auto& p) { read_uint(v, p, out.requests.emplace(), 1); }},
        {"window", [&](auto& v, auto& p) { read_duration(v, p, out.window.emplace()); }},
    };
    read_mapping(node, path, fields);
}

void config_reader::read_redis(const YAML::Node& node, const std::string& path, redis_config& out) {
    const field fields[] = {
        {"address", [&](auto& v, auto& p) { read_host_port(v, p, out.address, out.endpoint); }},
        {"password", [&](auto& v, auto& p) { read_string(v, p, out.password); }},
        {"db", [&](auto& v, auto& p) { read_uint(v, p, out.db); }},
        {"timeout", [&](auto& v, auto& p) { read_duration(v, p, out.timeout); }},
    };
    read_mapping(node, path, fields);
}

// Notes where documents start without building them. yaml-cpp 0.7's LoadAll never returns on
// some inputs (a lone ",": found by the config fuzzer), so at most two documents are looked at.
class document_starts : public YAML::EventHandler {
public:
    void OnDocumentStart(const YAML::Mark& mark) override { marks.push_back(mark); }
    void OnDocumentEnd() override {}
    void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
    void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
    void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
    void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
    void OnSequenceEnd() override {}
    void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
    void OnMapEnd() override {}

    std::vector<YAML::Mark> marks;
};

}  // namespace

config_result load_config_text(std::string_view yaml, const std::string& file_name) {
    config_reader reader{file_name};
    config value;
    try {
        const std::string text{yaml};
        std::istringstream stream{text};
        YAML::Parser parser{stream};
        document_starts starts;
        for (int i = 0; i < 2 && parser.HandleNextDocument(starts); ++i) {
        }
        if (starts.marks.size() > 1 && starts.marks[1].pos == starts.marks[0].pos) {
            // A "document" that consumed nothing: text yaml-cpp cannot read as YAML at all.
            reader.fail(starts.marks[0], "invalid YAML: no document can be read here");
        } else if (starts.marks.size() > 1) {
            reader.fail(starts.marks[1], "only one YAML document is allowed");
        } else {
            // An empty file is no document: the defaults, as before.
            if (!starts.marks.empty()) reader.read_document(YAML::Load(text), value);
        }
    } catch (const YAML::Exception& e) {
        reader.fail(e.mark, "invalid YAML: " + e.msg);
    }
    config_result result;
    result.errors = reader.take_errors();
    if (result.errors.empty()) result.value = std::move(value);
    return result;
}

config_result load_config_file(const std::string& path) {
    std::ifstream in{path, std::ios::binary};
    if (!in) {
        int error = errno;
        return {.value = std::nullopt,
                .errors = {{path, 0, 0, std::string{"cannot read: "} + std::strerror(error)}}};
    }
    std::ostringstream text;
    text << in.rdbuf();
    return load_config_text(text.str(), path);
}

}  // namespace gw
