#include "gatewayd/chain/phases.hpp"

#include "gatewayd/http/host_header.hpp"
#include "gatewayd/http/request_framing.hpp"
#include "gatewayd/http/request_path.hpp"

#include <vector>

namespace gw {

namespace http = boost::beast::http;

// A request we cannot forward in one unambiguous form is refused, and the connection closed,
// before it is counted, routed or sent on: framing, Host (RFC 9112 3.2), target form, path.
phase_result validate_request(request_context& context) {
    auto& request = context.head();
    if (request.count(http::field::transfer_encoding) != 0) {
        std::vector<std::string_view> codings;
        auto [first, last] = request.equal_range(http::field::transfer_encoding);
        for (auto it = first; it != last; ++it) codings.push_back(it->value());
        if (!acceptable_transfer_encoding(codings, context.facts.version)) return gateway_error::bad_request;
    }
    // One Host in HTTP/1.1 (at most one in 1.0), and a valid one.
    const std::size_t hosts = request.count(http::field::host);
    if (hosts > 1 || (hosts == 0 && context.facts.version >= 11) ||
        (hosts == 1 && !valid_host(request[http::field::host]))) {
        return gateway_error::bad_request;
    }
    // CONNECT is refused after the limiter counted it (prepare_forwarding).
    if (request.method() == http::verb::connect) return std::nullopt;
    const auto form = normalize_target(request.target(), request.method() == http::verb::options);
    if (!form) return gateway_error::bad_request;
    if (!form->authority.empty()) {
        // The authority of an absolute-form target is the host (RFC 9112 3.2.2).
        if (!valid_host(form->authority)) return gateway_error::bad_request;
        request.target(form->path);
        request.set(http::field::host, form->authority);
    }
    // Routes see, and the backend gets, the path in its one canonical form.
    if (request.target() != "*") {
        const auto normalized = normalize_path(request.target(), context.settings.client.paths);
        if (normalized.problem) return gateway_error::bad_request;
        if (normalized.target) request.target(*normalized.target);
    }
    return std::nullopt;
}

}  // namespace gw
