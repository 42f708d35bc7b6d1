#include "gatewayd/http/error_response.hpp"

#include <gtest/gtest.h>

namespace {

using gw::gateway_error;

TEST(ErrorResponse, StatusAndCodeMatchTheContract) {
    const std::pair<gateway_error, unsigned> table[] = {
        {gateway_error::bad_request, 400},       {gateway_error::no_route, 404},
        {gateway_error::header_timeout, 408},    {gateway_error::body_too_large, 413},
        {gateway_error::rate_limited, 429},      {gateway_error::headers_too_large, 431},
        {gateway_error::bad_gateway, 502},       {gateway_error::no_backend, 503},
        {gateway_error::gateway_timeout, 504},   {gateway_error::rate_limit_unavailable, 503},
    };
    for (const auto& [error, status] : table) EXPECT_EQ(gw::describe(error).status, status);
}

TEST(ErrorResponse, JsonBodyIsExact) {
    EXPECT_EQ(gw::json_error_body(gateway_error::rate_limited),
              R"({"error":"rate_limited","message":"Too Many Requests"})");
    EXPECT_EQ(gw::json_error_body(gateway_error::no_backend),
              R"({"error":"no_backend","message":"Service Unavailable"})");
    EXPECT_EQ(gw::json_error_body(gateway_error::headers_too_large),
              R"({"error":"headers_too_large","message":"Request Header Fields Too Large"})");
}

TEST(ErrorResponse, OnlyUntrustworthyStreamsAreClosed) {
    EXPECT_TRUE(gw::closes_connection(gateway_error::bad_request));
    EXPECT_TRUE(gw::closes_connection(gateway_error::header_timeout));
    EXPECT_TRUE(gw::closes_connection(gateway_error::body_too_large));
    EXPECT_TRUE(gw::closes_connection(gateway_error::headers_too_large));
    EXPECT_FALSE(gw::closes_connection(gateway_error::rate_limited));
    EXPECT_FALSE(gw::closes_connection(gateway_error::bad_gateway));
    EXPECT_FALSE(gw::closes_connection(gateway_error::no_backend));
}

}  // namespace
