#include "gatewayd/upstream/try_outcome.hpp"

#include <algorithm>

namespace gw {

breaker_outcome breaker_outcome_of(exchange_stage stage, unsigned status) {
    switch (stage) {
    case exchange_stage::completed: return status >= 500 ? breaker_outcome::failure : breaker_outcome::success;
    case exchange_stage::before_response: return breaker_outcome::failure;
    case exchange_stage::client_gone: return breaker_outcome::neither;
    }
    return breaker_outcome::neither;
}

next_try after_failed_try(const failed_try& failure, bool fresh_connection_tried, bool body_read) {
    // Nothing reached the backend: another one may take the request if its body is still unread.
    if (failure.connect_failed) return body_read ? next_try::answer : next_try::other_backend;
    if (failure.stale && !fresh_connection_tried && !body_read) return next_try::fresh_connection;
    if (body_read || failure.timed_out) return next_try::answer;
    return next_try::other_backend;
}

std::uint64_t no_backend_retry_after(std::span<const backend_wait> backends, std::chrono::milliseconds health_interval) {
    using std::chrono::milliseconds;
    auto soonest = milliseconds::max();
    for (const auto& backend : backends) {
        milliseconds wait{};
        if (!backend.healthy) {
            wait = health_interval;
        } else if (backend.breaker_enabled) {
            wait = backend.until_half_open;
        }
        soonest = std::min(soonest, wait);
    }
    if (soonest == milliseconds::max()) return 1;
    return std::clamp<std::uint64_t>(static_cast<std::uint64_t>((soonest.count() + 999) / 1000), 1, 3600);
}

}  // namespace gw
