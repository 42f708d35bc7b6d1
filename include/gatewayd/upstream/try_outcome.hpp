#pragma once

#include <chrono>
#include <cstdint>
#include <span>

namespace gw {

// How far one try against one backend got.
enum class exchange_stage {
    completed,        // the response reached the client, possibly cut short by either side
    before_response,  // nothing came back from the backend; the client has not been answered
    client_gone,      // the client broke off or sent a body we refuse
};

// What a try means for the backend's circuit breaker (gobreaker has no third outcome: a
// request whose client went away gives its admission back instead).
enum class breaker_outcome { success, failure, neither };

// A connect error, a timeout and a 5xx are failures; a response below 500 is a success.
breaker_outcome breaker_outcome_of(exchange_stage stage, unsigned status);

// How a try failed before any response byte reached the client.
struct failed_try {
    bool connect_failed = false;  // refused or timed out: nothing reached the backend
    bool stale = false;           // a pooled connection that failed before any byte came back
    bool timed_out = false;       // the backend got the request and did not answer in time
};

enum class next_try {
    fresh_connection,  // the same backend on a new connection (not a retry: the pool was stale)
    other_backend,     // a retry, when upstream.retries allows one
    answer,            // no try is left that may be made: the client gets the error owed
};

// The contract's retry rules as we read them: a stale pooled connection is tried again once on
// a fresh one; otherwise another backend, while no byte of the body has been read (it is
// streamed, not kept, so it cannot be sent again), and never after the backend timed out
// holding the request (it is not handed the same work twice).
next_try after_failed_try(const failed_try& failure, bool fresh_connection_tried, bool body_read);

// One backend of a pool with no backend available, for Retry-After.
struct backend_wait {
    bool healthy = true;
    bool breaker_enabled = true;
    std::chrono::milliseconds until_half_open{};  // an open breaker's remaining open_timeout
};

// Retry-After on a 503 no_backend: until the soonest backend may be available again (an open
// breaker's remaining time, or one health-check interval for a down backend), in whole
// seconds, 1 to 3600.
std::uint64_t no_backend_retry_after(std::span<const backend_wait> backends, std::chrono::milliseconds health_interval);

}  // namespace gw
