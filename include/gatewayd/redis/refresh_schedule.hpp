#pragma once

#include <chrono>
#include <optional>

namespace gw {

// When to read a cluster's slot map again (I/O-free): one read at a time, reads started at least
// `gap` apart, and a wish made during a read or within the gap served once, when they pass. A
// storm of MOVED replies during a reshard costs a read every `gap`, not one per reply.
class refresh_schedule {
public:
    using clock = std::chrono::steady_clock;

    explicit refresh_schedule(clock::duration gap) : gap_(gap) {}

    // A read is wanted at `now`: when to start it, or nothing when one is already running or due.
    std::optional<clock::time_point> request(clock::time_point now);
    // The read due has started at `now`.
    void started(clock::time_point now);
    // The read has ended at `now`: when to start the next one, if it was wished for meanwhile.
    std::optional<clock::time_point> finished(clock::time_point now);

    bool busy() const { return state_ != state::idle; }

private:
    enum class state { idle, due, running };
    clock::duration gap_;
    state state_ = state::idle;
    bool wanted_again_ = false;
    std::optional<clock::time_point> last_start_;
};

}  // namespace gw
