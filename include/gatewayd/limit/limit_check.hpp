#pragma once

#include "gatewayd/limit/limit_rule.hpp"

#include <boost/container/small_vector.hpp>

#include <span>
#include <string>
#include <string_view>

namespace gw {

// One rule applied to one request: the rule, and the key the request counts under.
struct limit_check {
    const limit_rule* rule = nullptr;
    std::string key;
};

// A request is checked against a rule or two: kept inline, without a heap allocation.
using limit_checks = boost::container::small_vector<limit_check, 2>;
using limit_verdicts = boost::container::small_vector<limit_verdict, 2>;

// The request passes when every check that is not in shadow mode allows it.
bool passes(std::span<const limit_check> checks, std::span<const limit_verdict> verdicts);

// Decides every check of one request in one step, the way both stores do: each check decides;
// when the request passes, the checks that allowed it are charged (a check that refused, and
// every check of a refused request, is not; an algorithm that counts refusals has counted
// already). `cell_of(i)` is check i's cell; the verdicts go into `verdicts`.
template <class CellOf>
void decide_all(std::span<const limit_check> checks, std::int64_t now_us, CellOf&& cell_of, limit_verdicts& verdicts) {
    verdicts.clear();
    for (std::size_t i = 0; i < checks.size(); ++i) {
        const limit_rule& rule = *checks[i].rule;
        verdicts.push_back(rule.algorithm->decide(cell_of(i), now_us, rule.params));
    }
    if (!passes(checks, verdicts)) return;
    for (std::size_t i = 0; i < checks.size(); ++i) {
        const limit_rule& rule = *checks[i].rule;
        if (verdicts[i].allowed) rule.algorithm->charge(cell_of(i), now_us, rule.params);
    }
}

}  // namespace gw
