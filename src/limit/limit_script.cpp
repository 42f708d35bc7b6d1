#include "gatewayd/limit/limit_script.hpp"

#include <charconv>

namespace gw {

namespace {

// One branch per algorithm, on the check's algorithm name in `kind`.
std::string dispatch(bool charge) {
    std::string text;
    for (const limit_algorithm* algorithm : limit_algorithms()) {
        const std::string_view code = charge ? algorithm->lua_charge() : algorithm->lua_decide();
        if (code.empty()) continue;
        text.append(text.empty() ? "if" : "elseif").append(" kind == '").append(algorithm->name());
        text.append("' then ").append(code).append(" ");
    }
    if (!text.empty()) text += "end ";
    return text;
}

std::string build_script() {
    // Every check decides; then, when no enforcing one refused, the ones that allowed are charged
    // (unless the step is decide-only).
    const std::string arguments =
        "local b = 2 + (i - 1) * 5 "
        "local kind, key = ARGV[b + 1], KEYS[i] "
        "local r, w, u = tonumber(ARGV[b + 2]), tonumber(ARGV[b + 3]), tonumber(ARGV[b + 4]) ";
    // One check (the common case) without the loop and its tables.
    std::string text =
        "local now, charge = tonumber(ARGV[1]), ARGV[2] == 'c' "
        "if #KEYS == 1 then "
        "local kind, key = ARGV[3], KEYS[1] "
        "local r, w, u = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]) "
        "local ok, left, reset, retry, save = 0, 0, 0, 0, nil " + dispatch(false) +
        "if ok == 0 then return {-1 - retry, reset} end ";
    if (const std::string charges = dispatch(true); !charges.empty()) text += "if charge then " + charges + "end ";
    text +=
        "return {left, reset} "
        "end "
        "local out, allowed, saved, pass = {}, {}, {}, charge "
        "for i = 1, #KEYS do " + arguments +
        "local ok, left, reset, retry, save = 0, 0, 0, 0, nil " + dispatch(false) +
        "allowed[i] = ok saved[i] = save "
        "if ok == 0 and ARGV[b + 5] == '0' then pass = false end "
        "out[2 * i - 1] = ok == 1 and left or -1 - retry "
        "out[2 * i] = reset "
        "end ";
    if (const std::string charges = dispatch(true); !charges.empty()) {
        text += "if pass then for i = 1, #KEYS do if allowed[i] == 1 then " + arguments + "local save = saved[i] " +
                charges + "end end end ";
    }
    text += "return out";
    return text;
}

}  // namespace

const std::string& limit_script() {
    static const std::string text = build_script();
    return text;
}

void limit_script_head(std::int64_t now_us, limit_step step, std::array<char, 24>& now_text, limit_args& args) {
    args.clear();
    const auto end = std::to_chars(now_text.data(), now_text.data() + now_text.size(), now_us).ptr;
    args.emplace_back(now_text.data(), static_cast<std::size_t>(end - now_text.data()));
    args.emplace_back(step == limit_step::decide_only ? "d" : "c");
}

void append_check_args(const limit_check& check, limit_args& args) {
    for (const auto& arg : check.rule->script_args) args.emplace_back(arg);
}

void limit_script_args(std::span<const limit_check> checks, std::int64_t now_us, std::array<char, 24>& now_text,
                       limit_args& args, limit_step step) {
    limit_script_head(now_us, step, now_text, args);
    for (const auto& check : checks) append_check_args(check, args);
}

bool decode_limit_reply(const redis_reply& reply, std::size_t count, limit_verdicts& out) {
    out.clear();
    if (reply.type != redis_reply::kind::array || reply.elements.size() != 2 * count) return false;
    for (std::size_t i = 0; i < count; ++i) {
        const auto& first = reply.elements[2 * i];
        const auto& reset = reply.elements[2 * i + 1];
        if (first.type != redis_reply::kind::integer || reset.type != redis_reply::kind::integer) return false;
        const std::chrono::milliseconds reset_ms(reset.integer);
        if (first.integer >= 0) {
            out.push_back({true, static_cast<std::uint64_t>(first.integer), reset_ms, {}});
        } else {
            out.push_back({false, 0, reset_ms, std::chrono::milliseconds(-1 - first.integer)});
        }
    }
    return true;
}

}  // namespace gw
