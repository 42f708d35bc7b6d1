// Upgrade tunnels (WebSocket and others): the 101, bytes both ways, the idle timeout, the
// drain, what the limiter and the breaker count, a refused upgrade and h2c.
#include "harness.hpp"

#include <gtest/gtest.h>
#include <signal.h>

#include <string>

namespace it {
namespace {

const std::vector<std::pair<std::string, std::string>> websocket_headers{
    {"Connection", "Upgrade"},
    {"Upgrade", "websocket"},
    {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="},
    {"Sec-WebSocket-Version", "13"},
};

// Sends an upgrade request and reads the answer, interim or not.
http_response ask_upgrade(http_connection& connection, std::string_view target = "/ws",
                          const std::vector<std::pair<std::string, std::string>>& headers = websocket_headers) {
    connection.send_request("GET", target, headers);
    read_options options;
    options.return_interim = true;
    return connection.read_response(options);
}

// `total` bytes through the tunnel and back, 64 KiB at a time; true when every byte came back
// in order.
bool echo(http_connection& connection, std::size_t total) {
    std::string piece;
    for (std::size_t i = 0; i < 64 * 1024; ++i) piece.push_back(static_cast<char>('a' + (i * 7) % 26));
    for (std::size_t done = 0; done < total; done += piece.size()) {
        piece[0] = static_cast<char>('A' + (done / piece.size()) % 26);  // each piece its own
        connection.send(piece);
        if (connection.read_bytes(piece.size()) != piece) return false;
    }
    return true;
}

class TunnelTest : public ::testing::Test {
protected:
    temp_dir dir_;
    std::uint16_t admin_port_ = free_port();

    double metric(std::string_view name) const { return scrape(admin_port_, name).value_or(-1); }
};

TEST_F(TunnelTest, AWebSocketEchoesAMebibyteThroughTheGateway) {
    mock_backend backend(dir_);
    gateway_process gateway(dir_, {.backends = {backend.url()}, .admin = admin_listen(admin_port_)});
    auto connection = gateway.connect();
    const auto switched = ask_upgrade(*connection);
    ASSERT_EQ(switched.status, 101) << describe(switched);
    EXPECT_EQ(switched.header("Upgrade"), "websocket");
    EXPECT_EQ(switched.header("Connection"), "upgrade");
    EXPECT_EQ(switched.header("Sec-WebSocket-Accept"), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");  // RFC 6455's example
    EXPECT_TRUE(switched.header("X-Request-Id").has_value());
    EXPECT_EQ(metric("gatewayd_tunnels_active"), 1);
    EXPECT_TRUE(echo(*connection, 1024 * 1024));
    EXPECT_EQ(metric("gatewayd_tunnels_total"), 1);

    connection.reset();  // the client closes: the backend side is closed too
    EXPECT_TRUE(wait_until([&] { return count_lines_containing(backend.log_path(), "tunnel port=") == 1; }, 3s));
    EXPECT_EQ(count_lines_containing(backend.log_path(), "echoed=1048576"), 1u) << read_file(backend.log_path());
    EXPECT_TRUE(wait_until([&] { return metric("gatewayd_tunnels_active") == 0; }, 2s));
    // One access line, status 101, and a 101 counted as the backend's success.
    EXPECT_TRUE(wait_until([&] { return count_lines_containing(gateway.log_path(), "path=/ws status=101") == 1; }, 2s));
    EXPECT_EQ(metric("gatewayd_upstream_requests_total{backend=\"" + backend.url() + "\",outcome=\"success\"}"), 1);
    EXPECT_EQ(metric("gatewayd_requests_total{code=\"101\"}"), 1);
}

TEST_F(TunnelTest, OtherProtocolsAreTunnelledToo) {
    mock_backend backend(dir_);
    gateway_process gateway(dir_, {.backends = {backend.url()}});
    auto connection = gateway.connect();
    const std::vector<std::pair<std::string, std::string>> headers{{"Connection", "keep-alive, Upgrade"},
                                                                   {"Upgrade", "h2c, my-protocol/2"}};
    const auto switched = ask_upgrade(*connection, "/ws", headers);
    ASSERT_EQ(switched.status, 101) << describe(switched);
    EXPECT_EQ(switched.header("Upgrade"), "my-protocol/2");  // h2c left out, the rest forwarded
    EXPECT_TRUE(echo(*connection, 64 * 1024));
}

TEST_F(TunnelTest, BytesSentRightBehindTheRequestReachTheBackendFirst) {
    mock_backend backend(dir_);
    gateway_process gateway(dir_, {.backends = {backend.url()}});
    auto connection = gateway.connect();
    connection->send(build_request("GET", "/ws", websocket_headers) + "early bytes");
    read_options options;
    options.return_interim = true;
    ASSERT_EQ(connection->read_response(options).status, 101);
    EXPECT_EQ(connection->read_bytes(11), "early bytes");
    EXPECT_TRUE(echo(*connection, 64 * 1024));
}

TEST_F(TunnelTest, ATunnelThroughTheTlsListenerAndToAnHttpsBackend) {
    test_pki pki(dir_);
    const auto server = pki.server("a.test", {"DNS:a.test", "DNS:localhost"});
    mock_backend backend(dir_, {"--tls-cert", server.cert, "--tls-key", server.key});
    gateway_process gateway(dir_, {.backends = {"https://localhost:" + std::to_string(backend.port())},
                                   .health_check = "enabled: false",
                                   .extra = "upstream_tls: {ca_file: \"" + pki.ca_file() + "\"}\n",
                                   .tls = "certificates: [{cert: \"" + server.cert + "\", key: \"" + server.key + "\"}]"});
    tls_client_options options;
    options.server_name = "a.test";
    options.ca_file = pki.ca_file();
    auto connection = gateway.connect_tls(options);
    ASSERT_EQ(ask_upgrade(*connection).status, 101);
    EXPECT_TRUE(echo(*connection, 1024 * 1024));
}

TEST_F(TunnelTest, ABackendThatRefusesTheUpgradeIsRelayedAsUsual) {
    mock_backend backend(dir_);
    gateway_process gateway(dir_, {.backends = {backend.url()}, .admin = admin_listen(admin_port_)});
    auto connection = gateway.connect();
    const auto refused = ask_upgrade(*connection, "/status/400");
    EXPECT_EQ(refused.status, 400) << describe(refused);
    const auto ignored = ask_upgrade(*connection, "/plain");  // a backend may ignore Upgrade
    EXPECT_EQ(ignored.status, 200) << describe(ignored);
    // The connection is still HTTP and carries the next request.
    EXPECT_EQ(connection->request("GET", "/next").status, 200);
    EXPECT_EQ(backend.connection_ids("/").size(), 1u);
    EXPECT_EQ(metric("gatewayd_tunnels_total"), 0);
    // The /ws endpoint without an upgrade asked: its own 426.
    EXPECT_EQ(connection->request("GET", "/ws").status, 426);
}

TEST_F(TunnelTest, H2cIsDroppedAndTheRequestServedAsHttp11) {
    mock_backend backend(dir_);
    gateway_process gateway(dir_, {.backends = {backend.url()}});
    auto connection = gateway.connect();
    const std::vector<std::pair<std::string, std::string>> headers{
        {"Connection", "Upgrade, HTTP2-Settings"}, {"Upgrade", "h2c"}, {"HTTP2-Settings", "AAMAAABkAARAAAAAAAIAAAAA"}};
    const auto response = ask_upgrade(*connection, "/headers", headers);
    ASSERT_EQ(response.status, 200) << describe(response);
    const auto seen = parse_header_lines(response.body);
    EXPECT_EQ(seen.count("upgrade"), 0u) << response.body;
    EXPECT_EQ(seen.count("http2-settings"), 0u) << response.body;
    EXPECT_EQ(seen.count("connection"), 0u) << response.body;
    EXPECT_EQ(connection->request("GET", "/again").status, 200);
}

TEST_F(TunnelTest, AnUpgradeWithABodyIsServedAsAPlainRequest) {
    mock_backend backend(dir_);
    gateway_process gateway(dir_, {.backends = {backend.url()}});
    auto connection = gateway.connect();
    auto headers = websocket_headers;
    headers.emplace_back("Content-Length", "5");
    connection->send(build_request("POST", "/headers", headers, "hello"));
    const auto response = connection->read_response();
    ASSERT_EQ(response.status, 200) << describe(response);
    EXPECT_EQ(parse_header_lines(response.body).count("upgrade"), 0u) << response.body;
}

TEST_F(TunnelTest, ATunnelWithNothingMovingIsClosedAfterTheIdleTimeout) {
    mock_backend backend(dir_);
    gateway_process gateway(dir_, {.backends = {backend.url()}, .extra = "tunnel_idle_timeout: 400ms\n",
                                   .admin = admin_listen(admin_port_)});
    auto connection = gateway.connect();
    ASSERT_EQ(ask_upgrade(*connection).status, 101);
    // Traffic in either direction keeps it open past the timeout.
    for (int i = 0; i < 6; ++i) {
        std::this_thread::sleep_for(150ms);
        ASSERT_TRUE(echo(*connection, 16)) << "round " << i;
    }
    const auto quiet_from = steady::now();
    EXPECT_TRUE(connection->closed_by_peer(3s));
    EXPECT_GE(steady::now() - quiet_from, 350ms);
    EXPECT_TRUE(wait_until([&] { return count_lines_containing(backend.log_path(), "tunnel port=") == 1; }, 3s));
    EXPECT_TRUE(wait_until([&] { return metric("gatewayd_tunnels_active") == 0; }, 2s));
}

TEST_F(TunnelTest, ASlowReaderStopsTheReadingOnTheOtherSide) {
    mock_backend backend(dir_);
    gateway_process gateway(dir_, {.backends = {backend.url()}});
    auto connection = gateway.connect(1s);  // a send that cannot go on for 1 s gives up
    ASSERT_EQ(ask_upgrade(*connection).status, 101);
    ASSERT_TRUE(echo(*connection, 64 * 1024));
    const auto rss_before = proc_status_kib(gateway.pid(), "VmRSS");
    // The client writes and never reads. The echo backs up toward it, so the gateway stops
    // reading from the backend, the backend stops reading from the gateway (it writes each piece
    // out before reading the next), the gateway stops reading from the client, and the client's
    // writes stall: only what the sockets' buffers hold is in flight, never the gateway's memory.
    const std::string piece(64 * 1024, 'x');
    std::uint64_t sent = 0;
    try {
        while (sent < 1024 * mib) {
            connection->send(piece);
            sent += piece.size();
        }
    } catch (const std::exception&) {
    }
    EXPECT_LT(sent, 256 * mib);
    const auto rss_after = proc_status_kib(gateway.pid(), "VmRSS");
    ASSERT_TRUE(rss_before && rss_after);
    EXPECT_LT(*rss_after, *rss_before + 4 * 1024) << "KiB before " << *rss_before << ", after " << *rss_after;
}

TEST_F(TunnelTest, TheLimiterCountsTheUpgradeRequestOnce) {
    mock_backend backend(dir_);
    gateway_process gateway(dir_, {.backends = {backend.url()},
                                   .rate_limit = "enabled: true, store: memory, requests: 2, window: 1h"});
    {
        auto connection = gateway.connect();
        ASSERT_EQ(ask_upgrade(*connection).status, 101);
        for (int i = 0; i < 5; ++i) ASSERT_TRUE(echo(*connection, 1024));
    }
    EXPECT_EQ(gateway.request("GET", "/second").status, 200);
    EXPECT_EQ(gateway.request("GET", "/third").status, 429);
}

TEST_F(TunnelTest, ADrainEndsTunnelsWhenShutdownTimeoutRunsOut) {
    mock_backend backend(dir_);
    gateway_process gateway(dir_, {.backends = {backend.url()}});  // shutdown_timeout: 2s
    auto connection = gateway.connect();
    ASSERT_EQ(ask_upgrade(*connection).status, 101);
    const auto signalled = steady::now();
    gateway.proc().send_signal(SIGTERM);
    // Still a tunnel while the drain waits.
    std::this_thread::sleep_for(300ms);
    EXPECT_TRUE(echo(*connection, 1024));
    EXPECT_TRUE(connection->closed_by_peer(5s));
    EXPECT_GE(steady::now() - signalled, 1900ms);
    const auto status = gateway.proc().wait_exit(5s);
    ASSERT_TRUE(status);
    EXPECT_EQ(status->shell_code(), 0);
    EXPECT_EQ(count_lines_containing(gateway.log_path(), "path=/ws status=101"), 1u) << gateway.log();
    EXPECT_TRUE(wait_until([&] { return count_lines_containing(backend.log_path(), "tunnel port=") == 1; }, 2s));
}

}  // namespace
}  // namespace it
