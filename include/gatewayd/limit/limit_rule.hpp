#pragma once

#include "gatewayd/config/config.hpp"
#include "gatewayd/limit/limit_algorithm.hpp"
#include "gatewayd/limit/limit_key.hpp"

#include <array>
#include <string>
#include <vector>

namespace gw {

// One rate-limit rule as requests meet it: how it counts, what it allows, whom it counts and
// where its keys live. Built once per config, so that a request formats nothing but its key.
struct limit_rule {
    std::string name = "default";
    const limit_algorithm* algorithm = nullptr;
    limit_params params;
    bool shadow = false;       // counted and reported, never refusing
    limit_key key;
    std::string key_prefix;    // a client's Redis key is key_prefix + limit_key_part(...)
    // The rule's arguments to the limit script (algorithm, requests, window ms, burst, shadow).
    std::array<std::string, 5> script_args;
};

limit_rule make_limit_rule(std::string name, const limit_algorithm* algorithm, limit_params params, bool shadow,
                           std::string key_prefix, limit_key key = {});

// What requests on one route (or on none) are limited by: the policy (store, on_store_error,
// headers) and the rules — `default` first, then the others — with the route's fields over
// the top level's.
struct rate_limit_plan {
    rate_limit_config settings;
    std::vector<limit_rule> rules;
    // RateLimit-Policy for standard_headers: one member per enforcing rule,
    // `"default";q=100;w=60, "burst";q=10;w=1`.
    std::string policy_header;
};

// The plan for requests on `route` (nullptr: no route matched). Key prefixes: `default` keeps
// <key_prefix> and <key_prefix><route>:, another rule adds its name: <key_prefix>[<route>:]<rule>:.
rate_limit_plan plan_rate_limits(const config& settings, const route_config* route);

}  // namespace gw
