#include "gatewayd/redis/refresh_schedule.hpp"

#include <algorithm>

namespace gw {

std::optional<refresh_schedule::clock::time_point> refresh_schedule::request(clock::time_point now) {
    if (state_ == state::running) {
        wanted_again_ = true;
        return std::nullopt;
    }
    if (state_ == state::due) return std::nullopt;
    state_ = state::due;
    if (!last_start_) return now;
    return std::max(now, *last_start_ + gap_);
}

void refresh_schedule::started(clock::time_point now) {
    state_ = state::running;
    wanted_again_ = false;
    last_start_ = now;
}

std::optional<refresh_schedule::clock::time_point> refresh_schedule::finished(clock::time_point now) {
    state_ = state::idle;
    if (!wanted_again_) return std::nullopt;
    wanted_again_ = false;
    return request(now);
}

}  // namespace gw
