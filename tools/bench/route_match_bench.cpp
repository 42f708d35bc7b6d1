// Cost of route matching per request: a report, not a test. Builds tables of 1 and 1,000
// routes and times `route_table::match` over a fixed request mix, best of several runs.
#include "gatewayd/chain/route_table.hpp"

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

namespace {

gw::route_config make_route(const std::string& name, const std::string& prefix) {
    gw::route_config route;
    route.name = name;
    route.path_prefix = prefix;
    return route;
}

// Nanoseconds per match over `targets`, best of `runs` runs of `rounds` passes.
double time_matches(const gw::route_table& table, const std::vector<std::string>& targets, int rounds, int runs) {
    double best = 1e30;
    std::size_t sink = 0;
    for (int run = 0; run < runs; ++run) {
        const auto start = std::chrono::steady_clock::now();
        for (int round = 0; round < rounds; ++round) {
            for (const auto& target : targets) {
                const auto found = table.match(target, "api.example.com", "GET");
                sink += found ? *found : 7;
            }
        }
        const auto elapsed = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start);
        best = std::min(best, elapsed.count() / (static_cast<double>(rounds) * static_cast<double>(targets.size())));
    }
    if (sink == 42) std::puts("");  // keeps the loop from being optimised away
    return best;
}

}  // namespace

int main() {
    const std::vector<std::string> targets = {"/svc7/items/42?x=1", "/svc500/a", "/svc999", "/static/app.js",
                                              "/svc13/deep/path/here", "/"};
    constexpr int rounds = 20000;
    constexpr int runs = 5;

    std::vector<gw::route_config> one{make_route("svc7", "/svc7")};
    std::vector<gw::route_config> thousand;
    for (int i = 0; i < 1000; ++i) thousand.push_back(make_route("svc" + std::to_string(i), "/svc" + std::to_string(i)));
    // The worst case for the index: 1,000 routes under one first segment.
    std::vector<gw::route_config> same_segment;
    for (int i = 0; i < 1000; ++i) same_segment.push_back(make_route("r" + std::to_string(i), "/api/v" + std::to_string(i)));
    const std::vector<std::string> same_segment_targets = {"/api/v999/x", "/api/v0", "/api/none"};

    std::printf("route matching, ns per request (best of %d runs x %d passes)\n", runs, rounds);
    std::printf("  %-40s %8.1f\n", "no routes", time_matches(gw::route_table(std::vector<gw::route_config>{}), targets, rounds, runs));
    std::printf("  %-40s %8.1f\n", "1 route", time_matches(gw::route_table(one), targets, rounds, runs));
    std::printf("  %-40s %8.1f\n", "1,000 routes, distinct first segments", time_matches(gw::route_table(thousand), targets, rounds, runs));
    std::printf("  %-40s %8.1f\n", "1,000 routes under /api (worst case)",
                time_matches(gw::route_table(same_segment), same_segment_targets, rounds / 10, runs));
    return 0;
}
