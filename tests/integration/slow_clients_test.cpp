// Slow and many clients: thousands of idle and byte-at-a-time connections do not starve a normal
// client, max_connections is enforced and frees its slots, a reader that stops reading a large
// response does not grow the gateway's memory, and no file descriptor leaks.
#include "harness.hpp"

#include <gtest/gtest.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

namespace it {
namespace {

// ASan's shadow memory and quarantine make RSS meaningless and everything slower: the sanitizer
// build streams a smaller response, skips the RSS bound and allows more time.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool sanitized = true;
constexpr std::uint64_t large_response = 16 * mib;
constexpr millis prompt = 2000ms;
#else
constexpr bool sanitized = false;
constexpr std::uint64_t large_response = 64 * mib;
constexpr millis prompt = 1000ms;
#endif
constexpr int idle_connections = 2000;
constexpr int slowloris_connections = 100;

millis elapsed_since(steady::time_point start) {
    return std::chrono::duration_cast<millis>(steady::now() - start);
}

// Raises the soft RLIMIT_NOFILE of this process (and so of the gateway it spawns) to `wanted`
// when the hard limit allows; returns the soft limit in force.
rlim_t raise_fd_limit(rlim_t wanted) {
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
    if (limit.rlim_cur < wanted) {
        limit.rlim_cur = std::min(wanted, limit.rlim_max);
        ::setrlimit(RLIMIT_NOFILE, &limit);
        ::getrlimit(RLIMIT_NOFILE, &limit);
    }
    return limit.rlim_cur;
}

std::size_t open_fds(pid_t pid) {
    std::error_code ec;
    std::size_t count = 0;
    for (fs::directory_iterator it("/proc/" + std::to_string(pid) + "/fd", ec), end; !ec && it != end;
         it.increment(ec)) {
        ++count;
    }
    return count;
}

// Plain TCP connections to 127.0.0.1:port that send nothing unless told; closed on destruction.
class raw_connections {
public:
    raw_connections() = default;
    ~raw_connections() {
        for (const int fd : fds_) ::close(fd);
    }
    raw_connections(const raw_connections&) = delete;
    raw_connections& operator=(const raw_connections&) = delete;

    // Opens `count` more; returns how many connected.
    int open(std::uint16_t port, int count) {
        int opened = 0;
        for (int i = 0; i < count; ++i) {
            const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            if (fd < 0) break;
            sockaddr_in address{};
            address.sin_family = AF_INET;
            address.sin_port = htons(port);
            address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
                ::close(fd);
                break;
            }
            fds_.push_back(fd);
            ++opened;
        }
        return opened;
    }
    // Sends byte `index` of `text` on every connection; false once one of them failed.
    bool send_byte(std::string_view text, std::size_t index) {
        bool all = true;
        for (const int fd : fds_) {
            if (::send(fd, text.data() + index % text.size(), 1, MSG_NOSIGNAL | MSG_DONTWAIT) != 1) all = false;
        }
        return all;
    }
    std::size_t size() const { return fds_.size(); }

private:
    std::vector<int> fds_;
};

class SlowClientsTest : public ::testing::Test {
protected:
    temp_dir dir_;
};

TEST_F(SlowClientsTest, IdleAndSlowlorisConnectionsDoNotStarveANormalClient) {
    const rlim_t needed = idle_connections + slowloris_connections + 512;
    ASSERT_GE(raise_fd_limit(2 * needed), needed) << "RLIMIT_NOFILE too low for this test";
    mock_backend backend(dir_, {"--quiet"});
    // No health checks: a probe's socket open at the first count would skew the fd arithmetic.
    gateway_process gateway(dir_, {.backends = {backend.url()},
                                   .client = "header_timeout: 30s, max_connections: 10000",
                                   .health_check = "enabled: false"});
    const auto fds_at_start = open_fds(gateway.pid());

    raw_connections idle;
    ASSERT_EQ(idle.open(gateway.port(), idle_connections), idle_connections);
    raw_connections slow;
    ASSERT_EQ(slow.open(gateway.port(), slowloris_connections), slowloris_connections);
    // The gateway holds them all (accepted, not just queued in the kernel's backlog).
    const auto held = static_cast<std::size_t>(idle_connections + slowloris_connections);
    // Two fds of slack: the harness's readiness probe may still be open at the first count.
    ASSERT_TRUE(wait_until([&] { return open_fds(gateway.pid()) + 2 >= fds_at_start + held; }, 10s))
        << "gateway holds " << open_fds(gateway.pid()) << " fds";

    // Slowloris: every connection sends one more byte of a header that never ends.
    const std::string trickle = "GET /slowloris HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Trickle: " + std::string(4000, 'a');
    std::atomic<bool> stop{false};
    std::atomic<int> rounds{0};
    std::thread trickler([&] {
        for (std::size_t i = 0; i < trickle.size() && !stop; ++i) {
            slow.send_byte(trickle, i);
            ++rounds;
            std::this_thread::sleep_for(20ms);  // the pace of the attack, not a wait for a condition
        }
    });

    millis worst{0};
    for (int i = 0; i < 10; ++i) {
        const auto start = steady::now();
        auto connection = gateway.connect(5s);
        const auto response = connection->request("GET", "/normal/" + std::to_string(i));
        const auto took = elapsed_since(start);
        worst = std::max(worst, took);
        EXPECT_EQ(response.status, 200) << describe(response);
        EXPECT_LT(took, prompt) << "normal request " << i << " took " << took.count() << " ms";
        std::this_thread::sleep_for(100ms);  // spread the probes over the attack
    }
    stop = true;
    trickler.join();
    std::printf("[ measure  ] %d idle + %d slowloris connections (%d bytes each): worst normal request %lld ms\n",
                idle_connections, slowloris_connections, rounds.load(), static_cast<long long>(worst.count()));
    EXPECT_GT(rounds.load(), 20) << "the slowloris connections hardly sent anything";
}

TEST_F(SlowClientsTest, MaxConnectionsRefusesTheNextAndFreesASlotOnClose) {
    constexpr int limit = 5;
    mock_backend backend(dir_, {"--quiet"});
    gateway_process gateway(dir_, {.backends = {backend.url()},
                                   .client = "max_connections: " + std::to_string(limit)});

    // `limit` keep-alive connections, each proven accepted by a served request.
    std::vector<std::unique_ptr<http_connection>> held;
    for (int i = 0; i < limit; ++i) {
        held.push_back(gateway.connect(3s));
        const auto response = held.back()->request("GET", "/held");
        ASSERT_EQ(response.status, 200) << "connection " << i + 1 << ": " << describe(response);
    }

    // Connection limit + 1: the kernel completes the handshake, the gateway closes it unanswered.
    auto extra = gateway.connect(3s);
    EXPECT_TRUE(extra->closed_by_peer(2s)) << "connection " << limit + 1 << " was kept beyond max_connections";
    // The held ones still work.
    EXPECT_EQ(held.front()->request("GET", "/still-held").status, 200);

    // One closes: a new connection is served once the gateway has noticed (bounded wait).
    held.pop_back();
    bool served = false;
    const auto start = steady::now();
    for (int attempt = 0; attempt < 50 && !served && elapsed_since(start) < 5s; ++attempt) {
        try {
            auto connection = gateway.connect(2s);
            served = connection->request("GET", "/freed-slot").status == 200;
        } catch (const std::exception&) {
            std::this_thread::sleep_for(50ms);  // the old session is still ending: try again
        }
    }
    EXPECT_TRUE(served) << "no slot freed within 5 s after a connection closed";
    std::printf("[ measure  ] slot free again after %lld ms\n", static_cast<long long>(elapsed_since(start).count()));
}

TEST_F(SlowClientsTest, SlowReaderOfALargeResponseDoesNotGrowTheGatewaysMemory) {
    mock_backend backend(dir_, {"--quiet"});
    gateway_process gateway(dir_, {.backends = {backend.url()}, .client = "body_timeout: 30s"});
    EXPECT_EQ(gateway.request("GET", "/warm-up").status, 200);
    const auto before = proc_status_kib(gateway.pid(), "VmRSS");
    ASSERT_TRUE(before.has_value());

    auto connection = gateway.connect(30s);
    // A small receive buffer makes the stall bite early instead of in kernel buffers.
    const int small = 64 * 1024;
    ::setsockopt(connection->fd(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    connection->send_request("GET", "/bytes/" + std::to_string(large_response));
    // Read nothing for 3 s while the backend has the whole body ready.
    ASSERT_TRUE(connection->data_arrives_within(5s));
    std::uint64_t peak_stalled = *before;
    const auto stall_end = steady::now() + 3s;
    while (steady::now() < stall_end) {
        peak_stalled = std::max(peak_stalled, proc_status_kib(gateway.pid(), "VmRSS").value_or(0));
        std::this_thread::sleep_for(100ms);  // sampling interval
    }

    // Then read it all: the stream resumes and the body is intact.
    pattern_checker received;
    read_options options;
    options.body_sink = [&](std::string_view piece) { received.feed(piece); };
    options.total_timeout = 60s;
    const auto response = connection->read_response(options);
    EXPECT_EQ(response.status, 200) << describe(response);
    EXPECT_EQ(received.bytes(), large_response);
    EXPECT_FALSE(received.first_mismatch().has_value());
    const auto after = proc_status_kib(gateway.pid(), "VmRSS").value_or(0);

    const auto growth = peak_stalled > *before ? peak_stalled - *before : 0;
    std::printf("[ measure  ] gateway VmRSS %llu KiB before, %llu KiB peak while the reader stalled, %llu KiB after "
                "(%llu MiB response)\n",
                static_cast<unsigned long long>(*before), static_cast<unsigned long long>(peak_stalled),
                static_cast<unsigned long long>(after), static_cast<unsigned long long>(large_response / mib));
    if (!sanitized) {
        // A few 64 KiB relay blocks, not the body: far below the response size.
        EXPECT_LT(growth, 8u * 1024) << "RSS grew " << growth << " KiB while the client read nothing";
    }
}

TEST_F(SlowClientsTest, FileDescriptorsDoNotLeakAcrossConnectionsErrorsAndTimeouts) {
    mock_backend backend(dir_, {"--quiet"});
    raw_tcp_server broken("NOT HTTP\r\n\r\n");
    // The breaker stays out of it so that every /broken request reaches the broken backend.
    const std::string routes = "circuit_breaker: {enabled: false}\n"
                               "routes:\n  - name: broken\n    match: {path_prefix: /broken}\n    backends:\n"
                               "      - url: " + broken.url() + "\n";
    gateway_process gateway(dir_, {.backends = {backend.url()},
                                   .client = "header_timeout: 300ms",
                                   .upstream = "connect_timeout: 500ms, timeout: 1s, retries: 0, max_idle_per_backend: 2",
                                   .health_check = "enabled: false",
                                   .extra = routes});
    EXPECT_EQ(gateway.request("GET", "/warm-up").status, 200);
    const auto before = open_fds(gateway.pid());

    for (int i = 0; i < 100; ++i) EXPECT_EQ(gateway.request("GET", "/ok").status, 200);
    for (int i = 0; i < 30; ++i) {
        auto connection = gateway.connect(3s);
        connection->send("NOT HTTP AT ALL\r\n\r\n");
        EXPECT_EQ(connection->read_response().status, 400);
    }
    for (int i = 0; i < 30; ++i) EXPECT_EQ(gateway.request("GET", "/broken/x").status, 502);
    for (int i = 0; i < 30; ++i) {
        // The client goes away in the middle of a request body and of a response.
        auto upload = gateway.connect(3s);
        upload->send("POST /sink HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100000\r\n\r\npartial");
        auto download = gateway.connect(3s);
        download->send_request("GET", "/bytes/10000000");
        EXPECT_TRUE(download->data_arrives_within(3s));
    }
    {
        // Header timeouts: 20 connections that send half a header and wait for their 408.
        std::vector<std::unique_ptr<http_connection>> late;
        for (int i = 0; i < 20; ++i) {
            late.push_back(gateway.connect(3s));
            late.back()->send("GET /late HTTP/1.1\r\n");
        }
        for (auto& connection : late) EXPECT_EQ(connection->read_response().status, 408);
    }

    // Pooled upstream connections (at most max_idle_per_backend) may stay; nothing else may.
    const std::size_t slack = 2;
    const bool settled = wait_until([&] { return open_fds(gateway.pid()) <= before + slack; }, 5s, 50ms);
    const auto after = open_fds(gateway.pid());
    std::printf("[ measure  ] gateway fds %zu before, %zu after 210 connections with errors and timeouts\n", before,
                after);
    EXPECT_TRUE(settled) << "gateway fds: " << before << " before, " << after << " after";
}

}  // namespace
}  // namespace it
