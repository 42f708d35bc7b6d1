// gatewayd as the tests run it: its YAML, the running process, and the admin answers read back.
#pragma once

#include "harness/basics.hpp"
#include "harness/files_and_processes.hpp"
#include "harness/http_client.hpp"

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace it {

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
    std::string tls;                    // inner text of the tls flow mapping after `listen` (certificates,
                                        // ...); set: a TLS listener on a free port as well
};
std::string gateway_yaml(std::uint16_t listen_port, const gateway_settings& settings, std::uint16_t tls_port = 0);
// `admin` text for a gateway_settings that enables the admin listener on 127.0.0.1:port.
std::string admin_listen(std::uint16_t port);

// The value of one sample of the admin /metrics text (`name` with its labels as written, e.g.
// `gatewayd_tls_handshakes_total{result="ok"}`); nullopt when it is not there.
std::optional<double> metric_value(std::string_view metrics, std::string_view name);
// GET /metrics from the admin listener on 127.0.0.1:port, and one sample of it; nullopt when
// the sample is not there or /metrics cannot be read.
std::optional<double> scrape(std::uint16_t admin_port, std::string_view name);

// A running gatewayd (started from gateway_yaml on a free port, ready when it accepts).
class gateway_process {
public:
    gateway_process(const temp_dir& dir, const gateway_settings& settings);
    // Stops the gateway and fails the test if a sanitizer reported anything in its log.
    ~gateway_process();
    gateway_process(const gateway_process&) = delete;
    gateway_process& operator=(const gateway_process&) = delete;
    std::uint16_t port() const { return port_; }
    std::uint16_t tls_port() const { return tls_port_; }
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
    // A connection to the TLS listener with the handshake done; throws when it fails.
    std::unique_ptr<http_connection> connect_tls(const tls_client_options& options = {}, millis timeout = 5s) const;
    std::optional<std::uint64_t> peak_rss_kib() const { return proc_status_kib(pid(), "VmHWM"); }

private:
    std::unique_ptr<process> process_;
    std::uint16_t port_ = 0;
    std::uint16_t tls_port_ = 0;
    fs::path config_path_;
};

}  // namespace it
