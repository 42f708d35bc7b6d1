#include "gatewayd/http/local_reply.hpp"

#include "gatewayd/http/body_relay.hpp"
#include "gatewayd/http/header_rewrite.hpp"

#include <boost/asio/write.hpp>

#include <array>
#include <string>

namespace gw {

namespace asio = boost::asio;
namespace http = boost::beast::http;

net::awaitable<bool> write_error(client_connection& client, gateway_error error, const reply_details& details,
                                 bool keep_alive, duration timeout) {
    const error_reply reply = describe(error);
    response_message response{static_cast<http::status>(reply.status), 11};
    response.set(http::field::content_type, "application/json");
    if (!details.request_id.empty()) response.set("X-Request-Id", details.request_id);
    if (reply.status == 503) response.set(http::field::retry_after, std::to_string(details.retry_after));
    const bool refused = error == gateway_error::rate_limited;
    if (details.rate != nullptr) {
        set_rate_limit_headers(response, *details.rate, {details.rate_headers, details.rate_policy}, refused);
    }
    // A 429 names the rule that refused it.
    const std::string body = json_error_body(error, refused && details.rate != nullptr ? details.rate->refused_by : "");
    response.content_length(body.size());
    response.keep_alive(keep_alive && !closes_connection(error));
    // Head and body in one write; an error head is small (a request id of at most 128 bytes).
    std::array<char, 2048> head_space;
    std::string overflow;
    const std::span<const char> head = place_head(response.base(), head_space, overflow).bytes;
    // An answer to HEAD keeps its Content-Length but has no body (RFC 9110 9.3.2): body bytes
    // would be read as the start of the next response on the connection.
    const std::size_t body_size = details.head ? 0 : body.size();
    const std::array<asio::const_buffer, 2> pieces{asio::buffer(head), asio::buffer(body.data(), body_size)};
    client.stream.expires_after(timeout);
    auto [ec, written] = co_await asio::async_write(client.stream, pieces, net::nothrow);
    co_return !ec && response.keep_alive();
}

net::awaitable<void> write_continue(client_connection& client, duration timeout) {
    static constexpr std::string_view interim = "HTTP/1.1 100 Continue\r\n\r\n";
    client.stream.expires_after(timeout);
    co_await asio::async_write(client.stream, asio::buffer(interim), net::nothrow);
}

}  // namespace gw
