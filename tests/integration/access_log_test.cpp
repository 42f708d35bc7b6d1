// One access-log line per request, with the fields an operator greps for.
#include "harness.hpp"

#include <gtest/gtest.h>

#include <string>

namespace it {
namespace {

class AccessLogTest : public ::testing::Test {
protected:
    temp_dir dir_;
};

std::vector<std::string> access_lines(const gateway_process& gateway) {
    return lines_containing(gateway.log_path(), "access client=");
}

std::string line_with(const std::vector<std::string>& lines, std::string_view needle) {
    for (const auto& line : lines) {
        if (line.find(needle) != std::string::npos) return line;
    }
    return {};
}

TEST_F(AccessLogTest, OneLinePerRequestWithClientMethodPathStatusBackendAndRequestId) {
    mock_backend backend(dir_);
    gateway_process gateway(dir_, {.backends = {backend.url()}});

    auto connection = gateway.connect();
    EXPECT_EQ(connection->request("GET", "/log/one?q=1", {{"X-Request-Id", "it-log-1"}}).status, 200);
    EXPECT_EQ(connection->request("POST", "/sink", {{"X-Request-Id", "it-log-2"}}, "body").status, 200);
    EXPECT_EQ(connection->request("HEAD", "/log/three", {{"X-Request-Id", "it-log-3"}}).status, 200);
    EXPECT_EQ(connection->request("GET", "/status/503", {{"X-Request-Id", "it-log-4"}}).status, 503);

    ASSERT_TRUE(wait_until([&] { return access_lines(gateway).size() >= 4; }, 3s))
        << "access lines:\n" << gateway.log();
    const auto lines = access_lines(gateway);
    EXPECT_EQ(lines.size(), 4u) << gateway.log();

    const std::string backend_field = "backend=" + backend.url();
    struct expected {
        std::string id, method, path, status;
    };
    for (const auto& want : {expected{"it-log-1", "GET", "/log/one", "200"},
                             expected{"it-log-2", "POST", "/sink", "200"},
                             expected{"it-log-3", "HEAD", "/log/three", "200"},
                             expected{"it-log-4", "GET", "/status/503", "503"}}) {
        const auto line = line_with(lines, "request_id=" + want.id);
        ASSERT_FALSE(line.empty()) << "no access line for " << want.id << ":\n" << gateway.log();
        EXPECT_NE(line.find("client=127.0.0.1"), std::string::npos) << line;
        EXPECT_NE(line.find("method=" + want.method + " "), std::string::npos) << line;
        EXPECT_NE(line.find("path=" + want.path), std::string::npos) << line;
        EXPECT_NE(line.find("status=" + want.status + " "), std::string::npos) << line;
        EXPECT_NE(line.find(backend_field), std::string::npos) << line;
        EXPECT_NE(line.find("duration_ms="), std::string::npos) << line;
    }
}

TEST_F(AccessLogTest, GatewayAnswersAreLoggedToo) {
    gateway_process gateway(dir_, {.backends = {}});

    const auto response = gateway.request("GET", "/unrouted", {{"X-Request-Id", "it-log-404"}});
    EXPECT_EQ(response.status, 404);
    ASSERT_TRUE(wait_until([&] { return !access_lines(gateway).empty(); }, 3s)) << gateway.log();
    const auto lines = access_lines(gateway);
    EXPECT_EQ(lines.size(), 1u) << gateway.log();
    const auto line = line_with(lines, "request_id=it-log-404");
    EXPECT_NE(line.find("status=404"), std::string::npos) << gateway.log();
    EXPECT_NE(line.find("path=/unrouted"), std::string::npos) << gateway.log();
}

}  // namespace
}  // namespace it
