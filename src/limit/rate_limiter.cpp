#include "gatewayd/limit/rate_limiter.hpp"

#include "gatewayd/limit/limit_script.hpp"

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
    : io_(io), max_keys_(max_keys), script_(limit_script()), memory_(max_keys) {}

redis_client& rate_limiter::redis(const redis_config& settings) {
    if (!redis_) {
        redis_ = std::make_unique<redis_client>(io_, settings);
        redis_->preload(script_);
        redis_->start();
    }
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
        boost::container::small_vector<std::string_view, 4> keys;
        for (const auto& check : checks) keys.push_back(check.key);
        // Lives in this frame: another request may run while this one waits for Redis.
        std::array<char, 24> now_text;
        boost::container::small_vector<std::string_view, 12> args;
        redis_client& store = redis(settings);
        if (co_await store.ready_soon()) {
            // The time is taken on Redis's clock once it is known.
            limit_script_args(checks, store.now_us(), now_text, args);
            const auto reply = co_await store.eval(script_, keys, args);
            decided = reply && decode_limit_reply(*reply, checks.size(), outcome.verdicts);
        }
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
