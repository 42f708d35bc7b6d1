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
    bool secure = false;       // the request came over TLS: X-Forwarded-Proto is https
};

// What remove_hop_by_hop saw of a protocol upgrade on its way: whether Connection named
// "upgrade", and every Upgrade value, joined.
struct upgrade_offer {
    bool connection_upgrade = false;
    std::string protocols;
};

// Drops Connection, Keep-Alive, Proxy-Connection, TE, Trailer, Transfer-Encoding, Upgrade and
// every header the Connection header names. Framing is set again by the caller afterwards.
// With `offer`, what it removed of an upgrade is noted there (in the same pass).
void remove_hop_by_hop(header_fields& fields, upgrade_offer* offer = nullptr);

// The protocols an upgrade may be forwarded with: the offer's list without h2c (which is never
// forwarded, so the request is served as HTTP/1.1), when Connection named "upgrade"; "" otherwise.
std::string tunnel_protocols(const upgrade_offer& offer);

// The X-Forwarded-For value for the backend: a trusted peer's chain with the peer appended, or
// the peer alone (the client's own claim dropped).
std::string forwarded_for(std::string_view incoming, bool peer_trusted, std::string_view peer_ip);

// Request toward the backend: hop-by-hop removed, X-Forwarded-For/Proto/Host and X-Request-Id set.
// False when the X-Forwarded-For to send would be longer than a header field
// may be (max_field_bytes): a trusted peer's long chain plus its own address.
// With `upgrade` (the caller takes upgrades for this request), an upgrade the client asked for
// is kept: `Connection: upgrade` and `Upgrade` go out again (without h2c), and the protocols are
// set in `upgrade` ("" when there is none).
bool rewrite_request_headers(header_fields& fields, const forwarding_info& info, std::string* upgrade = nullptr);

// Response toward the client: hop-by-hop removed, X-Request-Id set.
void rewrite_response_headers(header_fields& fields, std::string_view request_id);

// A 101 toward the client: as any response, but `Connection: upgrade` and the backend's
// `Upgrade` stay, since they are the answer.
void rewrite_switching_headers(header_fields& fields, std::string_view request_id);

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
