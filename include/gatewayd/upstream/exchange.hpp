#pragma once

#include "gatewayd/chain/request_context.hpp"
#include "gatewayd/http/error_response.hpp"
#include "gatewayd/io/net.hpp"
#include "gatewayd/upstream/try_outcome.hpp"

#include <boost/system/error_code.hpp>

#include <span>

namespace gw {

struct exchange_result {
    exchange_stage stage = exchange_stage::completed;
    unsigned status = 0;             // sent to the client, when completed
    bool client_keep_alive = false;  // the client connection may carry another request
    bool upstream_reusable = false;  // the backend connection may go back to the pool
    bool stale = false;              // a reused connection failed before any byte came back
    bool body_read = false;          // some of the client's body was consumed
    bool tunnel = false;             // a 101 went to the client: the connection is a tunnel now
    gateway_error error = gateway_error::bad_gateway;  // the answer owed, when before_response
    boost::system::error_code client_error;            // why, when client_gone
};

// One try against one backend over `context.client.upstream` (connected; `reused` when it came
// from the pool): the request head goes out, the body is streamed up while the response head
// is awaited beside it, the response is relayed back. `chunk` is the block the response (and a
// head without a body) is written through.
net::awaitable<exchange_result> exchange(request_context& context, bool reused, std::span<char> chunk);

}  // namespace gw
