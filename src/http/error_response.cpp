#include "gatewayd/http/error_response.hpp"

namespace gw {

error_reply describe(gateway_error error) {
    switch (error) {
    case gateway_error::bad_request: return {400, "bad_request", "Bad Request"};
    case gateway_error::no_route: return {404, "no_route", "Not Found"};
    case gateway_error::header_timeout: return {408, "header_timeout", "Request Timeout"};
    case gateway_error::body_too_large: return {413, "body_too_large", "Content Too Large"};
    case gateway_error::rate_limited: return {429, "rate_limited", "Too Many Requests"};
    case gateway_error::headers_too_large:
        return {431, "headers_too_large", "Request Header Fields Too Large"};
    case gateway_error::uri_too_long: return {414, "uri_too_long", "URI Too Long"};
    case gateway_error::bad_gateway: return {502, "bad_gateway", "Bad Gateway"};
    case gateway_error::no_backend: return {503, "no_backend", "Service Unavailable"};
    case gateway_error::gateway_timeout: return {504, "gateway_timeout", "Gateway Timeout"};
    case gateway_error::rate_limit_unavailable:
        return {503, "rate_limit_unavailable", "Service Unavailable"};
    }
    return {500, "internal", "Internal Server Error"};
}

std::string json_error_body(gateway_error error, std::string_view rule) {
    // Codes, messages and rule names ([a-z0-9_-]) need no escaping.
    const error_reply reply = describe(error);
    std::string body;
    body.reserve(48 + reply.code.size() + reply.message.size() + rule.size());
    body.append(R"({"error":")").append(reply.code);
    body.append(R"(","message":")").append(reply.message);
    if (!rule.empty()) body.append(R"(","rule":")").append(rule);
    body.append(R"("})");
    return body;
}

bool closes_connection(gateway_error error) {
    switch (error) {
    case gateway_error::bad_request:
    case gateway_error::header_timeout:
    case gateway_error::body_too_large:
    case gateway_error::headers_too_large:
    case gateway_error::uri_too_long: return true;
    default: return false;
    }
}

}  // namespace gw
