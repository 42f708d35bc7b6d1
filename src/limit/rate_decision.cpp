#include "gatewayd/limit/rate_decision.hpp"

#include <algorithm>

namespace gw {

namespace {

std::uint64_t whole_seconds_up(std::chrono::milliseconds value) {
    const auto ms = std::max<std::int64_t>(value.count(), 0);
    return static_cast<std::uint64_t>((ms + 999) / 1000);
}

}  // namespace

rate_decision to_rate_decision(const limit_verdict& verdict, const limit_params& params) {
    rate_decision decision;
    decision.allowed = verdict.allowed;
    decision.limit = params.requests;
    decision.remaining = std::min(verdict.remaining, params.requests);
    const std::uint64_t window_seconds = std::max<std::uint64_t>(whole_seconds_up(params.window), 1);
    decision.reset_seconds = std::clamp<std::uint64_t>(whole_seconds_up(verdict.reset), 1, window_seconds);
    // The real wait: a sliding window may need up to two windows, and a client that honours a
    // shorter Retry-After is only refused again.
    decision.retry_after = verdict.allowed
                               ? decision.reset_seconds
                               : std::clamp<std::uint64_t>(whole_seconds_up(verdict.retry_after), 1, 2 * window_seconds);
    return decision;
}

std::optional<rate_decision> headline_decision(std::span<const limit_check> checks,
                                               std::span<const limit_verdict> verdicts) {
    std::optional<rate_decision> headline;
    std::optional<rate_decision> longest_refusal;
    for (std::size_t i = 0; i < checks.size() && i < verdicts.size(); ++i) {
        const limit_rule& rule = *checks[i].rule;
        if (rule.shadow) continue;
        rate_decision decision = to_rate_decision(verdicts[i], rule.params);
        decision.rule = rule.name;
        if (!headline || decision.remaining < headline->remaining) headline = decision;
        if (!decision.allowed && (!longest_refusal || decision.retry_after > longest_refusal->retry_after)) {
            longest_refusal = decision;
        }
    }
    if (headline && longest_refusal) {
        headline->allowed = false;
        headline->retry_after = longest_refusal->retry_after;
        headline->refused_by = longest_refusal->rule;
    }
    return headline;
}

}  // namespace gw
