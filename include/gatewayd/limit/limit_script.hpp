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
// ARGV is the time in µs since the epoch, the step ('c' decide and charge, 'd' decide only),
// then per check its algorithm, requests, window ms, burst and shadow flag; the reply is two
// integers per check: the requests remaining when it allowed (0 or more), or -1 minus the
// retry-after ms when it refused; then the reset ms.
const std::string& limit_script();

// What one run of the script does with its checks.
enum class limit_step {
    decide_and_charge,  // each check decides; when no enforcing one refused, the allowed ones are charged
    decide_only,        // each check decides and nothing is charged (a fixed window counts as always)
};

using limit_args = boost::container::small_vector<std::string_view, 12>;

// ARGV for `checks` at `now_us`: the time written into `now_text`, the rules' own arguments as
// they were written once (limit_rule::script_args).
void limit_script_args(std::span<const limit_check> checks, std::int64_t now_us, std::array<char, 24>& now_text,
                       limit_args& args, limit_step step = limit_step::decide_and_charge);
// The same in two parts, for a script run over some of a request's checks: the head (time and
// step), then one check's arguments at a time.
void limit_script_head(std::int64_t now_us, limit_step step, std::array<char, 24>& now_text, limit_args& args);
void append_check_args(const limit_check& check, limit_args& args);

// The verdicts of `count` checks into `out`; false when the reply is anything else.
bool decode_limit_reply(const redis_reply& reply, std::size_t count, limit_verdicts& out);

}  // namespace gw
