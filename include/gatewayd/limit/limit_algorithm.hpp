#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <span>
#include <string_view>

namespace gw {

// What one rule allows: `requests` per `window`; `burst` requests at once where the algorithm
// has a burst (0: `requests`).
struct limit_params {
    std::uint64_t requests = 100;
    std::chrono::milliseconds window{60'000};
    std::uint64_t burst = 0;
};

class limit_algorithm;

// One key's state in process memory. Each algorithm reads the values its own way; a cell used
// by another algorithm before (a reload changed it) starts afresh.
struct limit_cell {
    const limit_algorithm* owner = nullptr;
    std::array<std::int64_t, 3> values{};
};

// One rule's answer for one request.
struct limit_verdict {
    bool allowed = true;
    std::uint64_t remaining = 0;              // requests left now
    std::chrono::milliseconds reset{};        // until the count is back to full (or one more passes)
    std::chrono::milliseconds retry_after{};  // when refused: until a request would pass
};

// A rate-limit algorithm: a pure decision over a cell with the time given, and the same
// decision as a Lua fragment for Redis. Deciding and charging are two steps so that several
// rules can be decided together and charged only when all of them allow the request; an
// algorithm whose decide() already counted (charges_refused) has nothing left to charge.
class limit_algorithm {
public:
    virtual ~limit_algorithm() = default;

    // The config name, also the algorithm's key in the Lua driver's table.
    virtual std::string_view name() const = 0;

    // What this request gets, at `now_us` (microseconds since the Unix epoch on the store's
    // clock: Redis's for the Redis store, so that every gateway on it decides alike).
    virtual limit_verdict decide(limit_cell& cell, std::int64_t now_us, const limit_params& params) const = 0;
    // Records an allowed request.
    virtual void charge(limit_cell& cell, std::int64_t now_us, const limit_params& params) const = 0;
    // decide() counts every request, refused or not (a fixed window's INCR).
    virtual bool charges_refused() const = 0;
    // The cell may be dropped from memory after this time (µs).
    virtual std::int64_t expires_at(const limit_cell& cell, const limit_params& params) const = 0;

    // The Redis form, as two pieces of Lua the limit script runs in line (no closures built on
    // every call): with `key`, `now` (µs), `r` (requests), `w` (window ms) and `u` (burst) set,
    // the decision sets `ok` (1 or 0), `left`, `reset` and `retry` (ms) and may leave what the
    // charge needs in `save`; the charge (empty when there is nothing to charge) records an
    // allowed request. Every key written gets a TTL. Numbers written to Redis go through
    // string.format('%.0f'): tostring would cut a µs timestamp to 14 digits.
    virtual std::string_view lua_decide() const = 0;
    virtual std::string_view lua_charge() const = 0;
};

// Every algorithm there is (src/limit/algorithms.cpp).
std::span<const limit_algorithm* const> limit_algorithms();
// The algorithm a config names, or nullptr.
const limit_algorithm* find_limit_algorithm(std::string_view name);

}  // namespace gw
