#include "gatewayd/limit/fixed_window.hpp"

namespace gw {

namespace {

constexpr std::size_t count = 0;
constexpr std::size_t ends = 1;  // ms

}  // namespace

limit_verdict fixed_window::decide(limit_cell& cell, std::int64_t now_us, const limit_params& params) const {
    auto& v = cell.values;
    const std::int64_t now_ms = now_us / 1000;
    if (v[count] == 0 || now_ms >= v[ends]) {
        v[count] = 0;
        v[ends] = now_ms + params.window.count();
    }
    ++v[count];
    const auto made = static_cast<std::uint64_t>(v[count]);
    const std::chrono::milliseconds left{v[ends] - now_ms};
    if (made <= params.requests) return {true, params.requests - made, left, {}};
    return {false, 0, left, left};
}

std::int64_t fixed_window::expires_at(const limit_cell& cell, const limit_params&) const {
    return cell.values[ends] * 1000;
}

// Count and expiry in one step, so no key is ever left without a TTL (a key that somehow lost
// its TTL gets one again). A key another algorithm left (a reload changed the rule's algorithm:
// a hash, or a µs timestamp) starts afresh.
std::string_view fixed_window::lua_decide() const {
    return "local made = redis.pcall('INCR', key) "
           "if type(made) ~= 'number' or made > 1e14 then redis.call('DEL', key) made = redis.call('INCR', key) end "
           "reset = redis.call('PTTL', key) "
           "if made == 1 or reset < 0 then redis.call('PEXPIRE', key, w) reset = w end "
           "if made <= r then ok, left, retry = 1, r - made, 0 else ok, left, retry = 0, 0, reset end ";
}

}  // namespace gw
