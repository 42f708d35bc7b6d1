#pragma once

#include "gatewayd/limit/limit_algorithm.hpp"

namespace gw {

// The generic cell rate algorithm: one value per key, the theoretical arrival time (TAT). A
// request is admitted while the TAT is at most (burst − 1) emission intervals ahead of now,
// one interval being window / requests; an admitted request moves the TAT one interval on, a
// refused one changes nothing. So at most `burst` requests at once (0: `requests`), then one
// every interval, with an exact Retry-After and Remaining. Integer µs in both stores.
class gcra final : public limit_algorithm {
public:
    std::string_view name() const override { return "gcra"; }
    limit_verdict decide(limit_cell& cell, std::int64_t now_us, const limit_params& params) const override;
    void charge(limit_cell& cell, std::int64_t now_us, const limit_params& params) const override;
    bool charges_refused() const override { return false; }
    std::int64_t expires_at(const limit_cell& cell, const limit_params& params) const override;
    std::string_view lua_decide() const override;
    std::string_view lua_charge() const override;
};

}  // namespace gw
