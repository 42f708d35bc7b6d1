#pragma once

#include <string>
#include <string_view>

namespace gw {

// The answers the gateway gives itself, with the contract's status and `error` code.
enum class gateway_error {
    bad_request,
    no_route,
    header_timeout,
    body_too_large,
    rate_limited,
    headers_too_large,
    uri_too_long,
    bad_gateway,
    no_backend,
    gateway_timeout,
    rate_limit_unavailable,
};

struct error_reply {
    unsigned status;
    std::string_view code;     // the JSON `error` field
    std::string_view message;  // the JSON `message` field
};

error_reply describe(gateway_error error);

// {"error":"...","message":"..."}, with "rule":"<rule>" when one is given (a 429).
std::string json_error_body(gateway_error error, std::string_view rule = {});

// After these the rest of the client's stream cannot be trusted, so the connection is closed.
bool closes_connection(gateway_error error);

}  // namespace gw
