// HTTP/1.x framing through the gateway: 100-continue, HEAD, 204/304, Connection: close, chunked,
// HTTP/1.0 clients and pipelining.
#include "harness.hpp"

#include <gtest/gtest.h>

#include <string>

namespace it {
namespace {

std::string default_body(std::uint16_t port, std::string_view target) {
    return "Response from backend on port " + std::to_string(port) + " | path: " + std::string(target);
}

std::string lower(std::string text) {
    for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
}

class HttpSemanticsTest : public ::testing::Test {
protected:
    temp_dir dir_;
};

TEST_F(HttpSemanticsTest, ExpectContinueGets100QuicklyAndTheBodyPasses) {
    mock_backend backend(dir_);
    gateway_process gateway(dir_, {.backends = {backend.url()}});

    auto connection = gateway.connect(3s);
    const auto start = steady::now();
    connection->send("POST /sink HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n"
                     "Expect: 100-continue\r\n\r\n");
    read_options interim;
    interim.return_interim = true;
    const auto first = connection->read_response(interim);
    const auto waited = std::chrono::duration_cast<millis>(steady::now() - start);
    ASSERT_EQ(first.status, 100) << describe(first);
    EXPECT_LT(waited, 500ms) << "100 Continue took " << waited.count() << " ms";

    connection->send(std::string(1000, 'c'));
    const auto final_response = connection->read_response();
    EXPECT_EQ(final_response.status, 200) << describe(final_response);
    EXPECT_EQ(final_response.body, "received 1000 bytes");
}

TEST_F(HttpSemanticsTest, HeadKeepsContentLengthSendsNoBodyAndKeepsTheConnection) {
    mock_backend backend(dir_);
    gateway_process gateway(dir_, {.backends = {backend.url()}});

    auto connection = gateway.connect();
    const auto head = connection->request("HEAD", "/bytes/1000");
    ASSERT_EQ(head.status, 200) << describe(head);
    EXPECT_EQ(head.header("Content-Length"), "1000");
    EXPECT_FALSE(connection->data_arrives_within(200ms)) << "bytes followed the HEAD response";

    const auto head_default = connection->request("HEAD", "/plain");
    ASSERT_EQ(head_default.status, 200) << describe(head_default);
    EXPECT_EQ(head_default.header("Content-Length"), std::to_string(default_body(backend.port(), "/plain").size()));
    EXPECT_FALSE(connection->data_arrives_within(200ms)) << "bytes followed the HEAD response";

    const auto next = connection->request("GET", "/after-head");
    EXPECT_EQ(next.status, 200) << describe(next);
    EXPECT_EQ(next.body, default_body(backend.port(), "/after-head"));
}

// The gateway's own answers (here 429) to HEAD keep their Content-Length but carry no body:
// bytes after them would be read as the start of the next response on the connection.
TEST_F(HttpSemanticsTest, HeadAnsweredByTheGatewayItselfHasNoBody) {
    mock_backend backend(dir_);
    gateway_process gateway(dir_, {.backends = {backend.url()},
                                   .rate_limit = "enabled: true, store: memory, requests: 1, window: 1h"});

    auto connection = gateway.connect();
    ASSERT_EQ(connection->request("HEAD", "/plain").status, 200);
    const auto refused = connection->request("HEAD", "/plain");
    ASSERT_EQ(refused.status, 429) << describe(refused);
    EXPECT_TRUE(refused.header("Content-Length").has_value()) << describe(refused);
    EXPECT_FALSE(connection->data_arrives_within(200ms)) << "bytes followed the HEAD response";

    const auto next = connection->request("GET", "/plain");
    EXPECT_EQ(next.status, 429) << describe(next);
    EXPECT_NE(next.body.find("rate_limited"), std::string::npos) << describe(next);
}

TEST_F(HttpSemanticsTest, NoContentAndNotModifiedHaveNoBodyAndKeepTheConnection) {
    mock_backend backend(dir_);
    gateway_process gateway(dir_, {.backends = {backend.url()}});

    auto connection = gateway.connect();
    for (const int status : {204, 304}) {
        const auto response = connection->request("GET", "/status/" + std::to_string(status));
        ASSERT_EQ(response.status, status) << describe(response);
        EXPECT_FALSE(response.header("Transfer-Encoding").has_value()) << describe(response);
        EXPECT_FALSE(connection->data_arrives_within(200ms)) << "bytes followed the " << status << " response";
        const auto next = connection->request("GET", "/after/" + std::to_string(status));
        EXPECT_EQ(next.status, 200) << describe(next);
        EXPECT_EQ(next.body, default_body(backend.port(), "/after/" + std::to_string(status)));
    }
}

TEST_F(HttpSemanticsTest, ClientConnectionCloseIsHonoured) {
    mock_backend backend(dir_);
    gateway_process gateway(dir_, {.backends = {backend.url()}});

    auto connection = gateway.connect();
    const auto response = connection->request("GET", "/closing", {{"Connection", "close"}});
    EXPECT_EQ(response.status, 200) << describe(response);
    EXPECT_EQ(response.body, default_body(backend.port(), "/closing"));
    EXPECT_NE(lower(response.header("Connection").value_or("")).find("close"), std::string::npos)
        << describe(response);
    EXPECT_TRUE(connection->closed_by_peer(2s)) << "the gateway kept the connection open";
}

TEST_F(HttpSemanticsTest, ChunkedResponseIsRelayed) {
    mock_backend backend(dir_, {"--chunked"});
    gateway_process gateway(dir_, {.backends = {backend.url()}});

    auto connection = gateway.connect();
    const auto small = connection->request("GET", "/chunked");
    ASSERT_EQ(small.status, 200) << describe(small);
    EXPECT_EQ(small.body, default_body(backend.port(), "/chunked"));

    connection->send_request("GET", "/bytes/1048576");
    pattern_checker received;
    read_options options;
    options.body_sink = [&](std::string_view piece) { received.feed(piece); };
    const auto large = connection->read_response(options);
    ASSERT_EQ(large.status, 200) << describe(large);
    EXPECT_EQ(received.bytes(), 1048576u);
    EXPECT_FALSE(received.first_mismatch().has_value());

    const auto next = connection->request("GET", "/after-chunked");
    EXPECT_EQ(next.status, 200) << describe(next);
    EXPECT_EQ(next.body, default_body(backend.port(), "/after-chunked"));
}

TEST_F(HttpSemanticsTest, Http10ClientGetsAPlainBodyAndAClose) {
    mock_backend backend(dir_);
    gateway_process gateway(dir_, {.backends = {backend.url()}});

    auto connection = gateway.connect();
    connection->send("GET /old HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
    const auto response = connection->read_response();
    EXPECT_EQ(response.status, 200) << describe(response);
    EXPECT_FALSE(response.chunked) << "chunked encoding sent to an HTTP/1.0 client";
    EXPECT_EQ(response.body, default_body(backend.port(), "/old"));
    if (!response.close_delimited) {
        EXPECT_TRUE(connection->closed_by_peer(2s)) << "HTTP/1.0 connection without keep-alive left open";
    }
}

TEST_F(HttpSemanticsTest, Http10ClientOfAChunkedBackendGetsAPlainBody) {
    mock_backend backend(dir_, {"--chunked"});
    gateway_process gateway(dir_, {.backends = {backend.url()}});

    auto connection = gateway.connect();
    connection->send("GET /old-chunked HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
    const auto response = connection->read_response();
    EXPECT_EQ(response.status, 200) << describe(response);
    EXPECT_FALSE(response.chunked) << "chunked encoding sent to an HTTP/1.0 client";
    EXPECT_FALSE(response.header("Transfer-Encoding").has_value()) << describe(response);
    EXPECT_EQ(response.body, default_body(backend.port(), "/old-chunked"));
}

TEST_F(HttpSemanticsTest, PipelinedRequestsAreAnsweredInOrder) {
    mock_backend backend(dir_);
    gateway_process gateway(dir_, {.backends = {backend.url()}});

    auto connection = gateway.connect();
    connection->send(build_request("GET", "/pipe/1") + build_request("GET", "/pipe/2") +
                     build_request("GET", "/pipe/3"));
    for (int i = 1; i <= 3; ++i) {
        const auto response = connection->read_response();
        EXPECT_EQ(response.status, 200) << describe(response);
        EXPECT_EQ(response.body, default_body(backend.port(), "/pipe/" + std::to_string(i)));
    }
}

TEST_F(HttpSemanticsTest, IdleKeepAliveConnectionIsClosedAfterIdleTimeout) {
    mock_backend backend(dir_);
    gateway_process gateway(dir_, {.backends = {backend.url()}, .client = "idle_timeout: 300ms"});

    auto connection = gateway.connect();
    const auto response = connection->request("GET", "/idle");
    ASSERT_EQ(response.status, 200) << describe(response);
    const auto start = steady::now();
    EXPECT_TRUE(connection->closed_by_peer(3s)) << "idle connection still open after 3 s";
    const auto waited = std::chrono::duration_cast<millis>(steady::now() - start);
    EXPECT_GE(waited, 200ms);
    EXPECT_LT(waited, 2000ms);
}

}  // namespace
}  // namespace it
