#include "harness/files_and_processes.hpp"

#include "harness/internal.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <thread>

extern char** environ;

namespace it {

using internal::fail_errno;
using internal::next_file_number;

namespace {

exit_status decode(int raw) {
    if (WIFEXITED(raw)) return {true, WEXITSTATUS(raw)};
    if (WIFSIGNALED(raw)) return {false, WTERMSIG(raw)};
    return {};
}

}  // namespace

temp_dir::temp_dir() {
    auto pattern = (fs::temp_directory_path() / "gatewayd-it-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) fail_errno("mkdtemp");
    path_ = pattern;
}

temp_dir::~temp_dir() {
    const bool keep = std::getenv("GATEWAYD_IT_KEEP") != nullptr || ::testing::Test::HasFailure();
    if (keep) {
        std::fprintf(stderr, "[harness] files of this test kept in %s\n", path_.c_str());
        return;
    }
    std::error_code ignored;
    fs::remove_all(path_, ignored);
}

bool wait_until(const std::function<bool()>& done, millis timeout, millis step) {
    const auto deadline = steady::now() + timeout;
    for (;;) {
        if (done()) return true;
        if (steady::now() >= deadline) return done();
        std::this_thread::sleep_for(step);
    }
}

process::process(std::vector<std::string> argv, fs::path stdout_path, fs::path stderr_path)
    : stdout_path_(std::move(stdout_path)), stderr_path_(std::move(stderr_path)) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, stdout_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, 2, stderr_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    // The child starts with default signal dispositions and an empty mask.
    posix_spawnattr_t attributes;
    posix_spawnattr_init(&attributes);
    sigset_t defaults;
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGPIPE);
    sigaddset(&defaults, SIGTERM);
    sigaddset(&defaults, SIGINT);
    sigaddset(&defaults, SIGHUP);
    posix_spawnattr_setsigdefault(&attributes, &defaults);
    sigset_t empty;
    sigemptyset(&empty);
    posix_spawnattr_setsigmask(&attributes, &empty);
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

    std::vector<char*> raw;
    for (auto& arg : argv) raw.push_back(arg.data());
    raw.push_back(nullptr);
    const int rc = ::posix_spawn(&pid_, raw[0], &actions, &attributes, raw.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    if (rc != 0) {
        pid_ = -1;
        throw std::runtime_error("posix_spawn " + argv[0] + ": " + std::strerror(rc));
    }
}

process::~process() {
    if (pid_ > 0 && !status_) stop();
}

bool process::exited() {
    if (status_) return true;
    int raw = 0;
    const pid_t r = ::waitpid(pid_, &raw, WNOHANG);
    if (r == pid_) {
        status_ = decode(raw);
        return true;
    }
    return false;
}

std::optional<exit_status> process::wait_exit(millis timeout) {
    wait_until([this] { return exited(); }, timeout, 5ms);
    return status_;
}

exit_status process::stop(millis grace) {
    if (status_) return *status_;
    ::kill(pid_, SIGTERM);
    if (auto status = wait_exit(grace)) return *status;
    std::fprintf(stderr, "[harness] pid %d ignored SIGTERM for %lld ms, sending SIGKILL\n",
                 static_cast<int>(pid_), static_cast<long long>(grace.count()));
    ::kill(pid_, SIGKILL);
    int raw = 0;
    if (::waitpid(pid_, &raw, 0) == pid_) status_ = decode(raw);
    else status_ = exit_status{false, SIGKILL};
    return *status_;
}

void process::send_signal(int signal_number) const {
    if (!status_) ::kill(pid_, signal_number);
}

std::string process::stdout_text() const { return read_file(stdout_path_); }
std::string process::stderr_text() const { return read_file(stderr_path_); }

run_result run_to_exit(const temp_dir& dir, std::vector<std::string> argv, millis timeout) {
    const int n = next_file_number();
    auto out_path = dir.file("run-" + std::to_string(n) + ".out");
    auto err_path = dir.file("run-" + std::to_string(n) + ".err");
    process child(std::move(argv), out_path, err_path);
    auto status = child.wait_exit(timeout);
    if (!status) {
        child.stop(1s);
        throw std::runtime_error("process did not exit within " + std::to_string(timeout.count()) +
                                 " ms; stderr: " + child.stderr_text());
    }
    return {*status, child.stdout_text(), child.stderr_text()};
}

std::optional<std::uint64_t> proc_status_kib(pid_t pid, std::string_view field) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    const std::string prefix = std::string(field) + ":";
    for (int i = 0; i < 200 && std::getline(in, line); ++i) {
        if (!line.starts_with(prefix)) continue;
        std::istringstream fields(line.substr(prefix.size()));
        std::uint64_t value = 0;
        if (fields >> value) return value;
    }
    return std::nullopt;
}

std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

void write_file(const fs::path& path, std::string_view text) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    if (!out) throw std::runtime_error("cannot write " + path.string());
}

std::vector<std::string> lines_containing(const fs::path& path, std::string_view needle) {
    std::ifstream in(path, std::ios::binary);
    std::vector<std::string> found;
    std::string line;
    while (std::getline(in, line)) {
        if (line.find(needle) != std::string::npos) found.push_back(line);
    }
    return found;
}

std::size_t count_lines_containing(const fs::path& path, std::string_view needle) {
    return lines_containing(path, needle).size();
}

std::string find_in_path(std::string_view program) {
    const char* path = std::getenv("PATH");
    std::string_view rest = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
    for (;;) {
        const auto colon = rest.find(':');
        const auto dir = rest.substr(0, colon);
        if (!dir.empty()) {
            const fs::path candidate = fs::path(std::string(dir)) / std::string(program);
            if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
        }
        if (colon == std::string_view::npos) return {};
        rest.remove_prefix(colon + 1);
    }
}

std::string gatewayd_bin() { return GATEWAYD_BIN; }
std::string mock_backend_bin() { return MOCK_BACKEND_BIN; }

}  // namespace it
