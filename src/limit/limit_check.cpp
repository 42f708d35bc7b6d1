#include "gatewayd/limit/limit_check.hpp"

namespace gw {

bool passes(std::span<const limit_check> checks, std::span<const limit_verdict> verdicts) {
    for (std::size_t i = 0; i < checks.size(); ++i) {
        if (!verdicts[i].allowed && !checks[i].rule->shadow) return false;
    }
    return true;
}

}  // namespace gw
