#include "gatewayd/rate_limiter.hpp"

#include <spdlog/spdlog.h>

namespace gw {

namespace {

using steady_clock = std::chrono::steady_clock;

// Keeps a map of windows bounded: expired entries go first, then, if a flood of distinct keys
// still fills it, everything (the windows restart; better than unbounded memory).
template <class Map, class Expired>
void make_room(Map& map, std::size_t max_keys, Expired expired) {
    if (map.size() < max_keys) return;
    std::erase_if(map, expired);
    if (map.size() >= max_keys) {
        spdlog::warn("rate limiter: more than {} clients in memory; in-process windows restart", max_keys);
        map.clear();
    }
}

}  // namespace

rate_limiter::rate_limiter(boost::asio::io_context& io, std::size_t max_keys) : io_(io), max_keys_(max_keys) {}

redis_client& rate_limiter::redis(const redis_config& settings) {
    if (!redis_) {
        redis_ = std::make_unique<redis_client>(io_, settings);
        redis_->start();
    }
    return *redis_;
}

void rate_limiter::prepare(const rate_limit_config& limits, const redis_config& settings) {
    if (limits.enabled && limits.store == "redis") redis(settings);
}

window_count rate_limiter::count_in_memory(const std::string& key, std::chrono::milliseconds window,
                                           steady_clock::time_point now) {
    auto found = memory_.find(key);
    if (found == memory_.end()) {
        make_room(memory_, max_keys_, [&](const auto& entry) { return entry.second.ends <= now; });
        found = memory_.emplace(key, memory_window{}).first;
    }
    return count_request(found->second, now, window);
}

net::awaitable<limit_outcome> rate_limiter::check(std::string key, const rate_limit_config& limits,
                                                          const redis_config& settings) {
    const auto now = steady_clock::now();
    // Exact for a fixed window: once over, the key stays over until its window ends.
    if (const auto blocked = blocked_until_.find(key); blocked != blocked_until_.end()) {
        if (now < blocked->second) {
            ++limited_;
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(blocked->second - now);
            co_return limit_outcome{limit_outcome::verdict::limited,
                                    decide({limits.requests + 1, left}, limits.requests, limits.window)};
        }
        blocked_until_.erase(blocked);
    }

    std::optional<window_count> counted;
    if (limits.store == "redis") {
        counted = co_await redis(settings).count_window(key, limits.window);
        if (!counted) {
            ++store_errors_;
            if (limits.on_store_error == "allow") {
                ++allowed_;
                co_return limit_outcome{limit_outcome::verdict::allowed, std::nullopt};
            }
            if (limits.on_store_error == "deny") co_return limit_outcome{limit_outcome::verdict::unavailable, std::nullopt};
        }
    }
    if (!counted) counted = count_in_memory(key, limits.window, now);

    const rate_decision decision = decide(*counted, limits.requests, limits.window);
    if (decision.allowed) {
        ++allowed_;
        co_return limit_outcome{limit_outcome::verdict::allowed, decision};
    }
    ++limited_;
    make_room(blocked_until_, max_keys_, [&](const auto& entry) { return entry.second <= now; });
    blocked_until_[key] = now + counted->remaining;
    co_return limit_outcome{limit_outcome::verdict::limited, decision};
}

}  // namespace gw
