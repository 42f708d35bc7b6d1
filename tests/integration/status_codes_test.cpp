// Every status code the gateway produces itself, each caused by the situation that should cause it.
#include "harness.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <string>

namespace it {
namespace {

class StatusCodeTest : public ::testing::Test {
protected:
    temp_dir dir_;
};

millis elapsed_since(steady::time_point start) {
    return std::chrono::duration_cast<millis>(steady::now() - start);
}

bool all_digits(std::string_view text) {
    return !text.empty() && std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); });
}

TEST_F(StatusCodeTest, GarbageRequestLineGets400AndClose) {
    mock_backend backend(dir_);
    gateway_process gateway(dir_, {.backends = {backend.url()}});

    auto connection = gateway.connect();
    connection->send("THIS IS NOT HTTP\r\n\r\n");
    const auto response = connection->read_response();
    EXPECT_TRUE(is_error_response(response, 400, "bad_request"));
    EXPECT_TRUE(connection->closed_by_peer(2s)) << "connection still open after a 400";
    EXPECT_EQ(backend.request_count("/"), 0u);
}

TEST_F(StatusCodeTest, MalformedHeaderLineGets400AndClose) {
    mock_backend backend(dir_);
    gateway_process gateway(dir_, {.backends = {backend.url()}});

    auto connection = gateway.connect();
    connection->send("GET /bad-header HTTP/1.1\r\nHost: 127.0.0.1\r\nthis line has no colon\r\n\r\n");
    const auto response = connection->read_response();
    EXPECT_TRUE(is_error_response(response, 400, "bad_request"));
    EXPECT_TRUE(connection->closed_by_peer(2s)) << "connection still open after a 400";
    EXPECT_EQ(backend.request_count("/bad-header"), 0u);
}

TEST_F(StatusCodeTest, NoRouteAndNoBackendsGets404) {
    gateway_process gateway(dir_, {.backends = {}});

    const auto response = gateway.request("GET", "/anything");
    EXPECT_TRUE(is_error_response(response, 404, "no_route"));
}

TEST_F(StatusCodeTest, PartialHeaderGets408AfterHeaderTimeoutAndClose) {
    mock_backend backend(dir_);
    gateway_process gateway(dir_, {.backends = {backend.url()}, .client = "header_timeout: 300ms"});

    auto connection = gateway.connect(3s);
    const auto start = steady::now();
    connection->send("GET /slow HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    const auto response = connection->read_response();
    const auto waited = elapsed_since(start);
    EXPECT_TRUE(is_error_response(response, 408, "header_timeout"));
    EXPECT_GE(waited, 250ms);
    EXPECT_LT(waited, 2000ms);
    EXPECT_TRUE(connection->closed_by_peer(2s)) << "connection still open after a 408";
    EXPECT_EQ(backend.request_count("/slow"), 0u);
}

TEST_F(StatusCodeTest, TricklingHeaderGets408WhenTheWholeHeaderIsLate) {
    mock_backend backend(dir_);
    gateway_process gateway(dir_, {.backends = {backend.url()}, .client = "header_timeout: 300ms"});

    auto connection = gateway.connect(3s);
    const auto start = steady::now();
    connection->send("GET /trickle HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    // A new header line every 50 ms: no gap is long, but the header as a whole never completes.
    for (int i = 0; i < 40 && !connection->data_arrives_within(50ms); ++i) {
        connection->send("X-Trickle-" + std::to_string(i) + ": a\r\n");
    }
    const auto response = connection->read_response();
    EXPECT_TRUE(is_error_response(response, 408, "header_timeout"));
    EXPECT_LT(elapsed_since(start), 1500ms);
    EXPECT_TRUE(connection->closed_by_peer(2s)) << "connection still open after a 408";
}

TEST_F(StatusCodeTest, ContentLengthOverMaxBodyGets413AndClose) {
    mock_backend backend(dir_);
    gateway_process gateway(dir_, {.backends = {backend.url()}, .client = "max_body_bytes: 1KiB"});

    auto connection = gateway.connect();
    connection->send(build_request("POST", "/sink", {}, std::string(2000, 'x')));
    const auto response = connection->read_response();
    EXPECT_TRUE(is_error_response(response, 413, "body_too_large"));
    EXPECT_TRUE(connection->closed_by_peer(2s)) << "connection still open after a 413";
    EXPECT_EQ(backend.request_count("/sink"), 0u) << "a body announced too large was forwarded";
}

TEST_F(StatusCodeTest, BodyAtTheLimitPasses) {
    mock_backend backend(dir_);
    gateway_process gateway(dir_, {.backends = {backend.url()}, .client = "max_body_bytes: 1KiB"});

    const auto response = gateway.request("POST", "/sink", {}, std::string(1024, 'x'));
    EXPECT_EQ(response.status, 200) << describe(response);
    EXPECT_EQ(response.body, "received 1024 bytes");
}

TEST_F(StatusCodeTest, ChunkedBodyOverMaxBodyGets413AndClose) {
    mock_backend backend(dir_);
    gateway_process gateway(dir_, {.backends = {backend.url()}, .client = "max_body_bytes: 1KiB"});

    auto connection = gateway.connect();
    std::string request = "POST /sink HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 4; ++i) request += "258\r\n" + std::string(600, 'y') + "\r\n";  // 4 x 600 bytes
    request += "0\r\n\r\n";
    connection->send(request);
    const auto response = connection->read_response();
    EXPECT_TRUE(is_error_response(response, 413, "body_too_large"));
    EXPECT_TRUE(connection->closed_by_peer(2s)) << "connection still open after a 413";
}

TEST_F(StatusCodeTest, ExpectContinueOverMaxBodyGets413WithoutTheBody) {
    mock_backend backend(dir_);
    gateway_process gateway(dir_, {.backends = {backend.url()}, .client = "max_body_bytes: 1KiB"});

    auto connection = gateway.connect(2s);
    connection->send("POST /sink HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2000\r\n"
                     "Expect: 100-continue\r\n\r\n");
    read_options options;
    options.return_interim = true;
    const auto response = connection->read_response(options);
    EXPECT_TRUE(is_error_response(response, 413, "body_too_large"));
    EXPECT_EQ(backend.request_count("/sink"), 0u);
}

TEST_F(StatusCodeTest, OversizedHeaderGets431AndClose) {
    mock_backend backend(dir_);
    gateway_process gateway(dir_, {.backends = {backend.url()}, .client = "max_header_bytes: 1KiB"});

    auto connection = gateway.connect();
    connection->send(build_request("GET", "/big-header", {{"X-Big", std::string(2000, 'h')}}));
    const auto response = connection->read_response();
    EXPECT_TRUE(is_error_response(response, 431, "headers_too_large"));
    EXPECT_TRUE(connection->closed_by_peer(2s)) << "connection still open after a 431";
    EXPECT_EQ(backend.request_count("/big-header"), 0u);
}

TEST_F(StatusCodeTest, HeaderUnderTheLimitPasses) {
    mock_backend backend(dir_);
    gateway_process gateway(dir_, {.backends = {backend.url()}, .client = "max_header_bytes: 1KiB"});

    const auto response = gateway.request("GET", "/small-header", {{"X-Small", std::string(500, 'h')}});
    EXPECT_EQ(response.status, 200) << describe(response);
}

TEST_F(StatusCodeTest, GarbageFromBackendGets502) {
    raw_tcp_server broken("THIS IS NOT AN HTTP RESPONSE\r\n\r\n");
    gateway_process gateway(dir_, {.backends = {broken.url()}, .upstream = "connect_timeout: 500ms, retries: 0"});

    const auto response = gateway.request("GET", "/garbage");
    EXPECT_TRUE(is_error_response(response, 502, "bad_gateway"));
    EXPECT_GE(broken.connections(), 1u);
}

TEST_F(StatusCodeTest, BackendClosingWithoutAnswerGets502) {
    raw_tcp_server broken("");
    gateway_process gateway(dir_, {.backends = {broken.url()}, .upstream = "connect_timeout: 500ms, retries: 0"});

    const auto response = gateway.request("GET", "/empty-reply");
    EXPECT_TRUE(is_error_response(response, 502, "bad_gateway"));
}

TEST_F(StatusCodeTest, AllBackendsDeadGets503WithRetryAfter) {
    const auto dead_a = free_port();
    const auto dead_b = free_port();
    gateway_process gateway(dir_, {.backends = {"http://127.0.0.1:" + std::to_string(dead_a),
                                                "http://127.0.0.1:" + std::to_string(dead_b)},
                                   .upstream = "connect_timeout: 500ms, retries: 1"});

    // The first request discovers that both refuse (502 or 503 are both fair); from then on none is available.
    const auto first = gateway.request("GET", "/first");
    EXPECT_TRUE(first.status == 502 || first.status == 503) << describe(first);
    for (int i = 0; i < 2; ++i) {
        const auto response = gateway.request("GET", "/next");
        EXPECT_TRUE(is_error_response(response, 503, "no_backend")) << "request " << i + 2;
        const auto retry_after = response.header("Retry-After");
        ASSERT_TRUE(retry_after.has_value()) << describe(response);
        EXPECT_TRUE(all_digits(*retry_after) && std::stoul(*retry_after) >= 1) << "Retry-After: " << *retry_after;
    }
}

TEST_F(StatusCodeTest, SlowBackendGets504AfterUpstreamTimeout) {
    mock_backend slow(dir_, {"--delay", "2s"});
    gateway_process gateway(dir_, {.backends = {slow.url()}, .upstream = "connect_timeout: 500ms, timeout: 300ms, retries: 0"});

    auto connection = gateway.connect(3s);
    const auto start = steady::now();
    const auto response = connection->request("GET", "/slow");
    const auto waited = elapsed_since(start);
    EXPECT_TRUE(is_error_response(response, 504, "gateway_timeout"));
    EXPECT_GE(waited, 250ms);
    EXPECT_LT(waited, 1500ms);
}

}  // namespace
}  // namespace it
