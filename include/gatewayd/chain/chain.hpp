#pragma once

#include "gatewayd/chain/request_context.hpp"
#include "gatewayd/http/error_response.hpp"
#include "gatewayd/io/net.hpp"

#include <optional>
#include <string_view>
#include <variant>

namespace gw {

// A phase either passes the request on (nothing) or names the answer the gateway gives itself,
// which ends the chain.
using phase_result = std::optional<gateway_error>;

// A phase that decides at once, or one that waits (for the rate limiter's store, say).
using check_phase = phase_result (*)(request_context&);
using wait_phase = net::awaitable<phase_result> (*)(request_context&);

struct phase {
    std::string_view name;
    std::variant<check_phase, wait_phase> run;
    // When set and false for a request, the phase is skipped: a waiting phase with nothing to
    // wait for costs no coroutine.
    bool (*applies)(const request_context&) = nullptr;
};

// The request path after its head was read: the phases in their fixed order
// (chain/phases.hpp), then the proxy. The answer a phase asks for is written here.
net::awaitable<request_outcome> run_chain(request_context& context);

// Writes the gateway's own answer to the request; with body bytes still unread the connection
// cannot carry another request and is closed.
net::awaitable<request_outcome> answer_locally(request_context& context, gateway_error error);

}  // namespace gw
