#include "gatewayd/limit/gcra.hpp"

#include <algorithm>

namespace gw {

namespace {

constexpr std::size_t tat = 0;       // µs since the epoch
constexpr std::size_t next_tat = 1;  // what an admitted request moves it to (decide → charge)

// One emission interval in µs (at least 1), and the tolerance: how far ahead of now the TAT may
// be for a request to pass.
struct pace {
    std::int64_t interval;
    std::int64_t tolerance;
};

pace pace_of(const limit_params& params) {
    const auto r = static_cast<std::int64_t>(params.requests);
    const std::int64_t interval = std::max<std::int64_t>(params.window.count() * 1000 / r, 1);
    const auto burst = params.burst == 0 ? r : static_cast<std::int64_t>(params.burst);
    return {interval, (burst - 1) * interval};
}

std::chrono::milliseconds ms_up(std::int64_t us) { return std::chrono::milliseconds((us + 999) / 1000); }

}  // namespace

limit_verdict gcra::decide(limit_cell& cell, std::int64_t now_us, const limit_params& params) const {
    const auto [interval, tolerance] = pace_of(params);
    const std::int64_t arrival = std::max(cell.values[tat], now_us);
    if (arrival - now_us > tolerance) {
        const std::int64_t wait = arrival - tolerance - now_us;
        return {false, 0, ms_up(wait), ms_up(wait)};
    }
    const std::int64_t moved = arrival + interval;
    cell.values[next_tat] = moved;
    // Room left now, and when one more request's worth of it comes back.
    const std::int64_t room = tolerance + now_us - moved;
    if (room < 0) return {true, 0, ms_up(-room), {}};
    return {true, static_cast<std::uint64_t>(room / interval + 1), ms_up(interval - room % interval), {}};
}

void gcra::charge(limit_cell& cell, std::int64_t, const limit_params&) const { cell.values[tat] = cell.values[next_tat]; }

std::int64_t gcra::expires_at(const limit_cell& cell, const limit_params&) const { return cell.values[tat]; }

std::string_view gcra::lua_decide() const {
    return "local t = math.floor(w * 1000 / r) if t < 1 then t = 1 end "
           "local b = u if b == 0 then b = r end "
           "local tol = (b - 1) * t "
           "local v = redis.pcall('GET', key) "
           "local at = type(v) == 'string' and tonumber(v) or nil "
           "if at == nil or at < 1e14 then at = now elseif at < now then at = now end "
           "if at - now > tol then ok, left = 0, 0 retry = math.ceil((at - tol - now) / 1000) reset = retry "
           "else local moved = at + t local room = tol + now - moved ok, retry = 1, 0 save = moved "
           "if room < 0 then left, reset = 0, math.ceil(-room / 1000) "
           "else left = math.floor(room / t) + 1 reset = math.ceil((t - room % t) / 1000) end end ";
}

std::string_view gcra::lua_charge() const {
    return "redis.call('SET', key, string.format('%.0f', save), 'PX', math.ceil((save - now) / 1000)) ";
}

}  // namespace gw
