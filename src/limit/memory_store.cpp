#include "gatewayd/limit/memory_store.hpp"

#include <spdlog/spdlog.h>

namespace gw {

memory_store::entry& memory_store::entry_for(const limit_check& check) {
    entry& found = cells_[check.key];
    const limit_algorithm* algorithm = check.rule->algorithm;
    if (found.cell.owner != algorithm) found = entry{limit_cell{algorithm, {}}, 0};
    return found;
}

void memory_store::check(std::span<const limit_check> checks, std::int64_t now_us, limit_verdicts& out) {
    // Room is made before the lookups, so that no cell of this request is dropped under it.
    if (cells_.size() + checks.size() > max_keys_) {
        std::erase_if(cells_, [&](const auto& item) { return item.second.expires_us <= now_us; });
        if (cells_.size() + checks.size() > max_keys_) {
            spdlog::warn("rate limiter: more than {} keys in memory; in-process limits restart", max_keys_);
            cells_.clear();
        }
    }
    // References into an unordered_map stay valid while it grows.
    boost::container::small_vector<entry*, 2> entries;
    for (const auto& check : checks) entries.push_back(&entry_for(check));
    decide_all(checks, now_us, [&](std::size_t i) -> limit_cell& { return entries[i]->cell; }, out);
    for (std::size_t i = 0; i < checks.size(); ++i) {
        const limit_rule& rule = *checks[i].rule;
        entries[i]->expires_us = rule.algorithm->expires_at(entries[i]->cell, rule.params);
    }
}

}  // namespace gw
