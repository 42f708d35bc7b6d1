#pragma once

#include <chrono>
#include <ctime>
#include <string>
#include <string_view>

namespace gw {

struct access_entry {
    std::string_view client_ip;
    std::string_view method;
    std::string_view target;
    unsigned status = 0;
    std::string_view backend;  // "-" when the gateway answered itself
    std::string_view route;    // "-" when no route matched
    std::chrono::microseconds duration{};
    std::string_view request_id;
    std::string_view shadow_limited;  // shadow rules that would have refused; empty: field left out
};

// One access log line with its newline, appended to `out`, in the layout the main logger's
// pattern gives ("<time> [info] access ..." or a JSON object). Formatted by hand: spdlog's
// formatting and escaping into temporaries cost a microsecond per request.
void append_access_line(std::string& out, const access_entry& entry, std::string_view time, bool json);

// Local time as the log pattern writes it, "2026-11-28T14:35:30.359+01:00"; the part that
// changes once a second is kept.
class log_timestamp {
public:
    std::string_view format(std::chrono::system_clock::time_point at);

private:
    std::time_t second_ = -1;
    char text_[40] = {};
    std::size_t seconds_end_ = 0;  // length of "YYYY-MM-DDTHH:MM:SS"
    char zone_[8] = {};            // "+HH:MM"
};

}  // namespace gw
