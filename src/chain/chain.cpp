#include "gatewayd/chain/chain.hpp"

#include "gatewayd/app/event_loop.hpp"
#include "gatewayd/chain/phases.hpp"
#include "gatewayd/http/local_reply.hpp"
#include "gatewayd/upstream/proxy.hpp"

#include <boost/beast/core/string.hpp>

namespace gw {

namespace beast = boost::beast;
namespace http = beast::http;

namespace {

bool is_idempotent(http::verb method) {
    switch (method) {
    case http::verb::get:
    case http::verb::head:
    case http::verb::options:
    case http::verb::put:
    case http::verb::delete_:
    case http::verb::trace: return true;
    default: return false;
    }
}

// What the head says before anything is decided: method, version, keep-alive, Expect, the
// request id, the body's framing.
void start_request(request_context& context) {
    auto& request = context.head();
    auto& facts = context.facts;
    facts.method = request.method_string();
    if (context.settings.log.access_log) facts.target = request.target();
    facts.version = request.version();
    facts.head = request.method() == http::verb::head;
    facts.idempotent = is_idempotent(request.method());
    facts.keep_alive = request.keep_alive() && !context.loop.draining();
    facts.expects_continue = facts.version >= 11 && beast::iequals(request[http::field::expect], "100-continue");
    request.erase(http::field::expect);
    if (!context.parser.is_done()) {
        const std::uint64_t limit = context.settings.client.max_body_bytes;
        facts.body = context.parser.chunked() ? body_decoder::chunked(limit)
                                              : body_decoder::with_length(*context.parser.content_length());
    }
    const auto client_id = request.find("X-Request-Id");
    if (client_id != request.end() && acceptable_request_id(client_id->value())) {
        facts.request_id.assign(client_id->value().data(), client_id->value().size());
    } else {
        const auto id = context.loop.request_ids().next();
        facts.request_id.assign(id.data(), id.size());
    }
}

}  // namespace

net::awaitable<request_outcome> answer_locally(request_context& context, gateway_error error) {
    const auto& facts = context.facts;
    const reply_details details{facts.id(),         facts.head,        facts.retry_after, facts.rate ? &*facts.rate : nullptr,
                                facts.rate_headers, facts.rate_policy};
    // With unread body bytes in the stream the next request could not be found: close.
    const bool keep = co_await write_error(context.client, error, details, facts.keep_alive && facts.body.done(),
                                           context.settings.client.body_timeout);
    co_return request_outcome{describe(error).status, "-", keep};
}

net::awaitable<request_outcome> run_chain(request_context& context) {
    start_request(context);
    for (const phase& step : request_phases) {
        if (step.applies != nullptr && !step.applies(context)) continue;
        phase_result answer;
        if (const auto* check = std::get_if<check_phase>(&step.run)) {
            answer = (*check)(context);
        } else {
            answer = co_await (*std::get<wait_phase>(step.run))(context);
        }
        if (answer) co_return co_await answer_locally(context, *answer);
    }
    co_return co_await proxy_request(context);
}

}  // namespace gw
