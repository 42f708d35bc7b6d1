#pragma once

#include "gatewayd/http/message.hpp"
#include "gatewayd/limit/rate_decision.hpp"

#include <string>
#include <string_view>

namespace gw {

// What the proxy knows about the client when it rewrites a request for the backend.
struct forwarding_info {
    std::string_view peer_ip;  // the TCP peer, as text
    bool peer_trusted = false; // peer is inside client.trusted_proxies
    std::string_view request_id;
};

// Drops Connection, Keep-Alive, Proxy-Connection, TE, Trailer, Transfer-Encoding, Upgrade and
// every header the Connection header names. Framing is set again by the caller afterwards.
void remove_hop_by_hop(header_fields& fields);

// The X-Forwarded-For value for the backend: a trusted peer's chain with the peer appended, or
// the peer alone (the client's own claim dropped).
std::string forwarded_for(std::string_view incoming, bool peer_trusted, std::string_view peer_ip);

// Request toward the backend: hop-by-hop removed, X-Forwarded-For/Proto/Host and X-Request-Id set.
// False when the X-Forwarded-For to send would be longer than a header field
// may be (max_field_bytes): a trusted peer's long chain plus its own address.
bool rewrite_request_headers(header_fields& fields, const forwarding_info& info);

// Response toward the client: hop-by-hop removed, X-Request-Id set.
void rewrite_response_headers(header_fields& fields, std::string_view request_id);

// Which rate-limit headers a response carries.
struct rate_header_choice {
    bool x_ratelimit = true;  // rate_limit.headers: X-RateLimit-Limit, -Remaining, -Reset
    std::string_view policy;  // standard_headers: the RateLimit-Policy value (empty: none, nor RateLimit)
};

// The headers of `decision` as `choice` says; with `refused` also Retry-After (always on a
// 429). RateLimit is `"<rule>";r=<remaining>;t=<reset seconds>` of the same rule.
void set_rate_limit_headers(header_fields& fields, const rate_decision& decision, const rate_header_choice& choice,
                            bool refused);

}  // namespace gw
