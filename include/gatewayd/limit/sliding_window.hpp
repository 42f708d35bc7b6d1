#pragma once

#include "gatewayd/limit/limit_algorithm.hpp"

namespace gw {

// Windows aligned to multiples of `window` since the Unix epoch; a request is admitted while
// previous × (1 − elapsed / window) + current, plus itself, stays within `requests`. A refused
// request is not counted. Smoother than a fixed window at its edge, at the price of trusting
// the previous window's requests to have been spread evenly. Cell: current window's index, its
// count, the previous window's count. Computed in ms and in doubles, as the Lua form does, so
// both stores decide alike to the last bit.
class sliding_window final : public limit_algorithm {
public:
    std::string_view name() const override { return "sliding_window"; }
    limit_verdict decide(limit_cell& cell, std::int64_t now_us, const limit_params& params) const override;
    void charge(limit_cell& cell, std::int64_t now_us, const limit_params& params) const override;
    bool charges_refused() const override { return false; }
    std::int64_t expires_at(const limit_cell& cell, const limit_params& params) const override;
    std::string_view lua_decide() const override;
    std::string_view lua_charge() const override;
};

}  // namespace gw
