#include "gatewayd/chain/phases.hpp"

#include "gatewayd/chain/route_table.hpp"
#include "gatewayd/http/header_rewrite.hpp"

namespace gw {

namespace http = boost::beast::http;

// The head as the backend gets it: the route's prefix cut, hop-by-hop fields out (but an
// Upgrade the client asked for, other than h2c), X-Forwarded-* and X-Request-Id in, framing
// ours (HTTP/1.1, keep-alive). CONNECT (the gateway is no forward proxy) and a request with
// nowhere to go are answered here.
phase_result prepare_forwarding(request_context& context) {
    auto& request = context.head();
    if (request.method() == http::verb::connect) return gateway_error::bad_request;
    if (context.pool == nullptr) return gateway_error::no_route;
    if (context.route != nullptr && context.route->strip_prefix) {
        request.target(strip_path_prefix(request.target(), context.route->path_prefix));
    }
    const forwarding_info info{context.client.peer_ip, context.client.peer_trusted, context.facts.id(),
                               context.client.secure};
    // Only an HTTP/1.1 request without a body may switch protocols: the tunnel starts right
    // after the request head, with nothing of the request left to relay.
    auto& facts = context.facts;
    std::string* upgrade = facts.version == 11 && facts.body.done() ? &facts.upgrade : nullptr;
    // A trusted chain too long to append to: more than a header field can hold.
    if (!rewrite_request_headers(request, info, upgrade)) return gateway_error::headers_too_large;
    request.version(11);
    if (context.parser.chunked()) {
        request.chunked(true);
    } else if (context.parser.content_length()) {
        request.content_length(*context.parser.content_length());
    }
    request.keep_alive(true);
    return std::nullopt;
}

}  // namespace gw
