// Steady client load for the soak: paced requests over keep-alive connections, every answer kept
// and checked against what that request should have got.
#pragma once

#include "harness.hpp"

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace soak {

using it::millis;
using it::steady;

// What one request got.
struct outcome {
    std::string id;                 // unique; the backend sees it as the query `id=<id>`
    bool post = false;
    std::string target;
    int status = 0;                 // 0: no answer at all
    std::string backend_port;       // X-Backend-Port of the answer
    std::string problem;            // empty: the answer is one this request may get
    bool gateway_error = false;     // 502/503/504 with its JSON error body
    std::string rate_limit_limit;   // X-RateLimit-Limit of the answer
    steady::time_point sent{};
    double millis = 0;
};

struct worker_config {
    int index = 1;                  // the client is 10.77.0.<index> (X-Forwarded-For from a trusted peer)
    bool post = false;              // POSTs with a body, else GETs
    double rate = 50;               // requests per second
    std::uint16_t port = 0;         // the gateway
    steady::time_point stop_at{};
};

// The gateway's error name for a status it produces while proxying.
std::string_view error_name(int status);

// One client thread: a keep-alive connection (a new one only after a close), requests paced at a
// fixed rate, never retried by the client.
class load_worker {
public:
    explicit load_worker(worker_config config);
    ~load_worker();
    load_worker(const load_worker&) = delete;
    load_worker& operator=(const load_worker&) = delete;

    void abort() { abort_ = true; }
    void join();
    // The id of the request waiting for its answer right now, if any.
    std::optional<std::string> in_flight() const;
    bool posts() const { return config_.post; }
    std::size_t connections_opened() const { return connections_opened_; }
    // Valid after join().
    const std::vector<outcome>& outcomes() const { return outcomes_; }

private:
    void run();
    outcome send_one(std::uint64_t seq);

    worker_config config_;
    std::atomic<bool> abort_{false};
    mutable std::mutex current_lock_;
    std::optional<std::string> current_;
    std::unique_ptr<it::http_connection> connection_;
    std::size_t connections_opened_ = 0;
    std::vector<outcome> outcomes_;
    std::thread thread_;
};

}  // namespace soak
