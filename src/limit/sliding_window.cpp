#include "gatewayd/limit/sliding_window.hpp"

#include <algorithm>
#include <cmath>

namespace gw {

namespace {

constexpr std::size_t index = 0;     // of the current window: now_ms / window
constexpr std::size_t current = 1;   // requests counted in it
constexpr std::size_t previous = 2;  // requests counted in the one before

}  // namespace

limit_verdict sliding_window::decide(limit_cell& cell, std::int64_t now_us, const limit_params& params) const {
    auto& v = cell.values;
    const std::int64_t now_ms = now_us / 1000;
    const std::int64_t w = params.window.count();
    std::int64_t at = now_ms / w;
    // The window moved on: the current count becomes the previous one, or both are stale. A
    // stored window ahead of the clock (the store's clock went back) stays the current one.
    if (v[index] == at - 1) {
        v[previous] = v[current];
        v[current] = 0;
    } else if (v[index] < at - 1) {
        v[previous] = 0;
        v[current] = 0;
    } else {
        at = std::max(at, v[index]);
    }
    v[index] = at;
    const double elapsed = static_cast<double>(std::max<std::int64_t>(now_ms - at * w, 0));
    const double r = static_cast<double>(params.requests);
    const double c = static_cast<double>(v[current]);
    const double p = static_cast<double>(v[previous]);
    const double window = static_cast<double>(w);
    // The same expressions, in the same order, as the Lua below.
    const double estimate = p * (window - elapsed) / window + c;
    const std::chrono::milliseconds reset{static_cast<std::int64_t>(window - elapsed)};
    if (estimate + 1 <= r) {
        return {true, static_cast<std::uint64_t>(std::floor(r - estimate - 1)), reset, {}};
    }
    // When one more would pass if nothing else came: the previous window's share must decay,
    // or, when the current count alone is too many, the next window's share of it.
    const double wait = c + 1 <= r ? std::ceil(window - (r - 1 - c) * window / p) - elapsed
                                   : (window - elapsed) + std::max(0.0, std::ceil(window - (r - 1) * window / c));
    return {false, 0, reset, std::chrono::milliseconds(static_cast<std::int64_t>(wait))};
}

void sliding_window::charge(limit_cell& cell, std::int64_t, const limit_params&) const { ++cell.values[current]; }

std::int64_t sliding_window::expires_at(const limit_cell& cell, const limit_params& params) const {
    return (cell.values[index] + 2) * params.window.count() * 1000;
}

std::string_view sliding_window::lua_decide() const {
    return "local n = math.floor(now / 1000) local at = math.floor(n / w) "
           "local d = redis.pcall('HMGET', key, 'i', 'c', 'p') "
           "if d.err then redis.call('DEL', key) d = {} end "
           "local i, c, p = tonumber(d[1]), tonumber(d[2]) or 0, tonumber(d[3]) or 0 "
           "if i == nil or i < at - 1 then c, p = 0, 0 elseif i == at - 1 then p, c = c, 0 "
           "elseif i > at then at = i end "
           "local e = n - at * w if e < 0 then e = 0 end "
           "local est = p * (w - e) / w + c "
           "reset = w - e "
           "if est + 1 <= r then ok, left, retry = 1, math.floor(r - est - 1), 0 "
           "else ok, left = 0, 0 "
           "if c + 1 <= r then retry = math.ceil(w - (r - 1 - c) * w / p) - e "
           "else retry = (w - e) + math.max(0, math.ceil(w - (r - 1) * w / c)) end end "
           "save = {at, c, p} ";
}

std::string_view sliding_window::lua_charge() const {
    return "redis.call('HSET', key, 'i', string.format('%.0f', save[1]), 'c', save[2] + 1, 'p', save[3]) "
           "redis.call('PEXPIRE', key, 2 * w) ";
}

}  // namespace gw
