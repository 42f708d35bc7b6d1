// Load balancing, dead backends, retries and connection reuse, seen from a client and the backends.
#include "harness.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace it {
namespace {

std::string default_body(std::uint16_t port, std::string_view target) {
    return "Response from backend on port " + std::to_string(port) + " | path: " + std::string(target);
}

// Established TCP connections on this machine whose remote end is 127.0.0.1:`port`: with one
// gateway in front of a backend, the gateway's connections to it.
std::size_t connections_to(std::uint16_t port) {
    std::ifstream table("/proc/net/tcp");
    std::string line;
    std::getline(table, line);  // column names
    std::size_t count = 0;
    char remote[16];
    std::snprintf(remote, sizeof remote, "0100007F:%04X", port);
    while (std::getline(table, line)) {
        std::istringstream fields(line);
        std::string slot, local, peer, state;
        fields >> slot >> local >> peer >> state;
        if (peer == remote && state == "01") ++count;
    }
    return count;
}

// `clients` requests to /delay/300 on as many connections at once, all answered 200.
void concurrent_burst(gateway_process& gateway, int clients) {
    std::vector<std::unique_ptr<http_connection>> connections;
    for (int i = 0; i < clients; ++i) {
        connections.push_back(gateway.connect());
        connections.back()->send_request("GET", "/delay/300");
    }
    for (auto& connection : connections) {
        const auto response = connection->read_response();
        EXPECT_EQ(response.status, 200) << describe(response);
    }
}

class ProxyTest : public ::testing::Test {
protected:
    temp_dir dir_;
};

TEST_F(ProxyTest, ResponsesAlternateBetweenTwoBackends) {
    mock_backend a(dir_);
    mock_backend b(dir_);
    gateway_process gateway(dir_, {.backends = {a.url(), b.url()}});

    std::string previous_port;
    for (int i = 0; i < 20; ++i) {
        const auto target = "/rr/" + std::to_string(i);
        const auto response = gateway.request("GET", target);
        ASSERT_EQ(response.status, 200) << describe(response);
        const auto port = response.header("X-Backend-Port").value_or("");
        ASSERT_TRUE(port == std::to_string(a.port()) || port == std::to_string(b.port())) << describe(response);
        EXPECT_EQ(response.body, default_body(static_cast<std::uint16_t>(std::stoi(port)), target));
        if (i > 0) {
            EXPECT_NE(port, previous_port) << "request " << i << " went to the same backend twice in a row";
        }
        previous_port = port;
    }
    EXPECT_EQ(a.request_count("/rr/"), 10u);
    EXPECT_EQ(b.request_count("/rr/"), 10u);
}

TEST_F(ProxyTest, DeadBackendIsSkipped) {
    mock_backend live(dir_);
    const auto dead_port = free_port();
    gateway_process gateway(dir_, {.backends = {"http://127.0.0.1:" + std::to_string(dead_port), live.url()}});

    for (int i = 0; i < 10; ++i) {
        const auto target = "/skip/" + std::to_string(i);
        const auto response = gateway.request("GET", target);
        ASSERT_EQ(response.status, 200) << "request " << i << ":\n" << describe(response);
        EXPECT_EQ(response.header("X-Backend-Port"), std::to_string(live.port()));
        EXPECT_EQ(response.body, default_body(live.port(), target));
    }
    EXPECT_EQ(live.request_count("/skip/"), 10u);
}

TEST_F(ProxyTest, MethodTargetAndBodyReachTheBackendUnchanged) {
    mock_backend backend(dir_);
    gateway_process gateway(dir_, {.backends = {backend.url()}});

    const auto response = gateway.request("PUT", "/echo?x=1&y=%20two", {{"Content-Type", "text/x-test"}},
                                          "hello, backend");
    ASSERT_EQ(response.status, 200) << describe(response);
    EXPECT_EQ(response.body, "hello, backend");
    EXPECT_EQ(response.header("Content-Type"), "text/x-test");
    ASSERT_TRUE(wait_until([&] { return backend.request_count("/echo") == 1; }, 2s));
    EXPECT_NE(backend.requests("/echo")[0].find("method=PUT target=/echo?x=1&y=%20two"), std::string::npos)
        << backend.requests("/echo")[0];

    for (const std::string method : {"DELETE", "PATCH", "OPTIONS"}) {
        const auto answered = gateway.request(method, "/m/" + method);
        EXPECT_EQ(answered.status, 200) << method << ":\n" << describe(answered);
        ASSERT_TRUE(wait_until([&] { return backend.request_count("/m/" + method) == 1; }, 2s)) << method;
        EXPECT_NE(backend.requests("/m/" + method)[0].find("method=" + method), std::string::npos);
    }
}

TEST_F(ProxyTest, KeepAliveReusesBackendConnections) {
    mock_backend a(dir_);
    mock_backend b(dir_);
    gateway_process gateway(dir_, {.backends = {a.url(), b.url()}});

    for (int client = 0; client < 2; ++client) {
        auto connection = gateway.connect();
        for (int i = 0; i < 100; ++i) {
            const auto target = "/ka/" + std::to_string(client) + "/" + std::to_string(i);
            const auto response = connection->request("GET", target);
            ASSERT_EQ(response.status, 200) << target << ":\n" << describe(response);
            ASSERT_EQ(response.body.find("Response from backend on port "), 0u) << describe(response);
        }
    }
    ASSERT_TRUE(wait_until([&] { return a.request_count("/ka/") + b.request_count("/ka/") == 200; }, 2s));
    EXPECT_EQ(a.request_count("/ka/"), 100u);
    EXPECT_EQ(b.request_count("/ka/"), 100u);
    const auto connections = a.connection_ids("/ka/").size() + b.connection_ids("/ka/").size();
    EXPECT_LE(connections, 5u) << "200 requests used " << connections << " backend connections";
}

TEST_F(ProxyTest, FreshClientConnectionsStillReusePooledBackendConnections) {
    mock_backend backend(dir_);
    gateway_process gateway(dir_, {.backends = {backend.url()}});

    for (int i = 0; i < 50; ++i) {
        const auto response = gateway.request("GET", "/fresh/" + std::to_string(i));
        ASSERT_EQ(response.status, 200) << describe(response);
    }
    ASSERT_TRUE(wait_until([&] { return backend.request_count("/fresh/") == 50; }, 2s));
    const auto connections = backend.connection_ids("/fresh/").size();
    EXPECT_LE(connections, 5u) << "50 sequential requests used " << connections << " backend connections";
}

TEST_F(ProxyTest, ABurstReusesTheLastBurstsConnectionsAndTheSurplusClosesAfterItsGrace) {
    mock_backend backend(dir_);
    gateway_process gateway(dir_, {.backends = {backend.url()},
                                   .upstream = "connect_timeout: 500ms, max_idle_per_backend: 1",
                                   .health_check = "enabled: false"});

    concurrent_burst(gateway, 4);
    ASSERT_TRUE(wait_until([&] { return backend.request_count("/delay/") == 4; }, 2s));
    EXPECT_EQ(backend.connection_ids("/delay/").size(), 4u);
    // Right after it, a second burst finds the first one's four connections still open.
    concurrent_burst(gateway, 4);
    ASSERT_TRUE(wait_until([&] { return backend.request_count("/delay/") == 8; }, 2s));
    EXPECT_EQ(backend.connection_ids("/delay/").size(), 4u);

    // Once the burst is over, the pool shrinks back to max_idle_per_backend...
    EXPECT_TRUE(wait_until([&] { return connections_to(backend.port()) == 1; }, 5s))
        << connections_to(backend.port()) << " connections to the backend are still open";
    // ...so the next burst has to open three again.
    concurrent_burst(gateway, 4);
    ASSERT_TRUE(wait_until([&] { return backend.request_count("/delay/") == 12; }, 2s));
    EXPECT_EQ(backend.connection_ids("/delay/").size(), 7u);
}

TEST_F(ProxyTest, PostIsRetriedOnTheLiveBackendWhenTheFirstRefuses) {
    mock_backend live(dir_);
    const auto dead_port = free_port();
    gateway_process gateway(dir_, {.backends = {"http://127.0.0.1:" + std::to_string(dead_port), live.url()},
                                   .upstream = "connect_timeout: 500ms, retries: 1"});

    // The first request goes to the first backend in round-robin order: the dead one.
    const auto post = gateway.request("POST", "/sink", {}, "12345");
    ASSERT_EQ(post.status, 200) << describe(post);
    EXPECT_EQ(post.body, "received 5 bytes");
    for (int i = 0; i < 4; ++i) {
        const auto get = gateway.request("GET", "/after/" + std::to_string(i));
        EXPECT_EQ(get.status, 200) << describe(get);
    }
}

TEST_F(ProxyTest, GetIsRetriedOnTheLiveBackendWhenTheFirstRefuses) {
    mock_backend live(dir_);
    const auto dead_port = free_port();
    gateway_process gateway(dir_, {.backends = {"http://127.0.0.1:" + std::to_string(dead_port), live.url()},
                                   .upstream = "connect_timeout: 500ms, retries: 1"});

    for (int i = 0; i < 4; ++i) {
        const auto response = gateway.request("GET", "/retry/" + std::to_string(i));
        ASSERT_EQ(response.status, 200) << "request " << i << ":\n" << describe(response);
        EXPECT_EQ(response.header("X-Backend-Port"), std::to_string(live.port()));
    }
}

TEST_F(ProxyTest, StalePooledConnectionAfterBackendRestartIsNotA502) {
    auto backend = std::make_unique<mock_backend>(dir_);
    const auto port = backend->port();
    gateway_process gateway(dir_, {.backends = {backend->url()}, .upstream = "connect_timeout: 500ms, retries: 1"});

    auto connection = gateway.connect();
    const auto first = connection->request("GET", "/before-restart");
    ASSERT_EQ(first.status, 200) << describe(first);

    // The gateway now holds an idle pooled connection to a process that goes away.
    EXPECT_TRUE(backend->stop().exited);
    backend = std::make_unique<mock_backend>(dir_, std::vector<std::string>{}, port);
    ASSERT_EQ(backend->port(), port);

    for (int i = 0; i < 3; ++i) {
        const auto response = connection->request("GET", "/after-restart/" + std::to_string(i));
        EXPECT_EQ(response.status, 200) << "request " << i << " after the restart:\n" << describe(response);
    }
    EXPECT_EQ(backend->request_count("/after-restart/"), 3u);
}

}  // namespace
}  // namespace it
