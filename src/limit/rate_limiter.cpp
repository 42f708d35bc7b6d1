#include "gatewayd/limit/rate_limiter.hpp"


#include <spdlog/spdlog.h>

namespace gw {

namespace {

using steady_clock = std::chrono::steady_clock;

std::int64_t system_now_us() {
    return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// Keeps the map bounded: expired entries go first, then, if a flood of distinct keys still
// fills it, everything (they are only a cache of what the store would answer).
void make_room(std::unordered_map<std::string, steady_clock::time_point>& blocked, std::size_t max_keys,
               steady_clock::time_point now) {
    if (blocked.size() < max_keys) return;
    std::erase_if(blocked, [&](const auto& entry) { return entry.second <= now; });
    if (blocked.size() >= max_keys) blocked.clear();
}

}  // namespace

rate_limiter::rate_limiter(boost::asio::io_context& io, std::size_t max_keys)
    : io_(io), max_keys_(max_keys), memory_(max_keys) {}

redis_limit_store& rate_limiter::redis(const redis_config& settings) {
    if (!redis_) redis_ = std::make_unique<redis_limit_store>(io_, settings);
    return *redis_;
}

void rate_limiter::prepare(const rate_limit_config& policy, const redis_config& settings) {
    if (policy.enabled && policy.store == "redis") redis(settings);
}

std::optional<limit_outcome> rate_limiter::answer_from_blocked(std::span<const limit_check> checks,
                                                               steady_clock::time_point now) {
    std::optional<limit_outcome> refused;
    for (std::size_t i = 0; i < checks.size(); ++i) {
        if (checks[i].rule->shadow) continue;
        const auto blocked = blocked_until_.find(checks[i].key);
        if (blocked == blocked_until_.end()) continue;
        if (now >= blocked->second) {
            blocked_until_.erase(blocked);
            continue;
        }
        if (!refused) {
            // The checks not known to refuse are reported as untouched.
            refused.emplace();
            refused->result = limit_outcome::verdict::limited;
            for (const auto& check : checks) {
                refused->verdicts.push_back({true, check.rule->params.requests, check.rule->params.window, {}});
            }
        }
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(blocked->second - now);
        refused->verdicts[i] = {false, 0, left, left};
    }
    return refused;
}

void rate_limiter::remember_refusals(std::span<const limit_check> checks, const limit_verdicts& verdicts,
                                     steady_clock::time_point now) {
    for (std::size_t i = 0; i < checks.size(); ++i) {
        if (verdicts[i].allowed || checks[i].rule->shadow || verdicts[i].retry_after.count() <= 0) continue;
        make_room(blocked_until_, max_keys_, now);
        blocked_until_[checks[i].key] = now + verdicts[i].retry_after;
    }
}

net::awaitable<limit_outcome> rate_limiter::check(std::span<const limit_check> checks,
                                                  const rate_limit_config& policy, const redis_config& settings) {
    const auto now = steady_clock::now();
    // Exact: a refused key stays refused until its retry-after has passed.
    if (auto refused = answer_from_blocked(checks, now)) {
        count(checks, *refused);
        co_return std::move(*refused);
    }

    limit_outcome outcome;
    bool decided = false;
    if (policy.store == "redis") {
        decided = co_await redis(settings).decide(checks, settings.timeout, outcome.verdicts);
        if (!decided) {
            ++store_errors_;
            if (policy.on_store_error == "allow") {
                ++allowed_;
                co_return limit_outcome{limit_outcome::verdict::allowed, {}, std::nullopt};
            }
            if (policy.on_store_error == "deny") {
                co_return limit_outcome{limit_outcome::verdict::unavailable, {}, std::nullopt};
            }
        }
    }
    if (!decided) memory_.check(checks, system_now_us(), outcome.verdicts);

    if (!passes(checks, outcome.verdicts)) outcome.result = limit_outcome::verdict::limited;
    count(checks, outcome);
    remember_refusals(checks, outcome.verdicts, now);
    co_return outcome;
}

void rate_limiter::count(std::span<const limit_check> checks, limit_outcome& outcome) {
    outcome.decision = headline_decision(checks, outcome.verdicts);
    for (std::size_t i = 0; i < checks.size() && i < outcome.verdicts.size(); ++i) {
        if (checks[i].rule->shadow && !outcome.verdicts[i].allowed) shadow_limited_.add(checks[i].rule->name);
    }
    if (outcome.result == limit_outcome::verdict::allowed) {
        ++allowed_;
    } else if (outcome.decision) {
        limited_.add(outcome.decision->refused_by);
    }
}

}  // namespace gw
