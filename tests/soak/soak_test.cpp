// Fault soak (issue #7 item 4): steady GET and POST load through a real gatewayd with three mock
// backends and a real Redis, while a backend is killed with SIGKILL and restarted, Redis is
// restarted and the config is reloaded twice. Afterwards it checks what a user would: every GET
// answered 200, every POST answered 2xx or a clear gateway error, no POST delivered twice, fds
// and RSS bounded, every Redis key with a TTL, the process healthy; and prints one summary block.
//
// GATEWAYD_SOAK_SECONDS sets the load time (default 120, 20 to 240); GATEWAYD_SOAK_RATE the
// total request rate (default 200 per second, 100 in a sanitizer build).
#include "harness.hpp"
#include "soak_load.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/types.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace soak {
namespace {

using namespace std::chrono_literals;
using it::fs::path;
using seconds_d = std::chrono::duration<double>;

#if defined(__SANITIZE_ADDRESS__)
constexpr bool sanitized = true;
#else
constexpr bool sanitized = false;
#endif

// The bounds the issue asks us to state: growth from the end of warm-up to the end of the run.
constexpr std::size_t fd_growth_bound = 16;
// Not asserted under ASan: its quarantine (256 MiB by default) and shadow memory grow with every
// request served (measured: 144 MiB -> 428 MiB in 120 s at 100 req/s); there LeakSanitizer's
// report at exit is the leak check.
constexpr std::uint64_t rss_growth_bound_kib = 16 * 1024;

long env_number(const char* name, long fallback, long low, long high) {
    const char* text = std::getenv(name);
    if (text == nullptr || *text == '\0') return fallback;
    char* end = nullptr;
    const long value = std::strtol(text, &end, 10);
    if (end == text || *end != '\0') return fallback;
    return std::clamp(value, low, high);
}

std::optional<std::size_t> open_fds(pid_t pid) {
    std::error_code ec;
    std::size_t count = 0;
    for (it::fs::directory_iterator entry("/proc/" + std::to_string(pid) + "/fd", ec), end; !ec && entry != end;
         entry.increment(ec)) {
        ++count;
    }
    if (ec) return std::nullopt;
    return count;
}

std::uint64_t bytes_in(const path& file) {
    std::error_code ec;
    const auto size = it::fs::file_size(file, ec);
    return ec ? 0 : size;
}

std::string read_from(const path& file, std::uint64_t offset) {
    std::ifstream in(file, std::ios::binary);
    in.seekg(static_cast<std::streamoff>(offset));
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// Waits for `needle` in what `file` gained after `offset` (reads only that part).
bool wait_for_text(const path& file, std::uint64_t offset, const std::string& needle, millis timeout) {
    return it::wait_until([&] { return read_from(file, offset).find(needle) != std::string::npos; }, timeout, 5ms);
}

// Every request line of the mock backends' logs, keyed by the id in its target.
struct delivery {
    std::string port;
    std::string method;
    path log;
};
std::map<std::string, std::vector<delivery>> deliveries(const std::vector<path>& logs) {
    static const std::regex line_re(R"(^request port=(\d+) conn=\d+ method=(\S+) target=\S*[?&]id=(\S+)$)");
    std::map<std::string, std::vector<delivery>> out;
    for (const auto& log : logs) {
        std::ifstream in(log, std::ios::binary);
        std::string line;
        while (std::getline(in, line)) {
            std::smatch match;
            if (std::regex_match(line, match, line_re)) out[match[3]].push_back({match[1], match[2], log});
        }
    }
    return out;
}

// The access log's status per request id (soak-<id>); the count says whether an id was logged twice.
struct access_entry {
    int status = 0;
    int count = 0;
};
std::map<std::string, access_entry> access_statuses(const path& log) {
    static const std::regex access_re(R"( status=(\d+) .* request_id=soak-(\S+))");
    std::map<std::string, access_entry> out;
    std::ifstream in(log, std::ios::binary);
    std::string line;
    while (std::getline(in, line)) {
        if (line.find("access client=") == std::string::npos) continue;
        std::smatch match;
        if (!std::regex_search(line, match, access_re)) continue;
        auto& entry = out[match[2]];
        entry.status = std::stoi(match[1]);
        ++entry.count;
    }
    return out;
}

// SCAN over the whole key space, then TTL of each key.
struct key_report {
    std::vector<std::string> keys;
    std::vector<std::string> without_ttl;
};
key_report scan_keys(const it::redis_server& redis) {
    key_report report;
    std::string cursor = "0";
    for (int round = 0; round < 10000; ++round) {
        const auto reply = redis.command({"SCAN", cursor, "COUNT", "1000"});
        if (reply.type != it::redis_reply::kind::array || reply.elements.size() != 2) {
            throw std::runtime_error("unexpected SCAN reply");
        }
        for (const auto& key : reply.elements[1].elements) report.keys.push_back(key.text);
        cursor = reply.elements[0].text;
        if (cursor == "0") break;
    }
    if (report.keys.empty()) return report;
    std::vector<std::vector<std::string>> commands;
    for (const auto& key : report.keys) commands.push_back({"TTL", key});
    const auto replies = redis.pipeline(commands, 10s);
    for (std::size_t i = 0; i < report.keys.size(); ++i) {
        // -1: no expiry; -2: expired since SCAN (fine).
        if (replies[i].type != it::redis_reply::kind::integer || replies[i].integer == -1) {
            report.without_ttl.push_back(report.keys[i]);
        }
    }
    return report;
}

int admin_status(std::uint16_t port, std::string_view target) {
    try {
        it::http_connection admin(port, 2s);
        return admin.request("GET", target).status;
    } catch (const std::exception&) {
        return 0;
    }
}

// Sum of a Prometheus counter over all its label sets, from the admin /metrics text.
std::map<std::string, double> metric_by_label(const std::string& text, const std::string& name,
                                              const std::string& label) {
    const std::regex line_re("^" + name + R"(\{(?:[^}]*,)?)" + label + R"re(="([^"]*)"[^}]*\} (\S+)$)re");
    std::map<std::string, double> out;
    std::istringstream lines(text);
    std::string line;
    while (std::getline(lines, line)) {
        std::smatch match;
        if (std::regex_match(line, match, line_re)) out[match[1]] += std::stod(match[2]);
    }
    return out;
}

double metric_value(const std::string& text, const std::string& name) {
    std::istringstream lines(text);
    std::string line;
    while (std::getline(lines, line)) {
        if (line.starts_with(name + " ")) return std::stod(line.substr(name.size() + 1));
    }
    return -1;
}

std::string percentile(std::vector<double> values, double p) {
    if (values.empty()) return "-";
    std::sort(values.begin(), values.end());
    const auto index = std::min(values.size() - 1, static_cast<std::size_t>(p * static_cast<double>(values.size())));
    char text[32];
    std::snprintf(text, sizeof text, "%.1f", values[index]);
    return text;
}

std::string mib(std::uint64_t kib) {
    char text[32];
    std::snprintf(text, sizeof text, "%.1f MiB", static_cast<double>(kib) / 1024.0);
    return text;
}

std::string at_seconds(steady::time_point when, steady::time_point start) {
    char text[32];
    std::snprintf(text, sizeof text, "%.1f s", seconds_d(when - start).count());
    return text;
}

// Rate limiter section: a high limit (a steady client never reaches it) in a short window, so
// keys expire and are created again all through the run, across the Redis restart.
std::string rate_limit(int requests) {
    return "enabled: true, requests: " + std::to_string(requests) +
           ", window: 5s, store: redis, on_store_error: memory, headers: true";
}

TEST(Soak, SteadyLoadThroughBackendKillRedisRestartAndTwoReloadsLosesNothing) {
    const auto load_time = std::chrono::seconds(env_number("GATEWAYD_SOAK_SECONDS", 120, 20, 240));
    const long rate = env_number("GATEWAYD_SOAK_RATE", sanitized ? 100 : 200, 4, 2000);
    it::temp_dir dir;

    auto a = std::make_unique<it::mock_backend>(dir);
    const auto a_port = a->port();
    const auto a_url = a->url();
    it::mock_backend b(dir);
    it::mock_backend c(dir);  // joins the pool with the first reload and leaves it with the second
    std::vector<path> backend_logs{a->log_path(), b.log_path(), c.log_path()};
    it::redis_server redis(dir);
    const auto admin_port = it::free_port();

    it::gateway_settings settings{
        .backends = {a_url, b.url()},
        .client = "trusted_proxies: [\"127.0.0.1/32\"]",
        .upstream = "connect_timeout: 500ms, timeout: 3s, retries: 1",
        .health_check = "enabled: true, path: /healthz, interval: 200ms, timeout: 200ms, healthy_threshold: 2, "
                        "unhealthy_threshold: 2",
        .extra = "circuit_breaker: {enabled: true, min_requests: 5, failure_ratio: 0.6, interval: 10s, "
                 "open_timeout: 2s, half_open_max_requests: 3}\n",
        .admin = it::admin_listen(admin_port),
        .rate_limit = rate_limit(50000),
        .redis = "address: \"" + redis.address() + "\", timeout: 100ms"};
    it::gateway_process gateway(dir, settings);
    const path gateway_log = gateway.log_path();
    ASSERT_TRUE(it::wait_for_port(admin_port, 5s));
    ASSERT_TRUE(wait_for_text(gateway_log, 0, "rate limit store redis " + redis.address() + " connected", 5s))
        << gateway.log();

    // Load: two GET clients and two POST clients, each its own client IP and keep-alive connection.
    const auto start = steady::now();
    const auto at = [&](double fraction) {
        return start + std::chrono::duration_cast<steady::duration>(seconds_d(load_time) * fraction);
    };
    const auto stop_at = at(1.0);
    std::vector<std::unique_ptr<load_worker>> workers;
    for (int i = 1; i <= 4; ++i) {
        workers.push_back(std::make_unique<load_worker>(
            worker_config{.index = i, .post = i > 2, .rate = static_cast<double>(rate) / 4, .port = gateway.port(),
                          .stop_at = stop_at}));
    }

    // Beside the load, once a second: /healthz must answer, and no Redis key may lack a TTL.
    std::atomic<bool> monitor_stop{false};
    std::atomic<bool> redis_expected_up{true};
    std::atomic<int> ttl_scans{0};
    std::atomic<int> healthz_failures{0};
    std::mutex monitor_lock;
    std::set<std::string> keys_seen_without_ttl;
    std::thread monitor([&] {
        while (!monitor_stop && steady::now() < stop_at + 30s) {
            if (admin_status(admin_port, "/healthz") != 200) ++healthz_failures;
            if (redis_expected_up) {
                try {
                    const auto report = scan_keys(redis);
                    ++ttl_scans;
                    std::lock_guard guard(monitor_lock);
                    keys_seen_without_ttl.insert(report.without_ttl.begin(), report.without_ttl.end());
                } catch (const std::exception&) {
                    // Redis is being restarted right now.
                }
            }
            for (int i = 0; i < 20 && !monitor_stop; ++i) std::this_thread::sleep_for(50ms);
        }
    });
    struct stopper {
        std::atomic<bool>& flag;
        std::thread& thread;
        std::vector<std::unique_ptr<load_worker>>& workers;
        ~stopper() {
            for (auto& worker : workers) worker->abort();
            for (auto& worker : workers) worker->join();
            flag = true;
            if (thread.joinable()) thread.join();
        }
    } stop_all{monitor_stop, monitor, workers};

    // Warm-up done: pools are filled; this is what fds and RSS are compared with.
    std::this_thread::sleep_until(at(0.10));
    const auto fds_warm = open_fds(gateway.pid());
    const auto rss_warm = it::proc_status_kib(gateway.pid(), "VmRSS");
    ASSERT_TRUE(fds_warm && rss_warm);

    // Fault 1: SIGKILL backend A while it holds requests (each fourth one lingers 40 ms), restart it
    // on the same port a few seconds later.
    std::this_thread::sleep_until(at(0.15));
    const auto held_by_a = [&](bool want_get, bool want_post) {
        const auto text = read_from(a->log_path(), bytes_in(a->log_path()) > 8192 ? bytes_in(a->log_path()) - 8192 : 0);
        bool get = false;
        bool post = false;
        for (const auto& worker : workers) {
            const auto id = worker->in_flight();
            if (id && text.find("id=" + *id + "\n") != std::string::npos) (worker->posts() ? post : get) = true;
        }
        return (!want_get || get) && (!want_post || post);
    };
    const bool kill_caught_both = it::wait_until([&] { return held_by_a(true, true); }, 3s, 1ms);
    if (!kill_caught_both) it::wait_until([&] { return held_by_a(false, true); }, 2s, 1ms);
    auto log_mark = bytes_in(gateway_log);
    ::kill(a->pid(), SIGKILL);
    const auto killed_at = steady::now();
    a->stop();
    const path a_first_log = a->log_path();
    a.reset();
    EXPECT_TRUE(it::wait_until(
        [&] {
            const auto text = read_from(gateway_log, log_mark);
            return text.find("backend " + a_url + " marked down") != std::string::npos ||
                   text.find("backend " + a_url + " is down") != std::string::npos;
        },
        3s, 5ms))
        << "the killed backend was never marked down";
    std::this_thread::sleep_until(killed_at + std::clamp<steady::duration>(load_time / 25, 2s, 5s));
    log_mark = bytes_in(gateway_log);
    a = std::make_unique<it::mock_backend>(dir, std::vector<std::string>{}, a_port);
    const auto restarted_at = steady::now();
    backend_logs.push_back(a->log_path());
    EXPECT_TRUE(wait_for_text(gateway_log, log_mark, "backend " + a_url + " is up", 5s))
        << "the restarted backend never came back";

    // Fault 2: stop Redis by PID, start it again on the same port (empty) a moment later.
    std::this_thread::sleep_until(at(0.35));
    log_mark = bytes_in(gateway_log);
    redis_expected_up = false;
    redis.stop();
    const auto redis_stopped_at = steady::now();
    EXPECT_TRUE(wait_for_text(gateway_log, log_mark, "rate limit store redis " + redis.address() + " unreachable", 3s))
        << "the gateway never noticed that Redis was gone";
    std::this_thread::sleep_until(redis_stopped_at + std::clamp<steady::duration>(load_time / 60, 1s, 3s));
    redis.start();
    const auto redis_started_at = steady::now();
    redis_expected_up = true;
    EXPECT_TRUE(wait_for_text(gateway_log, log_mark, "rate limit store redis " + redis.address() + " is reachable again",
                              5s))
        << "the gateway never went back to Redis";

    // Fault 3: two valid reloads: C joins (and the limit changes), then C leaves (and it changes again).
    const auto reload = [&](const std::vector<std::string>& backends, int limit) {
        settings.backends = backends;
        settings.rate_limit = rate_limit(limit);
        const auto mark = bytes_in(gateway_log);
        it::write_file(gateway.config_path(), it::gateway_yaml(gateway.port(), settings));
        gateway.proc().send_signal(SIGHUP);
        const auto expected = "config reloaded from " + gateway.config_path().string() + ": " +
                              std::to_string(backends.size()) + " backend(s)";
        EXPECT_TRUE(wait_for_text(gateway_log, mark, expected, 3s)) << "no \"" << expected << "\" after SIGHUP";
        return steady::now();
    };
    std::this_thread::sleep_until(at(0.55));
    const auto reload1_at = reload({a_url, b.url(), c.url()}, 60000);
    std::this_thread::sleep_until(at(0.75));
    const auto reload2_at = reload({a_url, b.url()}, 70000);

    // End of the run, with the load still on as at warm-up.
    std::this_thread::sleep_until(stop_at - 500ms);
    const auto fds_end = open_fds(gateway.pid());
    const auto rss_end = it::proc_status_kib(gateway.pid(), "VmRSS");
    // The clients' keys exist while they send (the gateway went back to Redis after its restart).
    // All four windows started together and expire together, so one scan may fall in the few ms
    // before the next request creates them again: look a few times.
    std::size_t client_keys = 0;
    for (int scan = 0; scan < 5 && client_keys == 0; ++scan) {
        if (scan > 0) std::this_thread::sleep_for(100ms);
        for (const auto& key : scan_keys(redis).keys) client_keys += key.starts_with("rate_limit:10.77.0.") ? 1 : 0;
    }
    for (auto& worker : workers) worker->join();
    monitor_stop = true;
    monitor.join();
    ASSERT_FALSE(gateway.proc().exited()) << "gatewayd died during the soak:\n" << gateway.log();

    std::vector<outcome> all;
    std::size_t connections_opened = 0;
    for (const auto& worker : workers) {
        all.insert(all.end(), worker->outcomes().begin(), worker->outcomes().end());
        connections_opened += worker->connections_opened();
    }
    const auto delivered = deliveries(backend_logs);
    const auto delivered_to = [&](const std::string& id) {
        const auto found = delivered.find(id);
        return found == delivered.end() ? std::vector<delivery>{} : found->second;
    };

    // GETs are idempotent and two backends stay up whatever happens: a refused connect or a reset
    // before the answer is retried on another backend (contract, "Retries"), so every GET is a 200.
    std::size_t gets = 0, gets_ok = 0, gets_delivered_twice = 0, gets_retried_off_killed = 0;
    std::vector<std::string> get_failures;
    // POSTs carry a body: once a byte of it went to a backend it cannot be retried, so a POST cut
    // off by the kill ends as 502 — a clear answer — or, when A had begun its answer, as a short
    // response. It must never reach a second backend.
    std::size_t posts = 0, posts_2xx = 0, posts_error = 0, posts_error_delivered = 0;
    std::size_t posts_cut_by_kill = 0;
    // A POST whose answer A had begun when it died: the head is out, so the gateway can only cut
    // the client off (a short response, its warning logged). Clear, though not a status.
    std::vector<std::string> posts_cut_short;
    const bool cut_short_logged =
        read_from(gateway_log, 0).find("backend response cut short") != std::string::npos;
    std::size_t post_ids_delivered = 0, post_duplicates = 0, posts_2xx_not_once = 0;
    std::map<int, std::size_t> post_errors_by_status;
    std::vector<std::string> post_failures;
    std::vector<std::string> delivery_problems;
    std::vector<double> latencies;
    std::size_t late_at_c = 0, at_c = 0, at_restarted_a = 0;
    std::string last_limit;
    for (const auto& result : all) {
        latencies.push_back(result.millis);
        const auto where = delivered_to(result.id);
        for (const auto& seen : where) {
            if (seen.port == std::to_string(c.port())) {
                ++at_c;
                if (result.sent > reload2_at) ++late_at_c;
            }
            if (seen.log == backend_logs.back()) ++at_restarted_a;
        }
        if (result.sent > reload2_at + 1s && result.status == 200) last_limit = result.rate_limit_limit;
        const auto line = result.id + " " + result.target + ": status " + std::to_string(result.status) + " " +
                          result.problem.substr(0, 300);
        if (!result.post) {
            ++gets;
            if (result.status == 200 && result.problem.empty()) {
                ++gets_ok;
            } else {
                get_failures.push_back(line);
            }
            if (where.size() > 1) ++gets_delivered_twice;
            if (std::any_of(where.begin(), where.end(), [&](const auto& d) { return d.log == a_first_log; }) &&
                result.status == 200 && result.backend_port != std::to_string(a_port)) {
                ++gets_retried_off_killed;
            }
            continue;
        }
        ++posts;
        if (!where.empty()) ++post_ids_delivered;
        if (where.size() > 1) {
            ++post_duplicates;
            delivery_problems.push_back(result.id + " delivered " + std::to_string(where.size()) + " times");
        }
        for (const auto& seen : where) {
            if (seen.method != "POST") delivery_problems.push_back(result.id + " arrived as " + seen.method);
        }
        if (result.status >= 200 && result.status < 300 && result.problem.empty()) {
            ++posts_2xx;
            if (where.size() != 1 || where.front().port != result.backend_port) {
                ++posts_2xx_not_once;
                delivery_problems.push_back(result.id + " answered 2xx by port " + result.backend_port +
                                            " but delivered " + std::to_string(where.size()) + " time(s)");
            }
        } else if (result.gateway_error) {
            ++posts_error;
            ++post_errors_by_status[result.status];
            if (!where.empty()) ++posts_error_delivered;
            if (std::any_of(where.begin(), where.end(), [&](const auto& d) { return d.log == a_first_log; })) {
                ++posts_cut_by_kill;
            }
        } else if (result.status == 0 && cut_short_logged &&
                   std::any_of(where.begin(), where.end(), [&](const auto& d) { return d.log == a_first_log; })) {
            posts_cut_short.push_back(result.id);
        } else {
            post_failures.push_back(line);
        }
    }
    const auto first = [](const std::vector<std::string>& lines) {
        std::string out;
        for (std::size_t i = 0; i < std::min<std::size_t>(lines.size(), 10); ++i) out += "  " + lines[i] + "\n";
        return out;
    };

    // Redis after the run: every key has a TTL.
    const auto keys = scan_keys(redis);

    const int healthz = admin_status(admin_port, "/healthz");
    const int readyz = admin_status(admin_port, "/readyz");
    std::string metrics_text;
    try {
        it::http_connection admin(admin_port, 2s);
        metrics_text = admin.request("GET", "/metrics").body;
    } catch (const std::exception&) {
    }
    const auto by_code = metric_by_label(metrics_text, "gatewayd_requests_total", "code");
    const double store_errors = metric_value(metrics_text, "gatewayd_rate_limit_store_errors_total");

    // A clean stop: SIGTERM drains and exits 0.
    const auto ended = gateway.proc().stop(10s);
    const auto log = gateway.log();
    // The access log, complete now: each request exactly once, with the status its client got.
    const auto logged = access_statuses(gateway_log);
    std::vector<std::string> access_problems;
    // What the clients got, per status, for the metric; a response cut short counts with the
    // status its head carried (the access log has it).
    std::map<std::string, double> client_by_code;
    for (const auto& result : all) {
        if (result.status != 0) client_by_code[std::to_string(result.status)] += 1;
    }
    for (const auto& id : posts_cut_short) {
        const auto found = logged.find(id);
        if (found == logged.end() || found->second.count != 1) {
            access_problems.push_back(id + ": cut short by the kill, access log has no single line");
        } else {
            client_by_code[std::to_string(found->second.status)] += 1;
        }
    }
    for (const auto& result : all) {
        if (result.status == 0) continue;
        const auto found = logged.find(result.id);
        if (found == logged.end() || found->second.count != 1 || found->second.status != result.status) {
            access_problems.push_back(result.id + ": client got " + std::to_string(result.status) + ", access log " +
                                      (found == logged.end() ? std::string("has no line")
                                                             : std::to_string(found->second.count) + " line(s), status " +
                                                                   std::to_string(found->second.status)));
        }
    }


    // The summary block, printed before the assertions so a failing run still reports its figures.
    std::string faults;
    faults += "kill -9 A at " + at_seconds(killed_at, start) + " (" + std::to_string(gets_retried_off_killed) +
              " GET(s) retried elsewhere, " + std::to_string(posts_cut_by_kill) + " POST(s) cut off: 502, " +
              std::to_string(posts_cut_short.size()) + " cut short)" +
              ", restarted at " + at_seconds(restarted_at, start) + "; redis stopped at " +
              at_seconds(redis_stopped_at, start) + ", started at " + at_seconds(redis_started_at, start) +
              "; reload +C at " + at_seconds(reload1_at, start) + ", reload -C at " + at_seconds(reload2_at, start);
    std::string post_errors;
    for (const auto& [status, count] : post_errors_by_status) {
        post_errors += " " + std::to_string(status) + "x" + std::to_string(count);
    }
    std::printf(
        "\n==== gatewayd soak summary ====\n"
        "build          %s; load %lld s at %ld req/s target (4 clients, %zu connection(s) opened)\n"
        "faults         %s\n"
        "GET            %zu sent, %zu x 200, %zu failed; %zu delivered twice (retried), %zu retried off the killed A\n"
        "POST           %zu sent, %zu x 2xx, %zu gateway errors (%s ), %zu failed (no answer or other)\n"
        "POST delivery  %zu ids at the backends, %zu duplicates, %zu 2xx not delivered exactly once; "
        "%zu of the errored ones had reached a backend\n"
        "latency        p50 %s ms, p99 %s ms, max %s ms\n"
        "backends       C got %zu requests (%zu after its removal); restarted A got %zu\n"
        "gateway fds    %zu after warm-up, %zu at the end (bound +%zu)\n"
        "gateway RSS    %s after warm-up, %s at the end (bound %s)\n"
        "redis          %zu client key(s) before the load stopped; %zu key(s) at the end, %zu without TTL; %d "
        "scans during the run, %zu key(s) ever without TTL; store errors %.0f\n"
        "health         /healthz %d, /readyz %d, %d /healthz failures during the run; access log mismatches %zu\n"
        "exit           %s %d after SIGTERM\n"
        "===============================\n",
        sanitized ? "ASan+UBSan" : "normal", static_cast<long long>(load_time.count()), rate, connections_opened,
        faults.c_str(), gets, gets_ok, gets - gets_ok, gets_delivered_twice, gets_retried_off_killed, posts, posts_2xx,
        posts_error, post_errors.c_str(), post_failures.size(), post_ids_delivered, post_duplicates,
        posts_2xx_not_once, posts_error_delivered, percentile(latencies, 0.50).c_str(),
        percentile(latencies, 0.99).c_str(), percentile(latencies, 1.0).c_str(), at_c, late_at_c, at_restarted_a,
        fds_warm.value_or(0), fds_end.value_or(0), fd_growth_bound, mib(rss_warm.value_or(0)).c_str(),
        mib(rss_end.value_or(0)).c_str(), sanitized ? "not asserted under ASan" : ("+" + mib(rss_growth_bound_kib)).c_str(),
        client_keys, keys.keys.size(),
        keys.without_ttl.size(), ttl_scans.load(), keys_seen_without_ttl.size(), store_errors, healthz, readyz,
        healthz_failures.load(), access_problems.size(), ended.exited ? "exit" : "signal", ended.code);
    std::fflush(stdout);

    // Load really ran: at least half the planned requests (a loaded CI box may fall behind).
    const auto planned = static_cast<std::size_t>(rate * load_time.count());
    EXPECT_GE(all.size(), planned / 2) << "the load generator fell far behind its schedule";
    EXPECT_GT(gets, 0u);
    EXPECT_GT(posts, 0u);

    EXPECT_TRUE(get_failures.empty()) << get_failures.size() << " failed GET(s) of " << gets << ":\n"
                                      << first(get_failures);
    EXPECT_TRUE(post_failures.empty()) << post_failures.size() << " POST(s) without a clear answer:\n"
                                       << first(post_failures);
    // Only a request A was answering when it died can be cut short: one per POST client at most.
    EXPECT_LE(posts_cut_short.size(), 2u);
    EXPECT_EQ(post_duplicates, 0u) << first(delivery_problems);
    EXPECT_EQ(posts_2xx_not_once, 0u) << first(delivery_problems);
    EXPECT_TRUE(delivery_problems.empty()) << first(delivery_problems);
    EXPECT_TRUE(access_problems.empty()) << access_problems.size() << " request(s) not logged once as answered:\n"
                                         << first(access_problems);
    for (const auto& [code, count] : client_by_code) {
        EXPECT_EQ(by_code.count(code) ? by_code.at(code) : 0.0, count)
            << "gatewayd_requests_total{code=\"" << code << "\"} differs from what the clients got";
    }

    // The faults did what they should: A's new process and C served, C not after its removal, and
    // the second reload's limit is the one in force.
    EXPECT_GT(at_restarted_a, 0u) << "the restarted backend got no traffic";
    EXPECT_GT(at_c, 0u) << "the backend added by the first reload got no traffic";
    EXPECT_EQ(late_at_c, 0u) << "requests sent after the second reload still reached the removed backend";
    EXPECT_EQ(last_limit, "70000") << "X-RateLimit-Limit after the second reload";

    ASSERT_TRUE(fds_end && rss_end);
    EXPECT_LE(*fds_end, *fds_warm + fd_growth_bound) << "gateway fds grew";
    if (!sanitized) {
        EXPECT_LE(*rss_end, *rss_warm + rss_growth_bound_kib) << "gateway RSS grew";
    }

    EXPECT_TRUE(keys.without_ttl.empty()) << keys.without_ttl.size() << " key(s) without TTL at the end";
    EXPECT_TRUE(keys_seen_without_ttl.empty()) << keys_seen_without_ttl.size() << " key(s) without TTL during the run";
    EXPECT_GT(ttl_scans.load(), 0);
    EXPECT_GT(client_keys, 0u) << "no client key in Redis after its restart: the limiter never went back to it";

    EXPECT_EQ(healthz, 200);
    EXPECT_EQ(readyz, 200);
    EXPECT_EQ(healthz_failures.load(), 0);
    EXPECT_TRUE(ended.exited && ended.code == 0) << "gatewayd did not exit 0 after SIGTERM";
    EXPECT_NE(log.find("gatewayd stopped"), std::string::npos);
    for (const std::string_view marker : {"terminate", "Segmentation", "Aborted", "[critical]", "[error]",
                                          "AddressSanitizer", "LeakSanitizer", "runtime error:"}) {
        const auto found = log.find(marker);
        EXPECT_EQ(found, std::string::npos) << "\"" << marker << "\" in the gateway's log:\n"
                                            << log.substr(found == std::string::npos ? 0 : found, 1000);
    }
}

}  // namespace
}  // namespace soak
