#include "config_reader.hpp"

#include "gatewayd/limit/limit_key.hpp"

#include <algorithm>

// The rate_limit block (rule `default` and its `rules`) and a route's rate_limit.

namespace gw::config_detail {

namespace {

// A route's or a rule's own algorithm, or the one it inherits.
std::string route_algorithm(const config& settings, std::size_t route) {
    const auto& own = settings.routes[route].rate_limit;
    return own && own->algorithm ? *own->algorithm : settings.rate_limit.algorithm;
}

const rate_limit_rule_config& rule_of(const config& settings, std::optional<std::size_t> route, std::size_t rule) {
    if (route) return (*settings.routes[*route].rate_limit->rules)[rule];
    return settings.rate_limit.rules[rule];
}

}  // namespace

void config_reader::read_rate_limit(const YAML::Node& node, const std::string& path, rate_limit_config& out) {
    const field fields[] = {
        {"enabled", [&](auto& v, auto& p) { read_bool(v, p, out.enabled); }},
        {"requests", [&](auto& v, auto& p) { read_uint(v, p, out.requests, 1); }},
        {"window", [&](auto& v, auto& p) { read_duration(v, p, out.window); }},
        {"algorithm", [&](auto& v, auto& p) { read_enum(v, p, out.algorithm, limit_algorithm_names); }},
        {"burst",
         [&](auto& v, auto& p) {
             read_uint(v, p, out.burst);
             bursts_.push_back({v.Mark(), p, out.burst, [](const config& c) { return c.rate_limit.algorithm; }});
         }},
        {"key", [&](auto& v, auto& p) { read_limit_key(v, p, out.key); }},
        {"shadow", [&](auto& v, auto& p) { read_bool(v, p, out.shadow); }},
        {"key_prefix", [&](auto& v, auto& p) { read_string(v, p, out.key_prefix); }},
        {"store", [&](auto& v, auto& p) { read_enum(v, p, out.store, rate_limit_stores); }},
        {"on_store_error",
         [&](auto& v, auto& p) { read_enum(v, p, out.on_store_error, store_error_policies); }},
        {"headers", [&](auto& v, auto& p) { read_bool(v, p, out.headers); }},
        {"standard_headers", [&](auto& v, auto& p) { read_bool(v, p, out.standard_headers); }},
        {"rules", [&](auto& v, auto& p) { read_limit_rules(v, p, out.rules, std::nullopt); }},
    };
    read_mapping(node, path, fields);
}

void config_reader::read_route_rate_limit(const YAML::Node& node, const std::string& path, route_rate_limit& out,
                                          std::size_t route) {
    const field fields[] = {
        {"enabled", [&](auto& v, auto& p) { read_bool(v, p, out.enabled.emplace()); }},
        {"requests", [&](auto& v, auto& p) { read_uint(v, p, out.requests.emplace(), 1); }},
        {"window", [&](auto& v, auto& p) { read_duration(v, p, out.window.emplace()); }},
        {"algorithm",
         [&](auto& v, auto& p) { read_enum(v, p, out.algorithm.emplace(), limit_algorithm_names); }},
        {"burst",
         [&](auto& v, auto& p) {
             read_uint(v, p, out.burst.emplace());
             bursts_.push_back({v.Mark(), p, *out.burst, [route](const config& c) { return route_algorithm(c, route); }});
         }},
        {"key", [&](auto& v, auto& p) { read_limit_key(v, p, out.key.emplace()); }},
        {"shadow", [&](auto& v, auto& p) { read_bool(v, p, out.shadow.emplace()); }},
        {"rules", [&](auto& v, auto& p) { read_limit_rules(v, p, out.rules.emplace(), route); }},
    };
    read_mapping(node, path, fields);
}

void config_reader::read_limit_rules(const YAML::Node& node, const std::string& path,
                                     std::vector<rate_limit_rule_config>& out, std::optional<std::size_t> route) {
    if (!is_list(node)) {
        fail(node, path, "expected a list of rules ({name, requests, window, ...})");
        return;
    }
    std::vector<rate_limit_rule_config> rules;
    std::set<std::string> names;
    std::size_t index = 0;
    for (const auto& item : items_of(node)) {
        const std::string at = item_path(path, index);
        rate_limit_rule_config rule;
        bool has_name = false;
        const field fields[] = {
            {"name",
             [&](auto& v, auto& p) {
                 has_name = true;
                 read_rule_name(v, p, rule.name, names);
             }},
            {"requests", [&](auto& v, auto& p) { read_uint(v, p, rule.requests.emplace(), 1); }},
            {"window", [&](auto& v, auto& p) { read_duration(v, p, rule.window.emplace()); }},
            {"algorithm",
             [&](auto& v, auto& p) { read_enum(v, p, rule.algorithm.emplace(), limit_algorithm_names); }},
            {"burst",
             [&](auto& v, auto& p) {
                 read_uint(v, p, rule.burst.emplace());
                 bursts_.push_back({v.Mark(), p, *rule.burst, [route, index](const config& c) {
                                        const auto& r = rule_of(c, route, index);
                                        if (r.algorithm) return *r.algorithm;
                                        return route ? route_algorithm(c, *route) : c.rate_limit.algorithm;
                                    }});
             }},
            {"key", [&](auto& v, auto& p) { read_limit_key(v, p, rule.key.emplace()); }},
            {"shadow", [&](auto& v, auto& p) { read_bool(v, p, rule.shadow.emplace()); }},
        };
        if (read_mapping(item, at, fields) && !has_name) fail(item, at, "\"name\" is required");
        rules.push_back(std::move(rule));
        ++index;
    }
    out = std::move(rules);
}

// In Redis keys and metric labels: a safe alphabet, unique, and not the block's own name.
void config_reader::read_rule_name(const YAML::Node& node, const std::string& path, std::string& out,
                                   std::set<std::string>& names) {
    auto text = read_scalar(node, path, "a name");
    if (!text) return;
    auto allowed = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'; };
    if (text->empty() || !std::all_of(text->begin(), text->end(), allowed)) {
        fail(node, path, quoted(*text) + " must match [a-z0-9_-]+");
    } else if (*text == "default") {
        fail(node, path, "\"default\" is the name of the rate_limit block's own rule; choose another");
    } else if (*text == "ip") {
        // <key_prefix>ip:<client> is where a header-keyed rule counts requests without the header.
        fail(node, path, "\"ip\" is reserved (requests without a rule's header count under ip:<client>)");
    } else if (!names.insert(*text).second) {
        fail(node, path, "duplicate rule name " + quoted(*text));
    } else {
        out = *text;
        rule_names_.push_back({node.Mark(), path, *text});
    }
}

void config_reader::read_limit_key(const YAML::Node& node, const std::string& path, std::string& out) {
    auto text = read_scalar(node, path, "client_ip, header:<Name> or global");
    if (!text) return;
    if (*text == "header:") {
        fail(node, path, "the header name is empty (use header:<Name>, e.g. header:X-Api-Key)");
    } else if (!parse_limit_key(*text)) {
        fail(node, path, quoted(*text) + " is not client_ip, header:<Name> or global");
    } else {
        out = *text;
    }
}

// Keys are <key_prefix>[<route>:][<rule>:]<key>: a rule named like a route with limits of its
// own would share that route's keys, and a route named ip those of header-keyed rules.
void config_reader::check_key_collisions(const config& out) {
    std::set<std::string> limited_routes;
    for (const auto& route : out.routes) {
        if (route.rate_limit) limited_routes.insert(route.name);
    }
    for (const auto& rule : rule_names_) {
        if (limited_routes.contains(rule.name)) {
            fail(rule.mark, rule.path + ": \"" + rule.name +
                                "\" is also the name of a route with its own rate_limit; their Redis keys would mix");
        }
    }
    bool header_keys = out.rate_limit.key.starts_with("header:");
    for (const auto& rule : out.rate_limit.rules) header_keys = header_keys || rule.key.value_or("").starts_with("header:");
    for (const auto& route : out.routes) {
        if (!route.rate_limit) continue;
        header_keys = header_keys || route.rate_limit->key.value_or("").starts_with("header:");
        for (const auto& rule : route.rate_limit->rules.value_or(std::vector<rate_limit_rule_config>{})) {
            header_keys = header_keys || rule.key.value_or("").starts_with("header:");
        }
    }
    if (!header_keys) return;
    for (const auto& route : route_names_) {
        if (route.name == "ip" && limited_routes.contains("ip")) {
            fail(route.mark, route.path + ": a route named \"ip\" with its own rate_limit would share keys with "
                                          "requests a header-keyed rule counts by ip:<client>; rename the route");
        }
    }
}

void config_reader::check_bursts(const config& out) {
    for (std::size_t i = 0; i < bursts_.size(); ++i) {
        const auto& use = bursts_[i];
        if (use.value == 0) continue;
        const std::string algorithm = use.algorithm(out);
        if (algorithm != "gcra") {
            fail(use.mark, use.path + ": burst applies to gcra only (this rule's algorithm is " + algorithm + ")");
        }
    }
}

}  // namespace gw::config_detail
