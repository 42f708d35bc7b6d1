#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace gw {

// Latency buckets in seconds, from a cache hit on loopback to a slow backend.
inline constexpr std::array<double, 14> latency_buckets{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                        0.1,    0.25,  0.5,    1.0,   2.5,   5.0,  10.0};

// What one event loop counts per request: plain integers, touched only by that loop, read at
// scrape time by a coroutine running on the same loop (no lock, no atomic, no allocation).
struct request_metrics {
    std::array<std::uint64_t, 600> responses{};                        // by status code
    std::array<std::uint64_t, latency_buckets.size() + 1> buckets{};  // last one: +Inf
    std::uint64_t count = 0;
    double sum_seconds = 0;

    void observe(unsigned status, std::chrono::microseconds duration);
};

// Counters by a name (a rate-limit rule): a handful of names, found by a linear search.
struct named_counts {
    std::vector<std::pair<std::string, std::uint64_t>> counts;
    void add(std::string_view name, std::uint64_t by = 1);
    // Adds another loop's counts, name by name.
    void merge(const named_counts& other);
    std::uint64_t total() const;
};

struct backend_sample {
    std::string url;
    std::uint64_t successes = 0;
    std::uint64_t failures = 0;
    int circuit = 0;  // 0 closed, 1 half-open, 2 open
    bool up = true;
};

// Everything /metrics reports, summed over the event loops.
struct metrics_sample {
    request_metrics requests;
    named_counts rate_limited;  // by the rule a 429 names
    named_counts rate_limit_shadow;  // shadow rules' would-be refusals, by rule
    std::uint64_t rate_limit_store_errors = 0;
    std::uint64_t active_connections = 0;
    std::uint64_t tls_handshakes_ok = 0;
    std::uint64_t tls_handshakes_failed = 0;
    std::uint64_t tunnels_active = 0;
    std::uint64_t tunnels_total = 0;
    std::vector<backend_sample> backends;
    // Redis nodes ("host:port") the limiter talks to and whether they are connected; redirects
    // followed; primary changes followed.
    std::vector<std::pair<std::string, bool>> redis_nodes;
    std::uint64_t redis_moved = 0;
    std::uint64_t redis_ask = 0;
    std::uint64_t redis_failovers = 0;

    // Adds another loop's sample; backends are matched by URL (a gauge keeps the worst state).
    // Each loop has its own Redis connections and follows a failover itself: a node is up when
    // every loop is connected to it, and the failovers are the most any loop followed.
    void merge(const metrics_sample& other);
};

struct process_sample {
    std::vector<std::pair<std::string, std::uint64_t>> internal_errors;  // by task kind
    std::uint64_t open_fds = 0;
    std::uint64_t resident_bytes = 0;
    double start_time_seconds = 0;  // since the epoch
};

// Reads /proc/self for the process basics.
process_sample sample_process();

// The Prometheus text exposition of a sample (prometheus-cpp's serializer).
std::string render_metrics(const metrics_sample& sample, const process_sample& process);

}  // namespace gw
