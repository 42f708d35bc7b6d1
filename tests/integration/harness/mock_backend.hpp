// gatewayd-mock-backend, the well-behaved backend: started as a process, its request log and
// its /headers answer read back.
#pragma once

#include "harness/basics.hpp"
#include "harness/files_and_processes.hpp"

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace it {

// gatewayd-mock-backend on a kernel-chosen port (or a given one); stdout logged to a file.
class mock_backend {
public:
    mock_backend(const temp_dir& dir, std::vector<std::string> args = {}, std::uint16_t port = 0);
    std::uint16_t port() const { return port_; }
    std::string url() const;
    pid_t pid() const { return process_->pid(); }
    exit_status stop() { return process_->stop(); }
    // Request lines (stdout "request port=... target=T") whose target starts with `target_prefix`.
    std::vector<std::string> requests(std::string_view target_prefix = "/") const;
    std::size_t request_count(std::string_view target_prefix = "/") const;
    // Distinct conn=C numbers over the request lines whose target starts with `target_prefix`.
    std::set<std::string> connection_ids(std::string_view target_prefix = "/") const;
    const fs::path& log_path() const { return process_->stdout_path(); }

private:
    std::unique_ptr<process> process_;
    std::uint16_t port_ = 0;
};

// Header lines of the mock's /headers answer, names lower-cased; repeated names keep all values.
std::multimap<std::string, std::string> parse_header_lines(std::string_view body);

}  // namespace it
