#pragma once

#include "gatewayd/config/config.hpp"
#include "gatewayd/config/ip_network.hpp"
#include "gatewayd/http/body_decoder.hpp"
#include "gatewayd/http/client_connection.hpp"
#include "gatewayd/http/message.hpp"
#include "gatewayd/limit/rate_decision.hpp"

#include <boost/static_string/static_string.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gw {

class event_loop;
struct backend_pool;
struct backend_set;
struct rate_limit_plan;

// The request as the gateway saw it before rewriting, for retries, errors and the access log.
struct request_facts {
    std::string method;
    std::string target;
    boost::static_string<128> request_id;  // acceptable_request_id() caps a client's at 128
    std::string_view id() const { return {request_id.data(), request_id.size()}; }
    unsigned version = 11;
    bool head = false;
    bool idempotent = false;
    bool keep_alive = false;
    bool expects_continue = false;
    std::string_view route = "-";       // the matched route's name, for the access log
    std::string client;                 // who a trusted peer says the client is; empty: the peer
    std::optional<rate_decision> rate;  // for the rate-limit headers
    bool rate_headers = false;          // rate_limit.headers
    std::string_view rate_policy;       // standard_headers: RateLimit-Policy (the plan's); empty: off
    std::string shadow_limited;         // shadow rules that would have refused, for the access log
    std::uint64_t retry_after = 1;             // seconds, on a 503
    std::string upgrade;                       // protocols of an Upgrade forwarded; "" = none
    body_decoder body = body_decoder::none();  // the request body's framing, as it is read
};

// What the phases of one request share: the connection it came on, its head (rewritten in
// place as the phases go), what they learned about it, and the config and routing snapshot it
// runs with to the end, whatever a reload does meanwhile.
struct request_context {
    request_context(client_connection& connection, request_parser& head_parser, event_loop& owner,
                    const config& config_snapshot, backend_set& routing_snapshot)
        : client(connection), parser(head_parser), loop(owner), settings(config_snapshot), routing(routing_snapshot) {}

    request_message& head() { return parser.get(); }

    client_connection& client;
    request_parser& parser;
    event_loop& loop;
    const config& settings;
    backend_set& routing;
    request_facts facts;

    ip_address who;                        // the client (identify_client)
    const route_config* route = nullptr;     // the matched route, or none (route_request)
    backend_pool* pool = nullptr;            // where the request goes (route_request)
    const rate_limit_plan* limits = nullptr;  // what limits it (route_request)
};

// What the connection loop needs to know once a request was answered.
struct request_outcome {
    unsigned status = 0;
    std::string_view backend = "-";
    bool keep_alive = false;
};

}  // namespace gw
