// Temporary directories, child processes and the files they write, and where the programs under
// test are: what every other part of the harness stands on.
#pragma once

#include "harness/basics.hpp"

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace it {

// A fresh directory per test; removed afterwards unless the test failed or GATEWAYD_IT_KEEP is set.
class temp_dir {
public:
    temp_dir();
    ~temp_dir();
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    const fs::path& path() const { return path_; }
    fs::path file(std::string_view name) const { return path_ / name; }

private:
    fs::path path_;
};

// Polls `done` every `step` until it holds or `timeout` passes; returns its last value.
bool wait_until(const std::function<bool()>& done, millis timeout, millis step = 10ms);

// How a process ended: exit code, or 128 + signal number when killed by a signal.
struct exit_status {
    bool exited = false;  // false: killed by a signal
    int code = -1;        // exit code, or the signal number when !exited
    int shell_code() const { return exited ? code : 128 + code; }
};

// A child started with posix_spawn, stdout and stderr in files; always stopped and reaped by PID.
class process {
public:
    process(std::vector<std::string> argv, fs::path stdout_path, fs::path stderr_path);
    ~process();
    process(const process&) = delete;
    process& operator=(const process&) = delete;

    pid_t pid() const { return pid_; }
    // Non-blocking: has it exited (it is reaped then)?
    bool exited();
    // Waits up to `timeout` for the exit; nullopt if it still runs.
    std::optional<exit_status> wait_exit(millis timeout);
    // SIGTERM, wait up to `grace`, then SIGKILL; returns how it ended.
    exit_status stop(millis grace = 5s);
    void send_signal(int signal_number) const;
    std::optional<exit_status> status() const { return status_; }

    std::string stdout_text() const;
    std::string stderr_text() const;
    const fs::path& stdout_path() const { return stdout_path_; }
    const fs::path& stderr_path() const { return stderr_path_; }

private:
    pid_t pid_ = -1;
    std::optional<exit_status> status_;
    fs::path stdout_path_;
    fs::path stderr_path_;
};

// Runs a program to completion (bounded by `timeout`, killed past it).
struct run_result {
    exit_status status;
    std::string out;
    std::string err;
};
run_result run_to_exit(const temp_dir& dir, std::vector<std::string> argv, millis timeout = 10s);

// /proc/PID/status field in KiB (VmHWM, VmRSS); nullopt if unreadable.
std::optional<std::uint64_t> proc_status_kib(pid_t pid, std::string_view field);

std::string read_file(const fs::path& path);
void write_file(const fs::path& path, std::string_view text);
std::size_t count_lines_containing(const fs::path& path, std::string_view needle);
std::vector<std::string> lines_containing(const fs::path& path, std::string_view needle);

// Full path of a program found in PATH; empty when there is none.
std::string find_in_path(std::string_view program);

std::string gatewayd_bin();
std::string mock_backend_bin();

}  // namespace it
