#include "gatewayd/io/error_boundary.hpp"

#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <mutex>

namespace gw {

namespace {

constexpr auto log_interval = std::chrono::seconds(1);

struct failure_log {
    std::mutex mutex;  // failures are rare; the loops share this only when one happens
    std::array<std::uint64_t, task_names.size()> counts{};
    std::array<std::uint64_t, task_names.size()> not_logged{};
    std::array<std::chrono::steady_clock::time_point, task_names.size()> last_logged{};
};

failure_log& log_state() {
    static failure_log state;
    return state;
}

std::string describe(std::exception_ptr failure) {
    try {
        std::rethrow_exception(failure);
    } catch (const std::exception& e) {
        return e.what();
    } catch (...) {
        return "unknown exception";
    }
}

}  // namespace

void record_task_failure(task_kind kind, std::exception_ptr failure) {
    const auto index = static_cast<std::size_t>(kind);
    const auto now = std::chrono::steady_clock::now();
    std::uint64_t skipped = 0;
    {
        auto& state = log_state();
        std::lock_guard lock(state.mutex);
        ++state.counts[index];
        const bool never = state.last_logged[index] == std::chrono::steady_clock::time_point{};
        if (!never && now - state.last_logged[index] < log_interval) {
            ++state.not_logged[index];
            return;
        }
        state.last_logged[index] = now;
        skipped = state.not_logged[index];
        state.not_logged[index] = 0;
    }
    const std::string what = describe(failure);
    if (skipped == 0) {
        spdlog::error("{} task ended by an internal error: {}", task_names[index], what);
    } else {
        spdlog::error("{} task ended by an internal error: {} ({} more since the last report)", task_names[index],
                      what, skipped);
    }
}

std::array<std::uint64_t, task_names.size()> task_failure_counts() {
    auto& state = log_state();
    std::lock_guard lock(state.mutex);
    return state.counts;
}

}  // namespace gw
