// How closely each rate-limit algorithm holds its limit: a report, not a test. Simulated
// traffic (virtual time, the algorithms' pure decisions as both stores make them) through one
// rule of 100 requests per 10 s; for every algorithm and trace, the most requests admitted in
// any window of 10 s (trailing: any start; aligned: windows starting at multiples of 10 s since
// the epoch), against the bound the algorithm states. Exit status 1 when a bound is broken.
//   gatewayd-limit-accuracy [--seed N]
#include "gatewayd/limit/fixed_window.hpp"
#include "gatewayd/limit/gcra.hpp"
#include "gatewayd/limit/memory_store.hpp"
#include "gatewayd/limit/sliding_window.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;

constexpr std::int64_t second = 1'000'000;                       // µs
constexpr std::int64_t window = 10 * second;
constexpr std::uint64_t requests = 100;
constexpr std::int64_t start = 1'733'000'000LL * second + 3 * second;  // 3 s into an aligned window
constexpr std::int64_t span = 600 * second;                     // ten minutes of traffic

struct trace {
    std::string name;
    std::vector<std::int64_t> times;  // µs after `start`, ascending
};

std::vector<std::int64_t> poisson(std::mt19937_64& random, double per_second, std::int64_t from, std::int64_t to) {
    std::exponential_distribution<double> gap(per_second / static_cast<double>(second));
    std::vector<std::int64_t> times;
    for (double t = static_cast<double>(from) + gap(random); t < static_cast<double>(to); t += gap(random)) {
        times.push_back(static_cast<std::int64_t>(t));
    }
    return times;
}

std::vector<trace> traces(std::uint64_t seed) {
    std::mt19937_64 random(seed);
    const double rate = static_cast<double>(requests) / 10.0;  // the limit, per second
    std::vector<trace> out;
    out.push_back({"poisson at 1x the limit", poisson(random, rate, 0, span)});
    out.push_back({"poisson at 3x the limit", poisson(random, 3 * rate, 0, span)});
    // 2 s at 10x the limit, then 8 s quiet, over and over.
    trace on_off{"on/off bursts (2 s at 10x, 8 s off)", {}};
    for (std::int64_t cycle = 0; cycle < span; cycle += window) {
        const auto burst = poisson(random, 10 * rate, cycle, cycle + 2 * second);
        on_off.times.insert(on_off.times.end(), burst.begin(), burst.end());
    }
    out.push_back(on_off);
    // Everything at once on both sides of an aligned window edge (and of a client's own
    // window edge for the fixed window, whose window starts with the first request at 0).
    trace edge{"burst at the window edge", {}};
    for (std::int64_t cycle = 0; cycle + 2 * window < span; cycle += 3 * window) {
        const std::int64_t aligned_edge = cycle + 7 * second;  // start is 3 s into an aligned window
        for (std::uint64_t i = 0; i < 2 * requests; ++i) {
            edge.times.push_back(aligned_edge - 200'000 + static_cast<std::int64_t>(i) * 2'000);
        }
        const std::int64_t own_edge = cycle + window;
        for (std::uint64_t i = 0; i < 2 * requests; ++i) {
            edge.times.push_back(own_edge - 200'000 + static_cast<std::int64_t>(i) * 2'000);
        }
    }
    std::sort(edge.times.begin(), edge.times.end());
    out.push_back(edge);
    return out;
}

struct result {
    std::size_t offered = 0;
    std::size_t admitted = 0;
    std::size_t max_trailing = 0;
    std::size_t max_aligned = 0;
};

result run(const gw::limit_rule& rule, const trace& t) {
    gw::memory_store store(16);
    const std::vector<gw::limit_check> checks{{&rule, "client"}};
    std::vector<std::int64_t> admitted;
    gw::limit_verdicts verdicts;
    for (const auto offset : t.times) {
        store.check(checks, start + offset, verdicts);
        if (verdicts.front().allowed) admitted.push_back(start + offset);
    }
    result r{t.times.size(), admitted.size(), 0, 0};
    for (std::size_t i = 0, j = 0; i < admitted.size(); ++i) {
        while (j < admitted.size() && admitted[j] < admitted[i] + window) ++j;
        r.max_trailing = std::max(r.max_trailing, j - i);
    }
    for (std::size_t i = 0; i < admitted.size();) {
        const std::int64_t aligned = admitted[i] / window;
        std::size_t j = i;
        while (j < admitted.size() && admitted[j] / window == aligned) ++j;
        r.max_aligned = std::max(r.max_aligned, j - i);
        i = j;
    }
    return r;
}

}  // namespace

int main(int argc, char** argv) {
    std::uint64_t seed = 1;
    for (int i = 1; i + 1 < argc; ++i) {
        if (std::strcmp(argv[i], "--seed") == 0) seed = std::stoull(argv[i + 1]);
    }
    const gw::fixed_window fixed;
    const gw::sliding_window sliding;
    const gw::gcra gcra;
    struct candidate {
        gw::limit_rule rule;
        std::size_t trailing_bound;  // what the algorithm promises for any 10 s
        std::size_t aligned_bound;
        const char* promise;
    };
    const std::vector<candidate> candidates{
        {gw::make_limit_rule("fixed", &fixed, {requests, 10s, 0}, false, ""), 2 * requests, 2 * requests,
         "requests per client window; 2x across its edge"},
        {gw::make_limit_rule("sliding", &sliding, {requests, 10s, 0}, false, ""), 2 * requests, requests,
         "requests per aligned window"},
        {gw::make_limit_rule("gcra", &gcra, {requests, 10s, 0}, false, ""), 2 * requests, 2 * requests,
         "burst + requests in any window"},
        {gw::make_limit_rule("gcra-b10", &gcra, {requests, 10s, 10}, false, ""), requests + 10, requests + 10,
         "burst + requests in any window"},
    };
    bool broken = false;
    std::printf("rule: %llu requests per 10 s; ten minutes of simulated traffic per trace; seed %llu\n\n",
                static_cast<unsigned long long>(requests), static_cast<unsigned long long>(seed));
    std::printf("| trace | algorithm | offered | admitted | most in any 10 s | most in an aligned 10 s | bound (any / aligned) |\n");
    std::printf("|---|---|---|---|---|---|---|\n");
    for (const auto& t : traces(seed)) {
        for (const auto& c : candidates) {
            const result r = run(c.rule, t);
            const bool ok = r.max_trailing <= c.trailing_bound && r.max_aligned <= c.aligned_bound;
            broken = broken || !ok;
            std::printf("| %s | %s | %zu | %zu | %zu | %zu | %zu / %zu%s |\n", t.name.c_str(), c.rule.name.c_str(),
                        r.offered, r.admitted, r.max_trailing, r.max_aligned, c.trailing_bound, c.aligned_bound,
                        ok ? "" : " BROKEN");
        }
    }
    std::printf("\nbounds: fixed_window: %s; sliding_window: %s; gcra: %s (burst 0 = requests)\n",
                candidates[0].promise, candidates[1].promise, candidates[2].promise);
    return broken ? 1 : 0;
}
