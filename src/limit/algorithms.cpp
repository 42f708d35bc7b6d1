#include "gatewayd/limit/fixed_window.hpp"
#include "gatewayd/limit/gcra.hpp"
#include "gatewayd/limit/sliding_window.hpp"

#include <array>

namespace gw {

namespace {

const fixed_window fixed_window_algorithm;
const sliding_window sliding_window_algorithm;
const gcra gcra_algorithm;

// One line per algorithm: its config name is its name().
constexpr std::array<const limit_algorithm*, 3> all{&fixed_window_algorithm, &sliding_window_algorithm,
                                                    &gcra_algorithm};

}  // namespace

std::span<const limit_algorithm* const> limit_algorithms() { return all; }

const limit_algorithm* find_limit_algorithm(std::string_view name) {
    for (const limit_algorithm* algorithm : all) {
        if (algorithm->name() == name) return algorithm;
    }
    return nullptr;
}

}  // namespace gw
