#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace gw {

// One row of GET /backends.
struct backend_report {
    std::string url;
    bool healthy = true;
    std::string_view circuit = "closed";
    std::uint64_t requests = 0;
    std::uint64_t failures = 0;
    std::vector<std::string> routes;  // routes using it; "default" for the top-level pool
};

// Adds one event loop's rows to `total`: rows of one URL are one row whose requests and failures
// are the sums (health, circuit and routes are the process's, the same from every loop).
void merge_backend_reports(std::vector<backend_report>& total, const std::vector<backend_report>& loop);

// [{"url":"http://127.0.0.1:8081","healthy":true,"circuit":"closed","requests":12,"failures":0,
//   "routes":["default"]}]
std::string backends_json(const std::vector<backend_report>& rows);

}  // namespace gw
