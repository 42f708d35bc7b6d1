#pragma once

#include "gatewayd/limit/limit_check.hpp"
#include "gatewayd/redis/redis_protocol.hpp"

#include <array>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace gw {

// The Redis form of decide_all(): one Lua script that holds every algorithm's fragment and
// decides all checks of a request atomically, in one round trip. KEYS are the checks' keys;
// ARGV is the time in µs since the epoch, then per check its algorithm, requests, window ms, burst and shadow
// flag; the reply is two integers per check: the requests remaining when it allowed (0 or
// more), or -1 minus the retry-after ms when it refused; then the reset ms.
const std::string& limit_script();

// ARGV for `checks` at `now_us`: the time written into `now_text`, the rules' own arguments as
// they were written once (limit_rule::script_args).
void limit_script_args(std::span<const limit_check> checks, std::int64_t now_us, std::array<char, 24>& now_text,
                       boost::container::small_vector<std::string_view, 12>& args);

// The verdicts of `count` checks into `out`; false when the reply is anything else.
bool decode_limit_reply(const redis_reply& reply, std::size_t count, limit_verdicts& out);

}  // namespace gw
