// A backend whose every connection runs a script from the test: well-behaved, recording or
// hostile, and every request it reads is recorded as it came off the wire.
#pragma once

#include "harness/basics.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace it {

// One request as a scripted_backend read it off the wire, framing checked strictly.
struct wire_request {
    std::size_t connection = 0;  // 1-based accept order of the connection it came on
    std::string method;
    std::string target;
    std::string version;         // "HTTP/1.1"
    std::vector<std::pair<std::string, std::string>> headers;  // as received, values trimmed
    std::string body;            // decoded (chunks joined)
    bool chunked = false;
    bool complete = false;       // false: the connection ended or stalled inside this request
    std::string framing_error;   // non-empty: head or framing this reader refuses (then !complete)

    std::optional<std::string> header(std::string_view name) const;
    std::size_t header_count(std::string_view name) const;
};

// A loopback HTTP server on threads whose every connection runs a script: the script reads
// requests and writes whatever bytes it likes (valid HTTP or not), so it stands in for a
// well-behaved, recording or hostile backend. Every request read is recorded.
class scripted_backend {
public:
    class peer {
    public:
        std::size_t index() const { return index_; }
        // Reads the next request: head, then a body framed by one Content-Length or by a final
        // `chunked`. nullopt on EOF, on `timeout`, or on a head or framing it refuses (recorded
        // with complete == false either way when any byte of it arrived).
        std::optional<wire_request> read_request(millis timeout = 5s);
        void send(std::string_view bytes);
        // True when the other side closes within `timeout` (EOF or reset).
        bool closed_by_peer(millis timeout);
        void close();

    private:
        friend class scripted_backend;
        bool fill(steady::time_point deadline);
        std::string take_line(steady::time_point deadline, bool& ok);
        int fd_ = -1;
        std::size_t index_ = 0;
        scripted_backend* owner_ = nullptr;
        std::string buffer_;
    };
    using script = std::function<void(peer&)>;

    explicit scripted_backend(script per_connection);
    ~scripted_backend();
    scripted_backend(const scripted_backend&) = delete;
    scripted_backend& operator=(const scripted_backend&) = delete;

    std::uint16_t port() const { return port_; }
    std::string url() const;
    std::size_t connections() const { return connections_.load(); }
    std::vector<wire_request> requests() const;
    // Every byte received, over all connections, in arrival order per connection.
    std::string bytes_received() const;

    // A script that answers every complete request with 200 and `body` on a kept-alive connection.
    static script answer_ok(std::string body = "ok");

private:
    void accept_loop();
    void record(const wire_request& request);
    int listen_fd_ = -1;
    std::uint16_t port_ = 0;
    script script_;
    std::atomic<bool> stop_{false};
    std::atomic<std::size_t> connections_{0};
    mutable std::mutex mutex_;
    std::vector<wire_request> requests_;
    std::string bytes_;
    std::vector<int> peer_fds_;
    std::vector<std::thread> peer_threads_;
    std::thread accept_thread_;
};

}  // namespace it
