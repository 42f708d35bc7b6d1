#pragma once

#include "gatewayd/limit/limit_check.hpp"

#include <cstdint>
#include <span>
#include <string>
#include <unordered_map>

namespace gw {

// The limits kept in process memory: the `memory` store, and the fallback while Redis cannot
// answer. Bounded: past `max_keys` cells, expired ones go first, then (a flood of distinct
// keys) all of them.
class memory_store {
public:
    explicit memory_store(std::size_t max_keys) : max_keys_(max_keys) {}

    // The verdicts go into `out`, one per check.
    void check(std::span<const limit_check> checks, std::int64_t now_us, limit_verdicts& out);

    std::size_t size() const { return cells_.size(); }

private:
    struct entry {
        limit_cell cell;
        std::int64_t expires_us = 0;
    };
    entry& entry_for(const limit_check& check);

    std::size_t max_keys_;
    std::unordered_map<std::string, entry> cells_;
};

}  // namespace gw
