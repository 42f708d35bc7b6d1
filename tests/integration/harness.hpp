// Test harness for the integration suite: real processes, real loopback sockets, bounded waits.
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace it {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;
using millis = std::chrono::milliseconds;
namespace fs = std::filesystem;

constexpr std::uint64_t mib = 1024 * 1024;

// A fresh directory per test; removed afterwards unless the test failed or GATEWAYD_IT_KEEP is set.
class temp_dir {
public:
    temp_dir();
    ~temp_dir();
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    const fs::path& path() const { return path_; }
    fs::path file(std::string_view name) const { return path_ / name; }

private:
    fs::path path_;
};

// Polls `done` every `step` until it holds or `timeout` passes; returns its last value.
bool wait_until(const std::function<bool()>& done, millis timeout, millis step = 10ms);

// How a process ended: exit code, or 128 + signal number when killed by a signal.
struct exit_status {
    bool exited = false;  // false: killed by a signal
    int code = -1;        // exit code, or the signal number when !exited
    int shell_code() const { return exited ? code : 128 + code; }
};

// A child started with posix_spawn, stdout and stderr in files; always stopped and reaped by PID.
class process {
public:
    process(std::vector<std::string> argv, fs::path stdout_path, fs::path stderr_path);
    ~process();
    process(const process&) = delete;
    process& operator=(const process&) = delete;

    pid_t pid() const { return pid_; }
    // Non-blocking: has it exited (it is reaped then)?
    bool exited();
    // Waits up to `timeout` for the exit; nullopt if it still runs.
    std::optional<exit_status> wait_exit(millis timeout);
    // SIGTERM, wait up to `grace`, then SIGKILL; returns how it ended.
    exit_status stop(millis grace = 5s);
    void send_signal(int signal_number) const;
    std::optional<exit_status> status() const { return status_; }

    std::string stdout_text() const;
    std::string stderr_text() const;
    const fs::path& stdout_path() const { return stdout_path_; }
    const fs::path& stderr_path() const { return stderr_path_; }

private:
    pid_t pid_ = -1;
    std::optional<exit_status> status_;
    fs::path stdout_path_;
    fs::path stderr_path_;
};

// Runs a program to completion (bounded by `timeout`, killed past it).
struct run_result {
    exit_status status;
    std::string out;
    std::string err;
};
run_result run_to_exit(const temp_dir& dir, std::vector<std::string> argv, millis timeout = 10s);

// A loopback port nothing listens on right now (bound, read, closed).
std::uint16_t free_port();
// True once something accepts TCP connections on 127.0.0.1:port.
bool port_accepts(std::uint16_t port);
bool wait_for_port(std::uint16_t port, millis timeout);

// /proc/PID/status field in KiB (VmHWM, VmRSS); nullopt if unreadable.
std::optional<std::uint64_t> proc_status_kib(pid_t pid, std::string_view field);

std::string read_file(const fs::path& path);
void write_file(const fs::path& path, std::string_view text);
std::size_t count_lines_containing(const fs::path& path, std::string_view needle);
std::vector<std::string> lines_containing(const fs::path& path, std::string_view needle);

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

// HTTP/1.1 client over a blocking POSIX socket with SO_RCVTIMEO/SO_SNDTIMEO.

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
    // True when the server closes (EOF or reset) within `timeout` and sends nothing before that.
    bool closed_by_peer(millis timeout);
    // Waits up to `timeout` for at least one byte (kept for the next read); false on timeout.
    bool data_arrives_within(millis timeout);
    void shutdown_write();
    void set_timeout(millis timeout);
    int fd() const { return fd_; }

private:
    bool fill();  // one recv into buffer_; false on EOF
    std::string read_line();
    void read_exact(std::uint64_t size, http_response& response, const read_options& options);
    void deliver(std::string_view piece, http_response& response, const read_options& options);

    int fd_ = -1;
    millis timeout_;
    steady::time_point deadline_ = steady::time_point::max();
    std::string buffer_;
    std::size_t buffer_pos_ = 0;
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

// One object of the admin /backends array.
struct backend_row {
    std::string url;
    bool healthy = false;
    std::string circuit;
    std::uint64_t requests = 0;
    std::uint64_t failures = 0;
};
// The admin /backends body: a JSON array of objects with exactly those fields (any order, any
// whitespace); nullopt when it is anything else.
std::optional<std::vector<backend_row>> parse_backends_json(std::string_view body);

// Header lines of the mock's /headers answer, names lower-cased; repeated names keep all values.
std::multimap<std::string, std::string> parse_header_lines(std::string_view body);

// The programs under test.

// gatewayd-mock-backend on a kernel-chosen port (or a given one); stdout logged to a file.
class mock_backend {
public:
    mock_backend(const temp_dir& dir, std::vector<std::string> args = {}, std::uint16_t port = 0);
    std::uint16_t port() const { return port_; }
    std::string url() const;
    pid_t pid() const { return process_->pid(); }
    exit_status stop() { return process_->stop(); }
    // Request lines (stdout "request port=... target=T") whose target starts with `target_prefix`.
    std::vector<std::string> requests(std::string_view target_prefix = "/") const;
    std::size_t request_count(std::string_view target_prefix = "/") const;
    // Distinct conn=C numbers over the request lines whose target starts with `target_prefix`.
    std::set<std::string> connection_ids(std::string_view target_prefix = "/") const;
    const fs::path& log_path() const { return process_->stdout_path(); }

private:
    std::unique_ptr<process> process_;
    std::uint16_t port_ = 0;
};

// What goes into a test gateway's YAML besides listen, backends and the sections every test fixes.
struct gateway_settings {
    std::vector<std::string> backends;  // URLs; empty -> `backends: []`
    std::string client;                 // inner text of the client flow mapping
    std::string upstream = "connect_timeout: 500ms";
    std::string health_check = "enabled: true, path: /healthz";
    std::string log = "level: info, format: text, access_log: true";
    std::string extra;                  // more top-level YAML lines
    std::string admin = "listen: \"\"";   // inner text of the admin flow mapping
    std::string rate_limit = "enabled: false";  // inner text of the rate_limit flow mapping
    std::string redis;                  // inner text of the redis flow mapping; empty: no `redis:` line
};
std::string gateway_yaml(std::uint16_t listen_port, const gateway_settings& settings);
// `admin` text for a gateway_settings that enables the admin listener on 127.0.0.1:port.
std::string admin_listen(std::uint16_t port);

// A running gatewayd (started from gateway_yaml on a free port, ready when it accepts).
class gateway_process {
public:
    gateway_process(const temp_dir& dir, const gateway_settings& settings);
    // Stops the gateway and fails the test if a sanitizer reported anything in its log.
    ~gateway_process();
    gateway_process(const gateway_process&) = delete;
    gateway_process& operator=(const gateway_process&) = delete;
    std::uint16_t port() const { return port_; }
    pid_t pid() const { return process_->pid(); }
    process& proc() { return *process_; }
    const fs::path& log_path() const { return process_->stderr_path(); }
    const fs::path& config_path() const { return config_path_; }
    std::string log() const { return process_->stderr_text(); }
    std::unique_ptr<http_connection> connect(millis timeout = 5s) const;
    // One request on a fresh connection.
    http_response request(std::string_view method, std::string_view target,
                          const std::vector<std::pair<std::string, std::string>>& headers = {},
                          std::string_view body = {}) const;
    // A GET on a fresh connection that returns once the access line for `target` is logged: the
    // outcome is recorded (breaker, health) before the next request. Needs a text access log.
    http_response settled_get(const std::string& target) const;
    std::optional<std::uint64_t> peak_rss_kib() const { return proc_status_kib(pid(), "VmHWM"); }

private:
    std::unique_ptr<process> process_;
    std::uint16_t port_ = 0;
    fs::path config_path_;
};

// A tiny TCP server on a thread: for each connection reads the request head, writes `reply`
// (any bytes, valid HTTP or not) and closes. Stands in for a broken backend.
class raw_tcp_server {
public:
    explicit raw_tcp_server(std::string reply);
    ~raw_tcp_server();
    raw_tcp_server(const raw_tcp_server&) = delete;
    raw_tcp_server& operator=(const raw_tcp_server&) = delete;
    std::uint16_t port() const { return port_; }
    std::string url() const;
    std::size_t connections() const { return connections_.load(); }

private:
    void serve();
    int listen_fd_ = -1;
    std::uint16_t port_ = 0;
    std::string reply_;
    std::atomic<bool> stop_{false};
    std::atomic<std::size_t> connections_{0};
    std::thread thread_;
};

// A listening socket held open by the test (no SO_REUSEPORT), to occupy a port.
class port_blocker {
public:
    port_blocker();
    ~port_blocker();
    port_blocker(const port_blocker&) = delete;
    port_blocker& operator=(const port_blocker&) = delete;
    std::uint16_t port() const { return port_; }

private:
    int fd_ = -1;
    std::uint16_t port_ = 0;
};

// A reply of the Redis protocol (RESP2), as read by redis_server::command.
struct redis_reply {
    enum class kind { status, error, integer, bulk, nil, array };
    kind type = kind::nil;
    std::string text;     // status, error and bulk
    long long integer = 0;
    std::vector<redis_reply> elements;
};

// A real redis-server on a free loopback port (no persistence, files in the test's directory),
// started as a child process and stopped by PID. stop() then start() brings it back on the same port
// with an empty data set. command() opens a fresh blocking connection per call.
class redis_server {
public:
    explicit redis_server(const temp_dir& dir);
    ~redis_server();
    redis_server(const redis_server&) = delete;
    redis_server& operator=(const redis_server&) = delete;

    std::uint16_t port() const { return port_; }
    std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
    bool running() const { return process_ != nullptr; }
    pid_t pid() const { return process_ ? process_->pid() : -1; }
    // Starts it (again) on port(); returns once it answers PING.
    void start();
    // SIGTERM (SIGKILL after a grace period) and reap; its data is gone.
    void stop();
    // SIGSTOP / SIGCONT: the process keeps its sockets but answers nothing while paused.
    void pause();
    void resume();

    redis_reply command(const std::vector<std::string>& args, millis timeout = 2s) const;
    // Several commands on one connection, sent in one write; the replies in order.
    std::vector<redis_reply> pipeline(const std::vector<std::vector<std::string>>& commands,
                                      millis timeout = 5s) const;
    std::optional<std::string> get(const std::string& key) const;
    long long ttl(const std::string& key) const;   // -2 no key, -1 no expiry
    long long pttl(const std::string& key) const;
    std::vector<std::string> keys(const std::string& pattern = "*") const;  // sorted
    // Keys that exist without an expiry (TTL -1).
    std::vector<std::string> keys_without_ttl() const;
    // INFO commandstats as {command -> calls}, command names lower-cased ("evalsha").
    std::map<std::string, long long> command_calls() const;
    void reset_stats() const;  // CONFIG RESETSTAT

private:
    const temp_dir& dir_;
    std::uint16_t port_ = 0;
    int starts_ = 0;
    bool paused_ = false;
    std::unique_ptr<process> process_;
};

// Full path of a program found in PATH; empty when there is none.
std::string find_in_path(std::string_view program);

std::string gatewayd_bin();
std::string mock_backend_bin();

// Status line, headers and the start of the body, for failure messages.
std::string describe(const http_response& response);

// The gateway's own error answer: that status, Content-Type application/json and a body
// {"error":"<error>","message":"<non-empty>"}.
::testing::AssertionResult is_error_response(const http_response& response, int status,
                                             std::string_view error);


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
