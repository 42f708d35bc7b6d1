#include "gatewayd/log/logging.hpp"

#include "gatewayd/log/access_line.hpp"
#include "gatewayd/log/log_escape.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <cerrno>
#include <memory>
#include <string>

#include <unistd.h>

namespace gw {

namespace {

std::atomic<bool> access_enabled{true};
std::atomic<bool> json_format{false};

constexpr const char* text_pattern = "%Y-%m-%dT%H:%M:%S.%e%z [%l] %v";

// "%*": the message as a JSON string body, so the json pattern stays valid whatever is logged.
class json_message_flag final : public spdlog::custom_flag_formatter {
public:
    void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
        const std::string escaped = json_escape({msg.payload.data(), msg.payload.size()});
        dest.append(escaped.data(), escaped.data() + escaped.size());
    }
    std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<json_message_flag>(); }
};

std::unique_ptr<spdlog::formatter> make_formatter(bool json) {
    auto formatter = std::make_unique<spdlog::pattern_formatter>();
    if (!json) {
        formatter->set_pattern(text_pattern);
    } else {
        formatter->add_flag<json_message_flag>('*').set_pattern(
            R"({"time":"%Y-%m-%dT%H:%M:%S.%e%z","level":"%l","msg":"%*"})");
    }
    return formatter;
}

constexpr std::size_t access_batch_bytes = 64 * 1024;

// Writes all of `bytes` to stderr; a batch that stderr refuses (closed, full non-blocking
// pipe) is dropped, as a line was before.
void write_stderr(std::string_view bytes) {
    while (!bytes.empty()) {
        const ssize_t n = ::write(STDERR_FILENO, bytes.data(), bytes.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
}

// This thread's formatted access lines, written when flushed or at the thread's exit.
struct pending_lines {
    std::string bytes;
    ~pending_lines() { write_stderr(bytes); }
    void write() {
        write_stderr(bytes);
        bytes.clear();
    }
};

pending_lines& thread_lines() {
    thread_local pending_lines lines;
    return lines;
}

}  // namespace

void configure_logging(const log_config& config) {
    static const auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    static const bool installed = [] {
        auto logger = std::make_shared<spdlog::logger>("gatewayd", sink);
        spdlog::set_default_logger(logger);
        return true;
    }();
    (void)installed;

    const bool json = config.format == "json";
    json_format = json;
    access_enabled = config.access_log;
    auto main_logger = spdlog::default_logger();
    main_logger->set_formatter(make_formatter(json));
    main_logger->set_level(spdlog::level::from_str(config.level));
    main_logger->flush_on(spdlog::level::trace);
}

void log_access(const access_entry& e) {
    if (!access_enabled.load(std::memory_order_relaxed)) return;
    thread_local log_timestamp clock;
    auto& lines = thread_lines();
    append_access_line(lines.bytes, e, clock.format(std::chrono::system_clock::now()),
                       json_format.load(std::memory_order_relaxed));
    if (lines.bytes.size() >= access_batch_bytes) lines.write();
}

void flush_access_log() { thread_lines().write(); }

}  // namespace gw
