#pragma once

#include "gatewayd/upstream/backend_state.hpp"
#include "gatewayd/config/config.hpp"
#include "gatewayd/limit/limit_rule.hpp"
#include "gatewayd/upstream/round_robin.hpp"
#include "gatewayd/chain/route_table.hpp"

#include "gatewayd/io/net.hpp"
#include "gatewayd/io/timed_stream.hpp"
#include "gatewayd/tls/client_context.hpp"

#include <chrono>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace gw {

using steady_clock = std::chrono::steady_clock;

// Kept as a bare socket (with its TLS session for an https backend): a pooled connection
// needs no timer until it is used again.
struct idle_connection {
    net::socket socket;
    tls::ssl_ptr ssl;  // null: plain TCP
    steady_clock::time_point idle_since;
};

// One backend as one event loop sees it: where it is, its idle connections and its counters;
// its health and breaker are the process's (`state`, shared by every loop).
struct backend {
    backend(backend_config where, boost::asio::ip::tcp::endpoint address, std::shared_ptr<backend_state> shared)
        : settings(std::move(where)), endpoint(address), state(std::move(shared)) {}

    backend_config settings;
    boost::asio::ip::tcp::endpoint endpoint;
    std::shared_ptr<backend_state> state;
    bool retired = false;  // dropped by a reload: its health checks stop, its pool empties
    bool checking = false; // this loop runs the backend's health checks
    tls::session_slot tls_session;      // https: the session the next new connection resumes
    std::vector<idle_connection> idle;  // most recently used last
    std::uint64_t requests = 0;   // tries sent to it
    std::uint64_t successes = 0;
    std::uint64_t failures = 0;   // connect errors, timeouts, 5xx
    std::vector<std::string> routes;  // names of the routes using it ("default" for the top level)
};

// Every backend URL a config names, resolved.
using endpoint_map = std::unordered_map<std::string, boost::asio::ip::tcp::endpoint>;

// The backends one route balances over, with a balancer of its own.
struct backend_pool {
    std::vector<std::shared_ptr<backend>> members;
    std::unique_ptr<gw::balancer> balancer = std::make_unique<round_robin>();
};

// The routing state of one config: the route table, a pool and rate-limit plan per route and
// the default ones, over backends that exist once per URL (one breaker and health state
// whichever routes use it). Replaced whole on reload and kept alive by the requests using it.
struct backend_set {
    std::vector<std::shared_ptr<backend>> members;  // every distinct URL, once
    backend_pool default_pool;                      // the top-level `backends`
    std::vector<backend_pool> route_pools;          // one per route, in route order
    rate_limit_plan default_limits;                 // requests that match no route
    std::vector<rate_limit_plan> route_limits;      // one per route, in route order
    route_table routes;
};

}  // namespace gw
