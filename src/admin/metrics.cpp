#include "gatewayd/admin/metrics.hpp"

#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace gw {

void request_metrics::observe(unsigned status, std::chrono::microseconds duration) {
    if (status < responses.size()) ++responses[status];
    const double seconds = static_cast<double>(duration.count()) / 1e6;
    const auto bucket = std::lower_bound(latency_buckets.begin(), latency_buckets.end(), seconds);
    ++buckets[static_cast<std::size_t>(bucket - latency_buckets.begin())];
    ++count;
    sum_seconds += seconds;
}

void named_counts::add(std::string_view name, std::uint64_t by) {
    for (auto& [have, count] : counts) {
        if (have == name) {
            count += by;
            return;
        }
    }
    counts.emplace_back(std::string(name), by);
}

void named_counts::merge(const named_counts& other) {
    for (const auto& [name, count] : other.counts) add(name, count);
}

std::uint64_t named_counts::total() const {
    std::uint64_t sum = 0;
    for (const auto& entry : counts) sum += entry.second;
    return sum;
}

void metrics_sample::merge(const metrics_sample& other) {
    for (std::size_t i = 0; i < requests.responses.size(); ++i) requests.responses[i] += other.requests.responses[i];
    for (std::size_t i = 0; i < requests.buckets.size(); ++i) requests.buckets[i] += other.requests.buckets[i];
    requests.count += other.requests.count;
    requests.sum_seconds += other.requests.sum_seconds;
    rate_limited.merge(other.rate_limited);
    rate_limit_shadow.merge(other.rate_limit_shadow);
    rate_limit_store_errors += other.rate_limit_store_errors;
    active_connections += other.active_connections;
    tls_handshakes_ok += other.tls_handshakes_ok;
    tls_handshakes_failed += other.tls_handshakes_failed;
    tunnels_active += other.tunnels_active;
    tunnels_total += other.tunnels_total;
    for (const auto& theirs : other.backends) {
        auto mine = std::find_if(backends.begin(), backends.end(), [&](const auto& b) { return b.url == theirs.url; });
        if (mine == backends.end()) {
            backends.push_back(theirs);
            continue;
        }
        mine->successes += theirs.successes;
        mine->failures += theirs.failures;
        mine->circuit = std::max(mine->circuit, theirs.circuit);
        mine->up = mine->up && theirs.up;
    }
    for (const auto& theirs : other.redis_nodes) {
        auto mine = std::find_if(redis_nodes.begin(), redis_nodes.end(),
                                 [&](const auto& node) { return node.first == theirs.first; });
        if (mine == redis_nodes.end()) {
            redis_nodes.push_back(theirs);
        } else {
            mine->second = mine->second && theirs.second;
        }
    }
    redis_moved += other.redis_moved;
    redis_ask += other.redis_ask;
    redis_failovers = std::max(redis_failovers, other.redis_failovers);
}

process_sample sample_process() {
    process_sample out;
    std::error_code ec;
    for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
         !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
        ++out.open_fds;
    }
    std::ifstream statm("/proc/self/statm");
    std::uint64_t pages = 0, resident = 0;
    if (statm >> pages >> resident) out.resident_bytes = resident * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
    // Field 22 of /proc/self/stat is the start time in clock ticks after boot.
    std::ifstream stat("/proc/self/stat");
    std::string line;
    std::getline(stat, line);
    std::istringstream fields(line.substr(line.rfind(')') + 2));
    std::string field;
    for (int i = 3; i <= 22 && fields >> field; ++i) {
        if (i == 22) {
            std::ifstream uptime_file("/proc/uptime");
            double uptime = 0;
            uptime_file >> uptime;
            const double started_after_boot = std::stod(field) / static_cast<double>(::sysconf(_SC_CLK_TCK));
            const double now = static_cast<double>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                       std::chrono::system_clock::now().time_since_epoch())
                                                       .count()) /
                               1000.0;
            out.start_time_seconds = now - uptime + started_after_boot;
        }
    }
    return out;
}

namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

MetricFamily family(std::string name, std::string help, MetricType type) {
    return MetricFamily{std::move(name), std::move(help), type, {}};
}

ClientMetric counter(double value, std::vector<ClientMetric::Label> labels = {}) {
    ClientMetric metric;
    metric.label = std::move(labels);
    metric.counter.value = value;
    return metric;
}

ClientMetric gauge(double value, std::vector<ClientMetric::Label> labels = {}) {
    ClientMetric metric;
    metric.label = std::move(labels);
    metric.gauge.value = value;
    return metric;
}

}  // namespace

std::string render_metrics(const metrics_sample& sample, const process_sample& process) {
    std::vector<MetricFamily> families;

    auto responses = family("gatewayd_requests_total", "Responses sent to clients, by status code.", MetricType::Counter);
    for (std::size_t code = 0; code < sample.requests.responses.size(); ++code) {
        if (sample.requests.responses[code] == 0) continue;
        responses.metric.push_back(counter(static_cast<double>(sample.requests.responses[code]), {{"code", std::to_string(code)}}));
    }
    families.push_back(std::move(responses));

    auto latency = family("gatewayd_request_duration_seconds", "Client request latency.", MetricType::Histogram);
    ClientMetric histogram;
    histogram.histogram.sample_count = sample.requests.count;
    histogram.histogram.sample_sum = sample.requests.sum_seconds;
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < sample.requests.buckets.size(); ++i) {
        cumulative += sample.requests.buckets[i];
        const double bound = i < latency_buckets.size() ? latency_buckets[i] : std::numeric_limits<double>::infinity();
        histogram.histogram.bucket.push_back({cumulative, bound});
    }
    latency.metric.push_back(std::move(histogram));
    families.push_back(std::move(latency));

    auto upstream = family("gatewayd_upstream_requests_total", "Requests sent to backends, by outcome.", MetricType::Counter);
    auto circuit = family("gatewayd_circuit_state", "Circuit breaker state: 0 closed, 1 half-open, 2 open.", MetricType::Gauge);
    auto up = family("gatewayd_backend_up", "1 when the backend is healthy.", MetricType::Gauge);
    for (const auto& backend : sample.backends) {
        upstream.metric.push_back(counter(static_cast<double>(backend.successes), {{"backend", backend.url}, {"outcome", "success"}}));
        upstream.metric.push_back(counter(static_cast<double>(backend.failures), {{"backend", backend.url}, {"outcome", "failure"}}));
        circuit.metric.push_back(gauge(backend.circuit, {{"backend", backend.url}}));
        up.metric.push_back(gauge(backend.up ? 1 : 0, {{"backend", backend.url}}));
    }
    families.push_back(std::move(upstream));

    auto limited = family("gatewayd_rate_limited_total", "Requests refused with 429, by the rule named in the answer.",
                          MetricType::Counter);
    for (const auto& [rule, count] : sample.rate_limited.counts) {
        limited.metric.push_back(counter(static_cast<double>(count), {{"rule", rule}}));
    }
    families.push_back(std::move(limited));
    auto shadow = family("gatewayd_rate_limit_shadow_total",
                         "Requests a rule in shadow mode would have refused (they were not), by rule.",
                         MetricType::Counter);
    for (const auto& [rule, count] : sample.rate_limit_shadow.counts) {
        shadow.metric.push_back(counter(static_cast<double>(count), {{"rule", rule}}));
    }
    families.push_back(std::move(shadow));
    auto store_errors = family("gatewayd_rate_limit_store_errors_total",
                               "Rate-limit checks Redis could not answer in time.", MetricType::Counter);
    store_errors.metric.push_back(counter(static_cast<double>(sample.rate_limit_store_errors)));
    families.push_back(std::move(store_errors));
    families.push_back(std::move(circuit));
    families.push_back(std::move(up));

    auto redis_up = family("gatewayd_redis_up", "1 while the gateway is connected to the Redis node.", MetricType::Gauge);
    for (const auto& [node, connected] : sample.redis_nodes) redis_up.metric.push_back(gauge(connected ? 1 : 0, {{"node", node}}));
    families.push_back(std::move(redis_up));
    auto redirects = family("gatewayd_redis_redirects_total", "Redis Cluster redirects followed, by kind.",
                            MetricType::Counter);
    redirects.metric.push_back(counter(static_cast<double>(sample.redis_moved), {{"kind", "moved"}}));
    redirects.metric.push_back(counter(static_cast<double>(sample.redis_ask), {{"kind", "ask"}}));
    families.push_back(std::move(redirects));
    auto failovers = family("gatewayd_redis_failovers_total", "Changes of the Redis primary the gateway followed.",
                            MetricType::Counter);
    failovers.metric.push_back(counter(static_cast<double>(sample.redis_failovers)));
    families.push_back(std::move(failovers));
    auto active = family("gatewayd_active_connections", "Open client connections.", MetricType::Gauge);
    active.metric.push_back(gauge(static_cast<double>(sample.active_connections)));
    families.push_back(std::move(active));

    auto handshakes = family("gatewayd_tls_handshakes_total", "TLS handshakes on the TLS listener, by result.",
                             MetricType::Counter);
    handshakes.metric.push_back(counter(static_cast<double>(sample.tls_handshakes_ok), {{"result", "ok"}}));
    handshakes.metric.push_back(counter(static_cast<double>(sample.tls_handshakes_failed), {{"result", "failed"}}));
    families.push_back(std::move(handshakes));
    auto tunnels_active = family("gatewayd_tunnels_active", "Upgrade tunnels (WebSocket and others) open now.",
                                 MetricType::Gauge);
    tunnels_active.metric.push_back(gauge(static_cast<double>(sample.tunnels_active)));
    families.push_back(std::move(tunnels_active));
    auto tunnels_total = family("gatewayd_tunnels_total", "Upgrade tunnels opened (a 101 relayed).",
                                MetricType::Counter);
    tunnels_total.metric.push_back(counter(static_cast<double>(sample.tunnels_total)));
    families.push_back(std::move(tunnels_total));

    auto internal = family("gatewayd_internal_errors_total",
                           "Tasks ended by an unexpected error, by kind (the rest of the process went on).",
                           MetricType::Counter);
    for (const auto& [task, count] : process.internal_errors) {
        internal.metric.push_back(counter(static_cast<double>(count), {{"task", task}}));
    }
    families.push_back(std::move(internal));

    auto fds = family("process_open_fds", "Open file descriptors.", MetricType::Gauge);
    fds.metric.push_back(gauge(static_cast<double>(process.open_fds)));
    families.push_back(std::move(fds));
    auto rss = family("process_resident_memory_bytes", "Resident memory.", MetricType::Gauge);
    rss.metric.push_back(gauge(static_cast<double>(process.resident_bytes)));
    families.push_back(std::move(rss));
    auto start = family("process_start_time_seconds", "Start time since the epoch.", MetricType::Gauge);
    start.metric.push_back(gauge(process.start_time_seconds));
    families.push_back(std::move(start));

    return prometheus::TextSerializer().Serialize(families);
}

}  // namespace gw
