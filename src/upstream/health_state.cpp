#include "gatewayd/upstream/health_state.hpp"

namespace gw {

bool health_state::record_probe(bool good) {
    if (good) {
        bad_in_row_ = 0;
        ++good_in_row_;
        if (!healthy_ && good_in_row_ >= healthy_threshold_) {
            healthy_ = true;
            return true;
        }
        return false;
    }
    good_in_row_ = 0;
    ++bad_in_row_;
    if (healthy_ && bad_in_row_ >= unhealthy_threshold_) {
        healthy_ = false;
        return true;
    }
    return false;
}

bool health_state::mark_down() {
    good_in_row_ = 0;
    if (!healthy_) return false;
    healthy_ = false;
    return true;
}

std::optional<unsigned> parse_status_line(std::string_view line) {
    // "HTTP/1.x SSS" and then a space or the end of the line.
    if (line.size() < 12 || !line.starts_with("HTTP/1.") || line[8] != ' ') return std::nullopt;
    if (line[7] != '0' && line[7] != '1') return std::nullopt;
    unsigned status = 0;
    for (std::size_t i = 9; i < 12; ++i) {
        if (line[i] < '0' || line[i] > '9') return std::nullopt;
        status = status * 10 + static_cast<unsigned>(line[i] - '0');
    }
    if (line.size() > 12 && line[12] != ' ' && line[12] != '\r') return std::nullopt;
    if (status < 100) return std::nullopt;
    return status;
}

}  // namespace gw
