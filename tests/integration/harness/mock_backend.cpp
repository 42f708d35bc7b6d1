#include "harness/mock_backend.hpp"

#include "harness/internal.hpp"

#include <regex>
#include <stdexcept>

namespace it {

using internal::next_file_number;
using internal::to_lower;
using internal::trim;

mock_backend::mock_backend(const temp_dir& dir, std::vector<std::string> args, std::uint16_t port) {
    const int n = next_file_number();
    std::vector<std::string> argv{mock_backend_bin(), "--port", std::to_string(port)};
    argv.insert(argv.end(), args.begin(), args.end());
    process_ = std::make_unique<process>(std::move(argv), dir.file("mock-" + std::to_string(n) + ".out"),
                                         dir.file("mock-" + std::to_string(n) + ".err"));
    static const std::regex listening_re(R"(listening on 127\.0\.0\.1:(\d+))");
    std::smatch match;
    std::string out;
    const bool up = wait_until(
        [&] {
            out = process_->stdout_text();
            return std::regex_search(out, match, listening_re) || process_->exited();
        },
        5s);
    if (!up || !std::regex_search(out, match, listening_re)) {
        throw std::runtime_error("mock backend did not start; stderr: " + process_->stderr_text());
    }
    port_ = static_cast<std::uint16_t>(std::stoi(match[1]));
}

std::string mock_backend::url() const { return "http://127.0.0.1:" + std::to_string(port_); }

std::vector<std::string> mock_backend::requests(std::string_view target_prefix) const {
    std::vector<std::string> out;
    for (auto& line : lines_containing(process_->stdout_path(), "request port=")) {
        if (line.find(" target=" + std::string(target_prefix)) != std::string::npos) out.push_back(line);
    }
    return out;
}

std::size_t mock_backend::request_count(std::string_view target_prefix) const {
    return requests(target_prefix).size();
}

std::set<std::string> mock_backend::connection_ids(std::string_view target_prefix) const {
    static const std::regex conn_re(R"( conn=(\d+) )");
    std::set<std::string> ids;
    for (const auto& line : requests(target_prefix)) {
        std::smatch match;
        if (std::regex_search(line, match, conn_re)) ids.insert(match[1]);
    }
    return ids;
}

std::multimap<std::string, std::string> parse_header_lines(std::string_view body) {
    std::multimap<std::string, std::string> out;
    std::size_t start = 0;
    while (start < body.size()) {
        auto end = body.find('\n', start);
        if (end == std::string_view::npos) end = body.size();
        const auto line = body.substr(start, end - start);
        const auto colon = line.find(':');
        if (colon != std::string_view::npos) {
            out.emplace(to_lower(line.substr(0, colon)), trim(line.substr(colon + 1)));
        }
        start = end + 1;
    }
    return out;
}

}  // namespace it
