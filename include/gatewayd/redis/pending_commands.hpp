#pragma once

#include <cstddef>
#include <deque>
#include <vector>

namespace gw {

// Commands sent on one Redis connection and not answered yet, oldest first. Redis answers in
// order, so the next reply belongs to the front, and only the front's deadline needs watching:
// one that passes ends the connection, since every later reply would be mismatched.
template <class Waiter>
class pending_commands {
public:
    void push(Waiter* waiter) { queue_.push_back(waiter); }

    // The command the next reply answers, or nullptr when none waits (a protocol error).
    Waiter* take_front() {
        if (queue_.empty()) return nullptr;
        Waiter* front = queue_.front();
        queue_.pop_front();
        return front;
    }

    // The command the next reply answers, left in place; nullptr when none waits.
    Waiter* front() const { return queue_.empty() ? nullptr : queue_.front(); }

    // Everything still waiting, to be failed when the connection goes.
    std::vector<Waiter*> take_all() {
        std::vector<Waiter*> all(queue_.begin(), queue_.end());
        queue_.clear();
        return all;
    }

    bool empty() const { return queue_.empty(); }
    std::size_t size() const { return queue_.size(); }

private:
    std::deque<Waiter*> queue_;
};

}  // namespace gw
