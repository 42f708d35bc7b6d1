#include "gatewayd/limit/redis_limit_store.hpp"

#include "gatewayd/limit/limit_script.hpp"
#include "gatewayd/redis/key_slot.hpp"

#include <algorithm>
#include <vector>

namespace gw {

// The checks of one request that live in one hash slot, and their script run.
struct redis_limit_store::slot_group {
    std::uint16_t slot = 0;
    boost::container::small_vector<std::size_t, 4> members;  // indices into the request's checks
    boost::container::small_vector<std::string_view, 4> keys;
    std::array<char, 24> now_text{};
    limit_args args;
    limit_verdicts verdicts;
};

namespace {

using steady_clock = std::chrono::steady_clock;

// Groups `chosen` checks by slot, in the order slots first appear. The groups are not moved
// afterwards: their args point into their own now_text.
void group_by_slot(std::span<const limit_check> checks, const std::vector<std::size_t>& chosen,
                   std::vector<redis_limit_store::slot_group>& groups) {
    groups.clear();
    groups.reserve(chosen.size());
    for (const std::size_t i : chosen) {
        const std::uint16_t slot = key_slot(checks[i].key);
        auto group = std::find_if(groups.begin(), groups.end(), [&](const auto& g) { return g.slot == slot; });
        if (group == groups.end()) {
            group = groups.emplace(groups.end());
            group->slot = slot;
        }
        group->members.push_back(i);
        group->keys.push_back(checks[i].key);
    }
}

}  // namespace

redis_limit_store::redis_limit_store(boost::asio::io_context& io, const redis_config& settings)
    : script_(limit_script()), redis_(make_redis_deployment(io, settings)) {
    redis_->preload(script_);
    redis_->start();
}

net::awaitable<bool> redis_limit_store::decide(std::span<const limit_check> checks, duration timeout,
                                               limit_verdicts& out) {
    out.clear();
    if (checks.empty()) co_return true;
    const auto deadline = steady_clock::now() + timeout;
    if (!co_await redis_->ready_soon(deadline)) co_return false;
    std::uint16_t slot = 0;
    if (redis_->sharded()) {
        slot = key_slot(checks.front().key);
        for (const auto& check : checks.subspan(1)) {
            if (key_slot(check.key) != slot) co_return co_await decide_across_slots(checks, deadline, out);
        }
    }
    // One slot (or no cluster): one run decides and charges, as in memory.
    boost::container::small_vector<std::string_view, 4> keys;
    for (const auto& check : checks) keys.push_back(check.key);
    // Lives in this frame: another request may run while this one waits for Redis.
    std::array<char, 24> now_text;
    limit_args args;
    limit_script_args(checks, redis_->now_us(slot), now_text, args);
    script_call call{&script_, slot, keys, args, std::nullopt};
    const std::span<script_call> calls(&call, 1);
    co_await redis_->eval(calls, deadline);
    co_return call.reply && decode_limit_reply(*call.reply, checks.size(), out);
}

net::awaitable<bool> redis_limit_store::decide_across_slots(std::span<const limit_check> checks,
                                                            steady_clock::time_point deadline, limit_verdicts& out) {
    out.assign(checks.size(), limit_verdict{});
    std::vector<slot_group> groups;
    std::vector<std::size_t> chosen(checks.size());
    for (std::size_t i = 0; i < checks.size(); ++i) chosen[i] = i;
    group_by_slot(checks, chosen, groups);
    if (!co_await run_groups(limit_step::decide_only, checks, groups, deadline, out)) co_return false;
    if (!passes(checks, out)) co_return true;

    // The request passes: charge what allowed it and charges apart from deciding.
    chosen.clear();
    for (std::size_t i = 0; i < checks.size(); ++i) {
        if (out[i].allowed && !checks[i].rule->algorithm->charges_refused()) chosen.push_back(i);
    }
    if (chosen.empty()) co_return true;
    group_by_slot(checks, chosen, groups);
    co_return co_await run_groups(limit_step::decide_and_charge, checks, groups, deadline, out);
}

// Runs `step` over each group's checks, all groups at once; their verdicts into `out`.
net::awaitable<bool> redis_limit_store::run_groups(limit_step step, std::span<const limit_check> checks,
                                                   std::vector<slot_group>& groups, steady_clock::time_point deadline,
                                                   limit_verdicts& out) {
    std::vector<script_call> calls;
    calls.reserve(groups.size());
    for (auto& group : groups) {
        limit_script_head(redis_->now_us(group.slot), step, group.now_text, group.args);
        for (const std::size_t i : group.members) append_check_args(checks[i], group.args);
        calls.push_back({&script_, group.slot, group.keys, group.args, std::nullopt});
    }
    co_await redis_->eval(calls, deadline);
    for (std::size_t g = 0; g < groups.size(); ++g) {
        auto& group = groups[g];
        if (!calls[g].reply || !decode_limit_reply(*calls[g].reply, group.members.size(), group.verdicts)) {
            co_return false;
        }
        for (std::size_t j = 0; j < group.members.size(); ++j) out[group.members[j]] = group.verdicts[j];
    }
    co_return true;
}

}  // namespace gw
