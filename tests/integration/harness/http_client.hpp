// The tests' own HTTP/1.1 client: requests out, responses read strictly, and the helpers that
// judge what came back.
#pragma once

#include "harness/basics.hpp"
#include "harness/tls_client.hpp"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace it {

// Byte i of the mock backend's generated bodies (and of our uploads) is pattern[i % 16].
constexpr std::string_view body_pattern = "0123456789abcdef";
// Checks streamed pieces against the pattern without keeping them.
class pattern_checker {
public:
    void feed(std::string_view piece);
    std::uint64_t bytes() const { return offset_; }
    std::optional<std::uint64_t> first_mismatch() const { return mismatch_; }

private:
    std::uint64_t offset_ = 0;
    std::optional<std::uint64_t> mismatch_;
};

// HTTP/1.1 client over a blocking POSIX socket with SO_RCVTIMEO/SO_SNDTIMEO, over TLS once
// start_tls succeeded.

struct http_response {
    int version_minor = 1;
    int status = 0;
    std::string reason;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;            // kept only when no body sink was given
    std::uint64_t body_bytes = 0;
    bool chunked = false;
    bool close_delimited = false;  // body ended by the server closing the connection

    // First value of a header, name compared case-insensitively.
    std::optional<std::string> header(std::string_view name) const;
    std::size_t header_count(std::string_view name) const;
};

struct read_options {
    bool head_request = false;     // response to HEAD: no body whatever the headers say
    bool return_interim = false;   // hand back 1xx responses instead of skipping them
    std::function<void(std::string_view)> body_sink;  // set: body streamed here, not stored
    std::size_t max_stored_body = 16 * mib;
    millis total_timeout = 60s;    // the whole response, however it trickles
};

class http_connection {
public:
    explicit http_connection(std::uint16_t port, millis timeout = 5s);
    ~http_connection();
    http_connection(const http_connection&) = delete;
    http_connection& operator=(const http_connection&) = delete;

    void send(std::string_view bytes);
    // Sends a request head built from the parts; Host defaults to 127.0.0.1.
    void send_request(std::string_view method, std::string_view target,
                      const std::vector<std::pair<std::string, std::string>>& headers = {},
                      std::string_view body = {});
    http_response read_response(const read_options& options = {});
    // Request then response in one step (Content-Length added when a body is given).
    http_response request(std::string_view method, std::string_view target,
                          const std::vector<std::pair<std::string, std::string>>& headers = {},
                          std::string_view body = {});
    // Streams `size` pattern bytes, either raw (Content-Length framing) or as chunks.
    void send_pattern_body(std::uint64_t size, bool chunked, std::size_t piece = 64 * 1024);
    // Exactly `size` raw bytes (what is left after a response head first): the bytes of a
    // tunnel after a 101. Throws when the connection closes or goes quiet first.
    std::string read_bytes(std::size_t size);
    // True when the server closes (EOF or reset) within `timeout` and sends nothing before that.
    bool closed_by_peer(millis timeout);
    // Waits up to `timeout` for at least one byte (kept for the next read); false on timeout.
    bool data_arrives_within(millis timeout);
    void shutdown_write();
    void set_timeout(millis timeout);
    int fd() const { return fd_; }

    // TLS from now on: false and the reason in `error` when the handshake fails.
    bool start_tls(const tls_client_options& options, std::string& error);
    // The TLS session, once start_tls succeeded; null otherwise.
    const tls_layer* tls() const { return tls_.get(); }

private:
    long raw_send(const char* data, std::size_t size);
    long raw_recv(char* data, std::size_t size);

    bool fill();  // one recv into buffer_; false on EOF
    std::string read_line();
    void read_exact(std::uint64_t size, http_response& response, const read_options& options);
    void deliver(std::string_view piece, http_response& response, const read_options& options);

    int fd_ = -1;
    millis timeout_;
    steady::time_point deadline_ = steady::time_point::max();
    std::string buffer_;
    std::size_t buffer_pos_ = 0;
    std::unique_ptr<tls_layer> tls_;
};

// Builds the bytes of one request; adds Host: 127.0.0.1 unless `headers` has a Host.
std::string build_request(std::string_view method, std::string_view target,
                          const std::vector<std::pair<std::string, std::string>>& headers = {},
                          std::string_view body = {}, std::string_view version = "HTTP/1.1");

// {"error":"...","message":"..."} fields; nullopt when the body is not such an object.
struct error_body {
    std::string error;
    std::string message;
};
std::optional<error_body> parse_error_body(std::string_view body);

// Status line, headers and the start of the body, for failure messages.
std::string describe(const http_response& response);

// The gateway's own error answer: that status, Content-Type application/json and a body
// {"error":"<error>","message":"<non-empty>"}.
::testing::AssertionResult is_error_response(const http_response& response, int status,
                                             std::string_view error);

}  // namespace it
