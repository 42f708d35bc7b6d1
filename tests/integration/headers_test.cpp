// What headers the backend and the client see: hop-by-hop removal, X-Forwarded-*, X-Request-Id.
#include "harness.hpp"

#include <gtest/gtest.h>

#include <regex>
#include <string>

namespace it {
namespace {

using header_list = std::vector<std::pair<std::string, std::string>>;

class HeadersTest : public ::testing::Test {
protected:
    // The request headers as the backend received them (the mock's /headers answer).
    std::multimap<std::string, std::string> seen_by_backend(const gateway_process& gateway,
                                                           const header_list& headers,
                                                           http_response* response_out = nullptr) {
        const auto response = gateway.request("GET", "/headers", headers);
        EXPECT_EQ(response.status, 200) << describe(response);
        if (response_out) *response_out = response;
        return parse_header_lines(response.body);
    }

    static std::string values(const std::multimap<std::string, std::string>& headers, const std::string& name) {
        std::string out;
        auto [begin, end] = headers.equal_range(name);
        for (auto it = begin; it != end; ++it) out += (out.empty() ? "" : " | ") + it->second;
        return out;
    }

    temp_dir dir_;
};

TEST_F(HeadersTest, HopByHopHeadersDoNotReachTheBackend) {
    mock_backend backend(dir_);
    gateway_process gateway(dir_, {.backends = {backend.url()}});

    const auto seen = seen_by_backend(gateway, {{"Connection", "keep-alive, X-Custom-Hop"},
                                                {"X-Custom-Hop", "secret"},
                                                {"Keep-Alive", "timeout=5"},
                                                {"TE", "trailers"},
                                                {"Upgrade", "example/1"},
                                                {"Proxy-Connection", "keep-alive"},
                                                {"X-End-To-End", "kept"}});
    for (const std::string name : {"x-custom-hop", "keep-alive", "te", "upgrade", "proxy-connection"}) {
        EXPECT_EQ(seen.count(name), 0u) << name << " reached the backend: " << values(seen, name);
    }
    EXPECT_EQ(values(seen, "connection").find("X-Custom-Hop"), std::string::npos) << values(seen, "connection");
    EXPECT_EQ(values(seen, "x-end-to-end"), "kept");
}

TEST_F(HeadersTest, HopByHopHeadersFromTheBackendDoNotReachTheClient) {
    raw_tcp_server origin("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: X-Secret-Hop\r\n"
                          "X-Secret-Hop: 1\r\nKeep-Alive: timeout=9\r\nX-Visible: yes\r\n\r\nok");
    gateway_process gateway(dir_, {.backends = {origin.url()}});

    const auto response = gateway.request("GET", "/from-origin");
    ASSERT_EQ(response.status, 200) << describe(response);
    EXPECT_EQ(response.body, "ok");
    EXPECT_EQ(response.header("X-Visible"), "yes");
    EXPECT_FALSE(response.header("X-Secret-Hop").has_value()) << describe(response);
    EXPECT_FALSE(response.header("Keep-Alive").has_value()) << describe(response);
}

TEST_F(HeadersTest, ForwardedHeadersAndHostAreSet) {
    mock_backend backend(dir_);
    gateway_process gateway(dir_, {.backends = {backend.url()}});

    const auto seen = seen_by_backend(gateway, {{"Host", "api.example.test"}, {"X-Forwarded-For", "6.6.6.6"}});
    EXPECT_EQ(values(seen, "x-forwarded-for"), "127.0.0.1") << "untrusted peer's X-Forwarded-For must be replaced";
    EXPECT_EQ(values(seen, "x-forwarded-proto"), "http");
    EXPECT_EQ(values(seen, "x-forwarded-host"), "api.example.test");
    EXPECT_EQ(values(seen, "host"), "api.example.test");
}

TEST_F(HeadersTest, RequestIdIsKeptWhenSentAndEchoed) {
    mock_backend backend(dir_);
    gateway_process gateway(dir_, {.backends = {backend.url()}});

    http_response response;
    const auto seen = seen_by_backend(gateway, {{"X-Request-Id", "it-request-0042"}}, &response);
    EXPECT_EQ(values(seen, "x-request-id"), "it-request-0042");
    EXPECT_EQ(response.header("X-Request-Id"), "it-request-0042") << describe(response);
    EXPECT_EQ(response.header_count("X-Request-Id"), 1u) << describe(response);
}

TEST_F(HeadersTest, RequestIdIsGeneratedWhenMissingAndEchoed) {
    mock_backend backend(dir_);
    gateway_process gateway(dir_, {.backends = {backend.url()}});
    static const std::regex hex32("[0-9a-fA-F]{32}");

    std::set<std::string> ids;
    for (int i = 0; i < 3; ++i) {
        http_response response;
        const auto seen = seen_by_backend(gateway, {}, &response);
        const auto at_backend = values(seen, "x-request-id");
        EXPECT_TRUE(std::regex_match(at_backend, hex32)) << "generated X-Request-Id \"" << at_backend << "\"";
        EXPECT_EQ(response.header("X-Request-Id"), at_backend) << describe(response);
        ids.insert(at_backend);
    }
    EXPECT_EQ(ids.size(), 3u) << "generated request ids repeat";
}

TEST_F(HeadersTest, RequestIdIsOnGatewayErrorsToo) {
    gateway_process gateway(dir_, {.backends = {}});

    const auto response = gateway.request("GET", "/nowhere", {{"X-Request-Id", "it-error-id"}});
    EXPECT_TRUE(is_error_response(response, 404, "no_route"));
    EXPECT_EQ(response.header("X-Request-Id"), "it-error-id") << describe(response);
}

}  // namespace
}  // namespace it
