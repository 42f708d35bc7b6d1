#pragma once

#include "gatewayd/limit/limit_algorithm.hpp"

namespace gw {

// A window that starts with a key's first request and lasts `window`; request number
// `requests + 1` inside it is the first refused. Every request is counted, refused or not, as
// Redis's INCR does. Cell: count, window end (ms).
class fixed_window final : public limit_algorithm {
public:
    std::string_view name() const override { return "fixed_window"; }
    limit_verdict decide(limit_cell& cell, std::int64_t now_us, const limit_params& params) const override;
    void charge(limit_cell&, std::int64_t, const limit_params&) const override {}
    bool charges_refused() const override { return true; }
    std::int64_t expires_at(const limit_cell& cell, const limit_params& params) const override;
    std::string_view lua_decide() const override;
    std::string_view lua_charge() const override { return {}; }
};

}  // namespace gw
