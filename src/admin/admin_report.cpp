#include "gatewayd/admin/admin_report.hpp"

#include "gatewayd/log/log_escape.hpp"

#include <algorithm>

namespace gw {

void merge_backend_reports(std::vector<backend_report>& total, const std::vector<backend_report>& loop) {
    for (const auto& row : loop) {
        auto same = std::find_if(total.begin(), total.end(), [&](const auto& have) { return have.url == row.url; });
        if (same == total.end()) {
            total.push_back(row);
            continue;
        }
        same->requests += row.requests;
        same->failures += row.failures;
    }
}

std::string backends_json(const std::vector<backend_report>& rows) {
    std::string out = "[";
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const auto& row = rows[i];
        if (i > 0) out += ',';
        out += R"({"url":")" + json_escape(row.url) + R"(","healthy":)" + (row.healthy ? "true" : "false");
        out += R"(,"circuit":")" + std::string(row.circuit) + R"(","requests":)" + std::to_string(row.requests);
        out += R"(,"failures":)" + std::to_string(row.failures) + R"(,"routes":[)";
        for (std::size_t r = 0; r < row.routes.size(); ++r) {
            if (r > 0) out += ',';
            out += '"' + json_escape(row.routes[r]) + '"';
        }
        out += "]}";
    }
    out += "]";
    return out;
}

}  // namespace gw
