#include "gatewayd/logging.hpp"

#include "gatewayd/log_escape.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <memory>

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

std::unique_ptr<spdlog::formatter> make_formatter(bool json, bool access) {
    auto formatter = std::make_unique<spdlog::pattern_formatter>();
    if (!json) {
        formatter->set_pattern(text_pattern);
    } else if (access) {
        // The access logger's message is already a list of JSON members.
        formatter->set_pattern(R"({"time":"%Y-%m-%dT%H:%M:%S.%e%z","level":"%l",%v})");
    } else {
        formatter->add_flag<json_message_flag>('*').set_pattern(
            R"({"time":"%Y-%m-%dT%H:%M:%S.%e%z","level":"%l","msg":"%*"})");
    }
    return formatter;
}

// A sink of its own: spdlog keeps the formatter in the sink, and the two formats differ.
std::shared_ptr<spdlog::logger> access_logger() {
    static std::shared_ptr<spdlog::logger> logger = [] {
        auto made = std::make_shared<spdlog::logger>("access", std::make_shared<spdlog::sinks::stderr_sink_mt>());
        made->set_level(spdlog::level::info);
        return made;
    }();
    return logger;
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
    main_logger->set_formatter(make_formatter(json, false));
    main_logger->set_level(spdlog::level::from_str(config.level));
    main_logger->flush_on(spdlog::level::trace);
    auto access = access_logger();
    access->set_formatter(make_formatter(json, true));
    access->flush_on(spdlog::level::info);
}

void log_access(const access_entry& e) {
    if (!access_enabled.load(std::memory_order_relaxed)) return;
    const double millis = static_cast<double>(e.duration.count()) / 1000.0;
    if (json_format.load(std::memory_order_relaxed)) {
        access_logger()->info(
            R"("msg":"access","client":"{}","method":"{}","path":"{}","status":{},"backend":"{}","route":"{}","duration_ms":{:.3f},"request_id":"{}")",
            json_escape(e.client_ip), json_escape(e.method), json_escape(e.target), e.status, json_escape(e.backend),
            json_escape(e.route), millis, json_escape(e.request_id));
    } else {
        access_logger()->info("access client={} method={} path={} status={} backend={} route={} duration_ms={:.3f} request_id={}",
                              e.client_ip, text_escape(e.method), text_escape(e.target), e.status, e.backend, e.route,
                              millis, text_escape(e.request_id));
    }
}

}  // namespace gw
