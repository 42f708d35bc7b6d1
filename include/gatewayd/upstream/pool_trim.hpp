#pragma once

#include <chrono>
#include <cstddef>

namespace gw {

// A connection returned beyond max_idle_per_backend is kept this long before a sweep closes it:
// when one burst of requests ends and the next begins, the second reuses the first's
// connections instead of the pool closing them and opening new ones.
inline constexpr std::chrono::seconds surplus_grace{1};

struct pool_limits {
    std::size_t max_idle;
    std::chrono::milliseconds idle_timeout;
};

// How many of a backend's `count` idle connections, oldest first, a sweep closes from the front,
// where `idle_for(i)` is how long the i-th has been idle: each that outlived idle_timeout, and
// each surplus one past its grace, stopping at the first one kept.
template <class IdleFor>
std::size_t sweep_count(std::size_t count, IdleFor idle_for, pool_limits limits) {
    std::size_t closed = 0;
    for (; closed < count; ++closed) {
        const std::chrono::steady_clock::duration waited = idle_for(closed);
        const bool surplus = count - closed > limits.max_idle;
        if (waited < limits.idle_timeout && !(surplus && waited >= surplus_grace)) break;
    }
    return closed;
}

}  // namespace gw
