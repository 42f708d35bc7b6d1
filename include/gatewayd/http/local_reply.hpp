#pragma once

#include "gatewayd/config/config.hpp"
#include "gatewayd/http/client_connection.hpp"
#include "gatewayd/http/error_response.hpp"
#include "gatewayd/io/net.hpp"
#include "gatewayd/http/header_rewrite.hpp"
#include "gatewayd/limit/rate_decision.hpp"

#include <cstdint>
#include <string_view>

namespace gw {

// What the gateway's own answer carries besides its status and JSON body.
struct reply_details {
    std::string_view request_id;          // empty: no request was read (no X-Request-Id)
    bool head = false;                    // the answer to HEAD: Content-Length, no body
    std::uint64_t retry_after = 1;        // seconds, on a 503
    const rate_decision* rate = nullptr;  // X-RateLimit-* (and Retry-After on a 429)
    bool rate_headers = false;            // rate_limit.headers
    std::string_view rate_policy;         // standard_headers: RateLimit-Policy, RateLimit
};

// Writes the answer in one write; true when the connection may carry another request
// (`keep_alive` asked for it, the error does not close, the write went out).
net::awaitable<bool> write_error(client_connection& client, gateway_error error, const reply_details& details,
                                 bool keep_alive, duration timeout);

// "100 Continue", once every check passed and a backend is connected.
net::awaitable<void> write_continue(client_connection& client, duration timeout);

}  // namespace gw
