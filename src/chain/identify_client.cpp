#include "gatewayd/chain/phases.hpp"

#include "gatewayd/chain/client_identity.hpp"

namespace gw {

// Who the client is, for the limiter and the access log: the peer itself, or the address a
// trusted peer's X-Forwarded-For names (read before it is rewritten for the backend).
phase_result identify_client(request_context& context) {
    context.who = context.client.peer_address;
    if (!context.client.peer_trusted) return std::nullopt;
    std::string forwarded;
    auto [first, last] = context.head().equal_range("X-Forwarded-For");
    for (auto it = first; it != last; ++it) {
        if (!forwarded.empty()) forwarded += ',';
        forwarded += it->value();
    }
    context.who = client_identity(context.client.peer_address, forwarded, context.settings.client.trusted_proxies);
    context.facts.client = to_string(context.who);
    return std::nullopt;
}

}  // namespace gw
