#include "gatewayd/log/access_line.hpp"

#include "gatewayd/log/log_escape.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstring>

namespace gw {

namespace {

void append_number(std::string& out, std::uint64_t value) {
    char digits[20];
    out.append(digits, std::to_chars(digits, digits + sizeof digits, value).ptr);
}

// Microseconds as milliseconds with three decimals, as "%.3f" prints them.
void append_millis(std::string& out, std::chrono::microseconds duration) {
    const auto micros = static_cast<std::uint64_t>(duration.count() < 0 ? 0 : duration.count());
    append_number(out, micros / 1000);
    const auto fraction = micros % 1000;
    out += '.';
    out += static_cast<char>('0' + fraction / 100);
    out += static_cast<char>('0' + fraction / 10 % 10);
    out += static_cast<char>('0' + fraction % 10);
}

}  // namespace

void append_access_line(std::string& out, const access_entry& e, std::string_view time, bool json) {
    if (json) {
        const auto string_member = [&out](std::string_view name, std::string_view value) {
            out.append(",\"").append(name).append("\":\"");
            append_json_escaped(out, value);
            out += '"';
        };
        out.append(R"({"time":")").append(time).append(R"(","level":"info","msg":"access")");
        string_member("client", e.client_ip);
        string_member("method", e.method);
        string_member("path", e.target);
        out.append(R"(,"status":)");
        append_number(out, e.status);
        string_member("backend", e.backend);
        string_member("route", e.route);
        out.append(R"(,"duration_ms":)");
        append_millis(out, e.duration);
        string_member("request_id", e.request_id);
        if (!e.shadow_limited.empty()) string_member("shadow_limited", e.shadow_limited);
        out.append("}\n");
        return;
    }
    out.append(time).append(" [info] access client=").append(e.client_ip).append(" method=");
    append_text_escaped(out, e.method);
    out.append(" path=");
    append_text_escaped(out, e.target);
    out.append(" status=");
    append_number(out, e.status);
    out.append(" backend=").append(e.backend).append(" route=").append(e.route).append(" duration_ms=");
    append_millis(out, e.duration);
    out.append(" request_id=");
    append_text_escaped(out, e.request_id);
    if (!e.shadow_limited.empty()) out.append(" shadow_limited=").append(e.shadow_limited);
    out += '\n';
}

std::string_view log_timestamp::format(std::chrono::system_clock::time_point at) {
    using namespace std::chrono;
    const auto since_epoch = at.time_since_epoch();
    const std::time_t second = static_cast<std::time_t>(duration_cast<seconds>(since_epoch).count());
    if (second != second_) {
        std::tm local{};
        localtime_r(&second, &local);
        seconds_end_ = std::strftime(text_, sizeof text_, "%Y-%m-%dT%H:%M:%S", &local);
        // Real offsets are within ±14 h; the clamp only keeps the text at six characters.
        const long offset = local.tm_gmtoff / 60;
        const long minutes = std::min(offset < 0 ? -offset : offset, 99L * 60 + 59);
        const auto hours = static_cast<int>(minutes / 60);
        const auto rest = static_cast<int>(minutes % 60);
        std::snprintf(zone_, sizeof zone_, "%c%02d:%02d", offset < 0 ? '-' : '+', hours, rest);
        second_ = second;
    }
    const auto millis = static_cast<unsigned>(duration_cast<milliseconds>(since_epoch).count() % 1000);
    char* at_millis = text_ + seconds_end_;
    at_millis[0] = '.';
    at_millis[1] = static_cast<char>('0' + millis / 100);
    at_millis[2] = static_cast<char>('0' + millis / 10 % 10);
    at_millis[3] = static_cast<char>('0' + millis % 10);
    const std::size_t zone_length = std::strlen(zone_);
    std::memcpy(at_millis + 4, zone_, zone_length);
    return {text_, seconds_end_ + 4 + zone_length};
}

}  // namespace gw
