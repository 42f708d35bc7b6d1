// 100 MiB bodies in both directions stream through the gateway while its memory stays small.
#include "harness.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <string>
#include <thread>

namespace it {
namespace {

// ASan keeps freed memory in quarantine and adds shadow memory, so RSS says nothing about the
// gateway there, and its unoptimised echo path is slow: the sanitizer build streams a smaller
// body over the same code and the memory bound is checked in the normal build.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool rss_is_meaningful = false;
constexpr std::uint64_t big = 16 * mib;
#else
constexpr bool rss_is_meaningful = true;
constexpr std::uint64_t big = 100 * mib;
#endif
constexpr std::uint64_t peak_rss_limit_kib = 64 * 1024;

class StreamingTest : public ::testing::Test {
protected:
    void expect_bounded_memory(const gateway_process& gateway) {
        const auto peak = gateway.peak_rss_kib();
        ASSERT_TRUE(peak.has_value()) << "cannot read VmHWM of pid " << gateway.pid();
        if (rss_is_meaningful) {
            EXPECT_LT(*peak, peak_rss_limit_kib) << "gateway peak RSS " << *peak << " KiB after a 100 MiB transfer";
        }
        std::printf("[ measure  ] gateway VmHWM %llu KiB\n", static_cast<unsigned long long>(*peak));
    }

    // POST `size` pattern bytes to `target`; the response body is checked against the pattern when
    // `expect_echo`, and returned otherwise.
    http_response upload(const gateway_process& gateway, std::string_view target, bool chunked, bool expect_echo) {
        auto connection = gateway.connect(20s);
        std::string head = "POST " + std::string(target) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
        head += "Content-Type: application/octet-stream\r\n";
        head += chunked ? std::string("Transfer-Encoding: chunked\r\n")
                        : "Content-Length: " + std::to_string(big) + "\r\n";
        head += "\r\n";

        // The echo answer flows back while the body is still going out, so send on a second thread.
        std::exception_ptr send_error;
        std::thread sender([&] {
            try {
                connection->send(head);
                connection->send_pattern_body(big, chunked);
            } catch (...) {
                send_error = std::current_exception();
            }
        });
        pattern_checker echoed;
        read_options options;
        if (expect_echo) options.body_sink = [&](std::string_view piece) { echoed.feed(piece); };
        http_response response;
        std::exception_ptr read_error;
        try {
            response = connection->read_response(options);
        } catch (...) {
            read_error = std::current_exception();
            ::shutdown(connection->fd(), SHUT_RDWR);  // unblocks the sender
        }
        sender.join();
        if (read_error) std::rethrow_exception(read_error);
        if (send_error) std::rethrow_exception(send_error);
        if (expect_echo) {
            EXPECT_EQ(echoed.bytes(), big);
            EXPECT_FALSE(echoed.first_mismatch().has_value())
                << "echoed body differs at byte " << echoed.first_mismatch().value_or(0);
        }
        return response;
    }

    temp_dir dir_;
};

TEST_F(StreamingTest, Upload100MiBWithContentLengthToSink) {
    mock_backend backend(dir_, {"--quiet"});
    gateway_process gateway(dir_, {.backends = {backend.url()}});
    const auto response = upload(gateway, "/sink", false, false);
    EXPECT_EQ(response.status, 200) << describe(response);
    EXPECT_EQ(response.body, "received " + std::to_string(big) + " bytes");
    expect_bounded_memory(gateway);
}

TEST_F(StreamingTest, Upload100MiBChunkedToSink) {
    mock_backend backend(dir_, {"--quiet"});
    gateway_process gateway(dir_, {.backends = {backend.url()}});
    const auto response = upload(gateway, "/sink", true, false);
    EXPECT_EQ(response.status, 200) << describe(response);
    EXPECT_EQ(response.body, "received " + std::to_string(big) + " bytes");
    expect_bounded_memory(gateway);
}

TEST_F(StreamingTest, Upload100MiBWithContentLengthEchoedBack) {
    mock_backend backend(dir_, {"--quiet"});
    gateway_process gateway(dir_, {.backends = {backend.url()}});
    const auto response = upload(gateway, "/echo", false, true);
    EXPECT_EQ(response.status, 200) << describe(response);
    EXPECT_EQ(response.body_bytes, big);
    expect_bounded_memory(gateway);
}

TEST_F(StreamingTest, Upload100MiBChunkedEchoedBack) {
    mock_backend backend(dir_, {"--quiet"});
    gateway_process gateway(dir_, {.backends = {backend.url()}});
    const auto response = upload(gateway, "/echo", true, true);
    EXPECT_EQ(response.status, 200) << describe(response);
    EXPECT_EQ(response.body_bytes, big);
    expect_bounded_memory(gateway);
}

void download(const gateway_process& gateway) {
    auto connection = gateway.connect(20s);
    connection->send_request("GET", "/bytes/" + std::to_string(big));
    pattern_checker received;
    read_options options;
    options.body_sink = [&](std::string_view piece) { received.feed(piece); };
    const auto response = connection->read_response(options);
    EXPECT_EQ(response.status, 200) << describe(response);
    EXPECT_EQ(received.bytes(), big);
    EXPECT_FALSE(received.first_mismatch().has_value())
        << "downloaded body differs at byte " << received.first_mismatch().value_or(0);
    // The connection is still usable afterwards.
    const auto next = connection->request("GET", "/after-download");
    EXPECT_EQ(next.status, 200) << describe(next);
}

TEST_F(StreamingTest, Download100MiBWithContentLength) {
    mock_backend backend(dir_, {"--quiet"});
    gateway_process gateway(dir_, {.backends = {backend.url()}});
    download(gateway);
    expect_bounded_memory(gateway);
}

TEST_F(StreamingTest, Download100MiBChunked) {
    mock_backend backend(dir_, {"--quiet", "--chunked"});
    gateway_process gateway(dir_, {.backends = {backend.url()}});
    download(gateway);
    expect_bounded_memory(gateway);
}

// A backend that sends its body in pieces and waits, after each, until the client has it all:
// the gateway writes a large piece with MSG_MORE while more body is due, and the kernel would
// keep its tail back until the next write, or, with nothing else in flight, until its probe
// timer fires (200 ms or more: TCP_RTO_MIN). The gateway releases held bytes as soon as a read
// of the backend finds nothing waiting, so each piece arrives at once. A load spike can slow one
// piece; the fastest of four stays far under the kernel's 200 ms only when nothing is held back.
class PausingBodyTest : public ::testing::TestWithParam<bool> {  // true: chunked
protected:
    static constexpr std::size_t piece = 20000;  // over the relay's 8 KiB direct-read threshold
    static constexpr int pieces = 5;
    temp_dir dir_;
};

TEST_P(PausingBodyTest, EachPieceReachesTheClientWhileTheBackendWaits) {
    const bool chunked = GetParam();
    std::mutex mutex;
    std::condition_variable arrived;
    std::uint64_t client_bytes = 0;
    std::array<steady::time_point, pieces> sent_at{};
    std::array<steady::time_point, pieces> seen_at{};
    bool client_gave_up = false;

    const std::string body_piece(piece, 'p');
    scripted_backend backend([&](scripted_backend::peer& connection) {
        if (!connection.read_request(10s)) return;
        connection.send(chunked ? std::string("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
                                : "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(piece * pieces) + "\r\n\r\n");
        for (int i = 0; i < pieces; ++i) {
            {
                const std::lock_guard lock(mutex);
                sent_at[i] = steady::now();
            }
            if (chunked) {
                std::string framed = "4e20\r\n" + body_piece + "\r\n";  // 0x4e20 = 20000
                if (i + 1 == pieces) framed += "0\r\n\r\n";
                connection.send(framed);
            } else {
                connection.send(body_piece);
            }
            std::unique_lock lock(mutex);
            const auto want = static_cast<std::uint64_t>(piece) * static_cast<std::uint64_t>(i + 1);
            if (!arrived.wait_for(lock, 5s, [&] { return client_bytes >= want || client_gave_up; })) return;
            if (client_gave_up) return;
        }
    });
    gateway_process gateway(dir_, {.backends = {backend.url()}, .health_check = "enabled: false"});

    auto connection = gateway.connect(10s);
    connection->send_request("GET", "/pausing");
    read_options options;
    options.total_timeout = 20s;
    options.body_sink = [&](std::string_view bytes) {
        const std::lock_guard lock(mutex);
        const auto before = client_bytes;
        client_bytes += bytes.size();
        for (int i = 0; i < pieces; ++i) {
            const auto end = static_cast<std::uint64_t>(piece) * static_cast<std::uint64_t>(i + 1);
            if (before < end && client_bytes >= end) seen_at[i] = steady::now();
        }
        arrived.notify_all();
    };
    http_response response;
    try {
        response = connection->read_response(options);
    } catch (...) {
        {
            const std::lock_guard lock(mutex);
            client_gave_up = true;
        }
        arrived.notify_all();
        throw;
    }
    EXPECT_EQ(response.status, 200) << describe(response);
    const std::lock_guard lock(mutex);
    ASSERT_EQ(client_bytes, piece * pieces);
    auto fastest = steady::duration::max();
    // The last piece ends the body and is never held back: it says nothing here.
    for (int i = 0; i + 1 < pieces; ++i) fastest = std::min(fastest, seen_at[i] - sent_at[i]);
    const auto fastest_ms = std::chrono::duration_cast<std::chrono::milliseconds>(fastest).count();
    std::printf("[ measure  ] fastest piece through the gateway: %lld ms\n", static_cast<long long>(fastest_ms));
    EXPECT_LT(fastest, 100ms) << "every piece waited for the kernel to release it";
}

INSTANTIATE_TEST_SUITE_P(Framing, PausingBodyTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "Chunked" : "ContentLength"; });

}  // namespace
}  // namespace it
