#include "soak_load.hpp"

#include <algorithm>
#include <chrono>
#include <exception>

namespace soak {

using namespace std::chrono_literals;

std::string_view error_name(int status) {
    switch (status) {
        case 502: return "bad_gateway";
        case 503: return "no_backend";
        case 504: return "gateway_timeout";
        default: return "";
    }
}

namespace {

// Each fourth request lingers 40 ms in the backend, so a kill finds requests in flight.
std::string target_for(bool post, std::uint64_t seq, const std::string& id) {
    switch (seq % 4) {
        case 1: return "/delay/40?id=" + id;
        case 2: return post ? "/echo?id=" + id : "/soak/get/b?id=" + id;
        default: return post ? "/soak/post?id=" + id : "/soak/get?id=" + id;
    }
}

// A body that starts with the id and varies in size (64 B to 8 KiB).
std::string body_for(std::uint64_t seq, const std::string& id) {
    const std::size_t size = 64 + static_cast<std::size_t>((seq * 1237) % 8128);
    std::string body = "id=" + id + ";";
    while (body.size() < size) body.push_back(it::body_pattern[body.size() % it::body_pattern.size()]);
    return body;
}

}  // namespace

load_worker::load_worker(worker_config config) : config_(config) {
    outcomes_.reserve(static_cast<std::size_t>(config_.rate * 300));
    thread_ = std::thread([this] { run(); });
}

load_worker::~load_worker() {
    abort_ = true;
    join();
}

void load_worker::join() {
    if (thread_.joinable()) thread_.join();
}

std::optional<std::string> load_worker::in_flight() const {
    std::lock_guard guard(current_lock_);
    return current_;
}

void load_worker::run() {
    const auto period = std::chrono::duration_cast<steady::duration>(std::chrono::duration<double>(1.0 / config_.rate));
    auto next = steady::now();
    for (std::uint64_t seq = 0; !abort_ && steady::now() < config_.stop_at; ++seq) {
        // A fixed schedule; after a stall the schedule restarts instead of bursting to catch up.
        const auto now = steady::now();
        if (next < now - 1s) next = now;
        std::this_thread::sleep_until(std::min(next, config_.stop_at));
        next += period;
        if (abort_ || steady::now() >= config_.stop_at) break;
        outcomes_.push_back(send_one(seq));
    }
    connection_.reset();
}

outcome load_worker::send_one(std::uint64_t seq) {
    outcome result;
    result.post = config_.post;
    result.id = (config_.post ? "p" : "g") + std::to_string(config_.index) + "-" + std::to_string(seq);
    result.target = target_for(config_.post, seq, result.id);
    const std::string body = config_.post ? body_for(seq, result.id) : std::string();
    const std::vector<std::pair<std::string, std::string>> headers{
        {"X-Forwarded-For", "10.77.0." + std::to_string(config_.index)},
        {"X-Request-Id", "soak-" + result.id},
        {"Content-Type", "text/plain"}};
    {
        std::lock_guard guard(current_lock_);
        current_ = result.id;
    }
    result.sent = steady::now();
    bool reused = connection_ != nullptr;
    try {
        if (!connection_) {
            connection_ = std::make_unique<it::http_connection>(config_.port, 10s);
            ++connections_opened_;
        }
        connection_->send_request(config_.post ? "POST" : "GET", result.target, headers, body);
        it::read_options options;
        options.total_timeout = 15s;
        const auto response = connection_->read_response(options);
        result.status = response.status;
        result.backend_port = response.header("X-Backend-Port").value_or("");
        result.rate_limit_limit = response.header("X-RateLimit-Limit").value_or("");
        if (response.status == 200) {
            const bool echo = result.target.starts_with("/echo");
            const std::string expected =
                echo ? body : "Response from backend on port " + result.backend_port + " | path: " + result.target;
            if (response.body != expected) {
                result.problem = "200 with the wrong body: " + it::describe(response);
            } else if (response.header("X-Request-Id").value_or("") != "soak-" + result.id) {
                result.problem = "200 with the wrong X-Request-Id: " + it::describe(response);
            }
        } else if (!error_name(response.status).empty()) {
            result.gateway_error = it::is_error_response(response, response.status, error_name(response.status));
            if (!result.gateway_error) result.problem = "gateway error without its JSON body: " + it::describe(response);
        } else {
            result.problem = "unexpected answer: " + it::describe(response);
        }
        const auto connection = response.header("Connection").value_or("");
        if (connection == "close" || connection == "Close" || response.close_delimited) connection_.reset();
    } catch (const std::exception& error) {
        result.problem = std::string("no answer") + (reused ? " (on a reused connection): " : ": ") + error.what();
        connection_.reset();
    }
    result.millis = std::chrono::duration<double, std::milli>(steady::now() - result.sent).count();
    {
        std::lock_guard guard(current_lock_);
        current_.reset();
    }
    return result;
}

}  // namespace soak
