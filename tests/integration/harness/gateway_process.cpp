#include "harness/gateway_process.hpp"

#include "harness/internal.hpp"
#include "harness/ports.hpp"

#include <gtest/gtest.h>

#include <regex>
#include <stdexcept>

namespace it {

using internal::next_file_number;
using internal::trim;

std::optional<std::vector<backend_row>> parse_backends_json(std::string_view body) {
    const auto text = trim(body);
    if (text.size() < 2 || text.front() != '[' || text.back() != ']') return std::nullopt;
    static const std::regex object_re(R"(\{[^{}]*\})");
    static const std::regex url_re(R"re("url"\s*:\s*"([^"\\]*)")re");
    static const std::regex healthy_re(R"re("healthy"\s*:\s*(true|false))re");
    static const std::regex circuit_re(R"re("circuit"\s*:\s*"([^"\\]*)")re");
    static const std::regex requests_re(R"re("requests"\s*:\s*(\d+))re");
    static const std::regex failures_re(R"re("failures"\s*:\s*(\d+))re");
    std::vector<backend_row> rows;
    std::string rest;  // what is left outside the objects: brackets, commas, whitespace only
    auto position = text.cbegin();
    for (std::sregex_iterator it(text.begin(), text.end(), object_re), end; it != end; ++it) {
        const std::string object = it->str();
        rest.append(position, text.cbegin() + it->position());
        position = text.cbegin() + it->position() + it->length();
        std::smatch url, healthy, circuit, requests, failures;
        if (!std::regex_search(object, url, url_re) || !std::regex_search(object, healthy, healthy_re) ||
            !std::regex_search(object, circuit, circuit_re) || !std::regex_search(object, requests, requests_re) ||
            !std::regex_search(object, failures, failures_re)) {
            return std::nullopt;
        }
        rows.push_back({url[1], healthy[1] == "true", circuit[1], std::stoull(requests[1]), std::stoull(failures[1])});
    }
    rest.append(position, text.cend());
    if (rest.find_first_not_of("[], \t\r\n") != std::string::npos) return std::nullopt;
    return rows;
}

std::string gateway_yaml(std::uint16_t listen_port, const gateway_settings& settings, std::uint16_t tls_port) {
    std::string yaml;
    yaml += "listen: \"127.0.0.1:" + std::to_string(listen_port) + "\"\n";
    yaml += "shutdown_timeout: 2s\n";
    yaml += "admin: {" + settings.admin + "}\n";
    yaml += "log: {" + settings.log + "}\n";
    if (!settings.client.empty()) yaml += "client: {" + settings.client + "}\n";
    if (settings.backends.empty()) {
        yaml += "backends: []\n";
    } else {
        yaml += "backends:\n";
        for (const auto& url : settings.backends) yaml += "  - url: " + url + "\n";
    }
    if (!settings.upstream.empty()) yaml += "upstream: {" + settings.upstream + "}\n";
    yaml += "health_check: {" + settings.health_check + "}\n";
    yaml += "rate_limit: {" + settings.rate_limit + "}\n";
    if (!settings.redis.empty()) yaml += "redis: {" + settings.redis + "}\n";
    if (!settings.tls.empty()) {
        yaml += "tls: {listen: \"127.0.0.1:" + std::to_string(tls_port) + "\", " + settings.tls + "}\n";
    }
    yaml += settings.extra;
    return yaml;
}

std::string admin_listen(std::uint16_t port) {
    return "listen: \"127.0.0.1:" + std::to_string(port) + "\"";
}

std::optional<double> metric_value(std::string_view metrics, std::string_view name) {
    std::size_t at = 0;
    while ((at = metrics.find(name, at)) != std::string_view::npos) {
        const bool line_start = at == 0 || metrics[at - 1] == '\n';
        const auto after = at + name.size();
        if (line_start && after < metrics.size() && metrics[after] == ' ') {
            const auto end = metrics.find('\n', after);
            return std::stod(std::string(metrics.substr(after + 1, end - after - 1)));
        }
        at = after;
    }
    return std::nullopt;
}

std::optional<double> scrape(std::uint16_t admin_port, std::string_view name) {
    try {
        http_connection admin(admin_port, 2s);
        const auto response = admin.request("GET", "/metrics");
        if (response.status != 200) return std::nullopt;
        return metric_value(response.body, name);
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

gateway_process::~gateway_process() {
    if (!process_) return;
    if (!process_->status()) process_->stop();
    // Sanitizer builds report memory errors and leaks in the log, often only at exit.
    const std::string log = process_->stderr_text();
    for (const std::string_view marker : {"ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"}) {
        if (log.find(marker) != std::string::npos) {
            ADD_FAILURE() << "sanitizer report in " << process_->stderr_path() << ":\n"
                          << log.substr(log.find(marker), 2000);
        }
    }
}

gateway_process::gateway_process(const temp_dir& dir, const gateway_settings& settings) {
    const int n = next_file_number();
    config_path_ = dir.file("gateway-" + std::to_string(n) + ".yaml");
    // The TLS listener is not probed with a bare connect (that would count as a failed
    // handshake): the log line says it listens, it is opened before that line is written.
    std::string last_error;
    // The free port may be taken by someone else before gatewayd binds it: try a few.
    for (int attempt = 0; attempt < 3; ++attempt) {
        port_ = free_port();
        tls_port_ = settings.tls.empty() ? 0 : free_port();
        write_file(config_path_, gateway_yaml(port_, settings, tls_port_));
        const auto suffix = std::to_string(n) + (attempt ? "." + std::to_string(attempt) : "");
        process_ = std::make_unique<process>(
            std::vector<std::string>{gatewayd_bin(), "--config", config_path_.string()},
            dir.file("gateway-" + suffix + ".out"), dir.file("gateway-" + suffix + ".err"));
        const bool ready = wait_until(
            [&] {
                return (process_->stderr_text().find("gatewayd listening on") != std::string::npos &&
                        port_accepts(port_)) ||
                       process_->exited();
            },
            10s);
        if (ready && !process_->exited()) return;
        last_error = process_->exited() ? "exited " + std::to_string(process_->status()->shell_code())
                                        : "not listening after 10 s";
        last_error += "; stderr:\n" + process_->stderr_text();
        process_->stop(1s);
        if (process_->stderr_text().find("in use") == std::string::npos) break;
    }
    throw std::runtime_error("gatewayd did not start: " + last_error);
}

std::unique_ptr<http_connection> gateway_process::connect(millis timeout) const {
    return std::make_unique<http_connection>(port_, timeout);
}

std::unique_ptr<http_connection> gateway_process::connect_tls(const tls_client_options& options, millis timeout) const {
    auto connection = std::make_unique<http_connection>(tls_port_, timeout);
    std::string error;
    if (!connection->start_tls(options, error)) throw std::runtime_error("TLS handshake failed: " + error);
    return connection;
}

http_response gateway_process::request(std::string_view method, std::string_view target,
                                       const std::vector<std::pair<std::string, std::string>>& headers,
                                       std::string_view body) const {
    http_connection connection(port_);
    return connection.request(method, target, headers, body);
}

http_response gateway_process::settled_get(const std::string& target) const {
    auto response = request("GET", target);
    const bool logged = wait_until(
        [&] { return count_lines_containing(log_path(), " path=" + target + " status=") == 1; }, 2s, 2ms);
    EXPECT_TRUE(logged) << "no access-log line for " << target;
    return response;
}

}  // namespace it
