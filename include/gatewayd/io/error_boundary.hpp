#pragma once

#include <array>
#include <cstdint>
#include <exception>
#include <string_view>

namespace gw {

// The kinds of task that run on the event loops, each behind an error boundary of its own.
enum class task_kind { session, admin, health_check, redis, event_loop, background };
inline constexpr std::array<std::string_view, 6> task_names{"session",  "admin",      "health_check",
                                                             "redis",    "event_loop", "background"};

// Where an exception that escaped a task ends up: counted for /metrics
// (gatewayd_internal_errors_total) and logged at most once a second per kind, with the number
// not logged since, so that one bad input repeated cannot flood the log. By then the task's
// frames are gone and their guards have given back what they held: one task ends, never the
// process.
void record_task_failure(task_kind kind, std::exception_ptr failure);

// Failures recorded so far, by kind (process-wide).
std::array<std::uint64_t, task_names.size()> task_failure_counts();

// The completion handler for co_spawn: a task that ends with an exception is recorded.
struct task_boundary {
    task_kind kind;
    void operator()(std::exception_ptr failure) const {
        if (failure) record_task_failure(kind, failure);
    }
};

}  // namespace gw
