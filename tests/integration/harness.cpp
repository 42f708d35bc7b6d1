#include "harness.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>

extern char** environ;

namespace it {

namespace {

[[noreturn]] void fail_errno(std::string_view what) {
    throw std::runtime_error(std::string(what) + ": " + std::strerror(errno));
}

std::string to_lower(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && to_lower(a) == to_lower(b);
}

std::string trim(std::string_view text) {
    auto begin = text.find_first_not_of(" \t\r\n");
    if (begin == std::string_view::npos) return {};
    auto end = text.find_last_not_of(" \t\r\n");
    return std::string(text.substr(begin, end - begin + 1));
}

timeval to_timeval(millis timeout) {
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
    return tv;
}

sockaddr_in loopback(std::uint16_t port) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return address;
}

// A listening loopback socket on a kernel-chosen port.
int listen_loopback(std::uint16_t& port) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) fail_errno("socket");
    auto address = loopback(0);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || ::listen(fd, 64) != 0) {
        ::close(fd);
        fail_errno("bind/listen on 127.0.0.1:0");
    }
    socklen_t length = sizeof address;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
    port = ntohs(address.sin_port);
    return fd;
}

exit_status decode(int raw) {
    if (WIFEXITED(raw)) return {true, WEXITSTATUS(raw)};
    if (WIFSIGNALED(raw)) return {false, WTERMSIG(raw)};
    return {};
}

std::atomic<int> temp_counter{0};

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
    const int n = ++temp_counter;
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


std::uint16_t free_port() {
    std::uint16_t port = 0;
    const int fd = listen_loopback(port);
    ::close(fd);
    return port;
}

bool port_accepts(std::uint16_t port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    auto address = loopback(port);
    const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
    ::close(fd);
    return ok;
}

bool wait_for_port(std::uint16_t port, millis timeout) {
    return wait_until([port] { return port_accepts(port); }, timeout, 10ms);
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

void pattern_checker::feed(std::string_view piece) {
    if (!mismatch_) {
        for (std::size_t i = 0; i < piece.size(); ++i) {
            if (piece[i] != body_pattern[(offset_ + i) % body_pattern.size()]) {
                mismatch_ = offset_ + i;
                break;
            }
        }
    }
    offset_ += piece.size();
}


std::optional<std::string> http_response::header(std::string_view name) const {
    for (const auto& [key, value] : headers) {
        if (iequals(key, name)) return value;
    }
    return std::nullopt;
}

std::size_t http_response::header_count(std::string_view name) const {
    return static_cast<std::size_t>(std::count_if(
        headers.begin(), headers.end(), [&](const auto& field) { return iequals(field.first, name); }));
}

http_connection::http_connection(std::uint16_t port, millis timeout) : timeout_(timeout) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) fail_errno("socket");
    set_timeout(timeout);
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    auto address = loopback(port);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
        const int saved = errno;
        ::close(fd_);
        fd_ = -1;
        errno = saved;
        fail_errno("connect to 127.0.0.1:" + std::to_string(port));
    }
}

http_connection::~http_connection() {
    if (fd_ >= 0) ::close(fd_);
}

void http_connection::set_timeout(millis timeout) {
    timeout_ = timeout;
    auto tv = to_timeval(timeout);
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

void http_connection::send(std::string_view bytes) {
    const auto deadline = steady::now() + timeout_;
    while (!bytes.empty()) {
        const auto n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                if (steady::now() >= deadline) throw std::runtime_error("send timed out");
                continue;
            }
            fail_errno("send");
        }
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
}

std::string build_request(std::string_view method, std::string_view target,
                          const std::vector<std::pair<std::string, std::string>>& headers,
                          std::string_view body, std::string_view version) {
    std::string out;
    out.append(method).append(" ").append(target).append(" ").append(version).append("\r\n");
    const bool has_host = std::any_of(headers.begin(), headers.end(),
                                      [](const auto& field) { return iequals(field.first, "host"); });
    if (!has_host) out.append("Host: 127.0.0.1\r\n");
    for (const auto& [name, value] : headers) out.append(name).append(": ").append(value).append("\r\n");
    const bool framed = std::any_of(headers.begin(), headers.end(), [](const auto& field) {
        return iequals(field.first, "content-length") || iequals(field.first, "transfer-encoding");
    });
    if (!body.empty() && !framed) out.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
    out.append("\r\n").append(body);
    return out;
}

void http_connection::send_request(std::string_view method, std::string_view target,
                                   const std::vector<std::pair<std::string, std::string>>& headers,
                                   std::string_view body) {
    send(build_request(method, target, headers, body));
}

http_response http_connection::request(std::string_view method, std::string_view target,
                                       const std::vector<std::pair<std::string, std::string>>& headers,
                                       std::string_view body) {
    send_request(method, target, headers, body);
    read_options options;
    options.head_request = method == "HEAD";
    return read_response(options);
}

void http_connection::send_pattern_body(std::uint64_t size, bool chunked, std::size_t piece) {
    std::string block;
    block.reserve(piece);
    for (std::size_t i = 0; i < piece; ++i) block.push_back(body_pattern[i % body_pattern.size()]);
    std::uint64_t sent = 0;
    char size_line[32];
    while (sent < size) {
        // piece is a multiple of 16 so every block starts at pattern offset 0.
        const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(piece, size - sent));
        if (chunked) {
            const int length = std::snprintf(size_line, sizeof size_line, "%zx\r\n", n);
            send(std::string_view(size_line, static_cast<std::size_t>(length)));
        }
        send(std::string_view(block.data(), n));
        if (chunked) send("\r\n");
        sent += n;
    }
    if (chunked) send("0\r\n\r\n");
}

bool http_connection::fill() {
    if (buffer_pos_ > 0 && buffer_pos_ == buffer_.size()) {
        buffer_.clear();
        buffer_pos_ = 0;
    } else if (buffer_pos_ > 64 * 1024) {
        buffer_.erase(0, buffer_pos_);
        buffer_pos_ = 0;
    }
    if (steady::now() > deadline_) throw std::runtime_error("response not complete within its total timeout");
    char chunk[64 * 1024];
    for (int attempt = 0; attempt < 100; ++attempt) {
        const auto n = ::recv(fd_, chunk, sizeof chunk, 0);
        if (n > 0) {
            buffer_.append(chunk, static_cast<std::size_t>(n));
            return true;
        }
        if (n == 0) return false;
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            throw std::runtime_error("no data from server within " + std::to_string(timeout_.count()) + " ms");
        }
        if (errno == ECONNRESET) return false;
        fail_errno("recv");
    }
    throw std::runtime_error("recv interrupted too often");
}

std::string http_connection::read_line() {
    for (int rounds = 0; rounds < 10000; ++rounds) {
        const auto end = buffer_.find("\r\n", buffer_pos_);
        if (end != std::string::npos) {
            std::string line = buffer_.substr(buffer_pos_, end - buffer_pos_);
            buffer_pos_ = end + 2;
            return line;
        }
        if (buffer_.size() - buffer_pos_ > 1 * mib) throw std::runtime_error("response line over 1 MiB");
        const bool nothing_yet = buffer_pos_ == buffer_.size();
        if (!fill()) {
            throw std::runtime_error(nothing_yet ? "the server closed the connection without sending (more of) a response"
                                                 : "connection closed in the middle of a response line");
        }
    }
    throw std::runtime_error("response line never ended");
}

void http_connection::deliver(std::string_view piece, http_response& response, const read_options& options) {
    response.body_bytes += piece.size();
    if (options.body_sink) {
        options.body_sink(piece);
        return;
    }
    if (response.body.size() + piece.size() > options.max_stored_body) {
        throw std::runtime_error("response body larger than the stored-body limit; use a body_sink");
    }
    response.body.append(piece);
}

void http_connection::read_exact(std::uint64_t size, http_response& response, const read_options& options) {
    while (size > 0) {
        if (buffer_pos_ == buffer_.size() && !fill()) {
            throw std::runtime_error("connection closed with " + std::to_string(size) + " body bytes missing");
        }
        const auto available = std::min<std::uint64_t>(size, buffer_.size() - buffer_pos_);
        deliver(std::string_view(buffer_).substr(buffer_pos_, available), response, options);
        buffer_pos_ += available;
        size -= available;
    }
}

http_response http_connection::read_response(const read_options& options) {
    deadline_ = steady::now() + options.total_timeout;
    for (int interim = 0; interim < 10; ++interim) {
        http_response response;
        const std::string status_line = read_line();
        static const std::regex status_re(R"(HTTP/1\.([01]) (\d{3})(?: (.*))?)");
        std::smatch match;
        if (!std::regex_match(status_line, match, status_re)) {
            throw std::runtime_error("bad status line: \"" + status_line + "\"");
        }
        response.version_minor = std::stoi(match[1]);
        response.status = std::stoi(match[2]);
        response.reason = match[3];
        for (int i = 0; i < 1000; ++i) {
            std::string line = read_line();
            if (line.empty()) break;
            const auto colon = line.find(':');
            if (colon == std::string::npos) throw std::runtime_error("bad header line: \"" + line + "\"");
            response.headers.emplace_back(line.substr(0, colon), trim(std::string_view(line).substr(colon + 1)));
        }
        if (response.status >= 100 && response.status < 200) {
            if (options.return_interim) return response;
            continue;
        }
        if (options.head_request || response.status == 204 || response.status == 304) return response;

        const auto transfer_encoding = response.header("transfer-encoding");
        if (transfer_encoding && to_lower(*transfer_encoding).find("chunked") != std::string::npos) {
            response.chunked = true;
            for (std::uint64_t chunks = 0;; ++chunks) {
                if (chunks > 100'000'000) throw std::runtime_error("too many chunks");
                const std::string size_line = read_line();
                std::size_t parsed = 0;
                std::uint64_t size = 0;
                try {
                    size = std::stoull(size_line, &parsed, 16);
                } catch (const std::exception&) {
                    throw std::runtime_error("bad chunk size line: \"" + size_line + "\"");
                }
                if (parsed == 0) throw std::runtime_error("bad chunk size line: \"" + size_line + "\"");
                if (size == 0) break;
                read_exact(size, response, options);
                if (!read_line().empty()) throw std::runtime_error("chunk not followed by CRLF");
            }
            for (int i = 0; i < 100; ++i) {
                if (read_line().empty()) break;  // trailers are ignored
            }
            return response;
        }
        if (const auto length = response.header("content-length")) {
            read_exact(std::stoull(*length), response, options);
            return response;
        }
        response.close_delimited = true;
        for (;;) {
            if (buffer_pos_ < buffer_.size()) {
                deliver(std::string_view(buffer_).substr(buffer_pos_), response, options);
                buffer_pos_ = buffer_.size();
            }
            if (!fill()) break;
        }
        return response;
    }
    throw std::runtime_error("more than 10 interim responses");
}

bool http_connection::closed_by_peer(millis timeout) {
    if (buffer_pos_ < buffer_.size()) return false;
    deadline_ = steady::time_point::max();
    const auto saved = timeout_;
    set_timeout(timeout);
    char byte = 0;
    ssize_t n = -1;
    for (int attempt = 0; attempt < 100; ++attempt) {
        n = ::recv(fd_, &byte, 1, 0);
        if (n >= 0 || errno != EINTR) break;
    }
    const int saved_errno = errno;
    set_timeout(saved);
    if (n == 0) return true;
    if (n < 0 && saved_errno == ECONNRESET) return true;
    if (n > 0) buffer_.push_back(byte);
    return false;
}

bool http_connection::data_arrives_within(millis timeout) {
    if (buffer_pos_ < buffer_.size()) return true;
    pollfd waiting{fd_, POLLIN, 0};
    const int r = ::poll(&waiting, 1, static_cast<int>(timeout.count()));
    return r > 0;
}

void http_connection::shutdown_write() { ::shutdown(fd_, SHUT_WR); }

std::optional<error_body> parse_error_body(std::string_view body) {
    const auto text = trim(body);
    if (text.size() < 2 || text.front() != '{' || text.back() != '}') return std::nullopt;
    static const std::regex error_re(R"re("error"\s*:\s*"([^"\\]*)")re");
    static const std::regex message_re(R"re("message"\s*:\s*"((?:[^"\\]|\\.)*)")re");
    std::smatch error_match;
    std::smatch message_match;
    if (!std::regex_search(text, error_match, error_re) || !std::regex_search(text, message_match, message_re)) {
        return std::nullopt;
    }
    return error_body{error_match[1], message_match[1]};
}

std::optional<std::vector<backend_row>> parse_backends_json(std::string_view body) {
    const auto text = trim(body);
    if (text.size() < 2 || text.front() != '[' || text.back() != ']') return std::nullopt;
    static const std::regex object_re(R"(\{[^{}]*\})");
    static const std::regex url_re(R"re("url"\s*:\s*"([^"\\]*)")re");
    static const std::regex healthy_re(R"re("healthy"\s*:\s*(true|false))re");
    static const std::regex circuit_re(R"re("circuit"\s*:\s*"([^"\\]*)")re");
    static const std::regex requests_re(R"re("requests"\s*:\s*(\d+))re");
    static const std::regex failures_re(R"re("failures"\s*:\s*(\d+))re");
    std::vector<backend_row> rows;
    std::string rest;  // what is left outside the objects: brackets, commas, whitespace only
    auto position = text.cbegin();
    for (std::sregex_iterator it(text.begin(), text.end(), object_re), end; it != end; ++it) {
        const std::string object = it->str();
        rest.append(position, text.cbegin() + it->position());
        position = text.cbegin() + it->position() + it->length();
        std::smatch url, healthy, circuit, requests, failures;
        if (!std::regex_search(object, url, url_re) || !std::regex_search(object, healthy, healthy_re) ||
            !std::regex_search(object, circuit, circuit_re) || !std::regex_search(object, requests, requests_re) ||
            !std::regex_search(object, failures, failures_re)) {
            return std::nullopt;
        }
        rows.push_back({url[1], healthy[1] == "true", circuit[1], std::stoull(requests[1]), std::stoull(failures[1])});
    }
    rest.append(position, text.cend());
    if (rest.find_first_not_of("[], \t\r\n") != std::string::npos) return std::nullopt;
    return rows;
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

std::string describe(const http_response& response) {
    std::string out = "HTTP/1." + std::to_string(response.version_minor) + " " +
                      std::to_string(response.status) + " " + response.reason + "\n";
    for (const auto& [name, value] : response.headers) out += name + ": " + value + "\n";
    out += "\n" + response.body.substr(0, 300);
    if (response.body.size() > 300) out += "...";
    return out;
}

::testing::AssertionResult is_error_response(const http_response& response, int status,
                                             std::string_view error) {
    if (response.status != status) {
        return ::testing::AssertionFailure() << "expected status " << status << ", got:\n" << describe(response);
    }
    const auto content_type = response.header("content-type");
    if (!content_type || !to_lower(*content_type).starts_with("application/json")) {
        return ::testing::AssertionFailure() << "expected Content-Type application/json, got:\n"
                                             << describe(response);
    }
    const auto body = parse_error_body(response.body);
    if (!body) {
        return ::testing::AssertionFailure() << "body is not {\"error\":...,\"message\":...}:\n"
                                             << describe(response);
    }
    if (body->error != error || body->message.empty()) {
        return ::testing::AssertionFailure() << "expected error \"" << error << "\" and a message, got:\n"
                                             << describe(response);
    }
    return ::testing::AssertionSuccess();
}


std::string gatewayd_bin() { return GATEWAYD_BIN; }
std::string mock_backend_bin() { return MOCK_BACKEND_BIN; }

mock_backend::mock_backend(const temp_dir& dir, std::vector<std::string> args, std::uint16_t port) {
    const int n = ++temp_counter;
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

std::string gateway_yaml(std::uint16_t listen_port, const gateway_settings& settings) {
    std::string yaml;
    yaml += "listen: \"127.0.0.1:" + std::to_string(listen_port) + "\"\n";
    yaml += "shutdown_timeout: 2s\n";
    yaml += "admin: {" + settings.admin + "}\n";
    yaml += "log: {" + settings.log + "}\n";
    if (!settings.client.empty()) yaml += "client: {" + settings.client + "}\n";
    if (settings.backends.empty()) {
        yaml += "backends: []\n";
    } else {
        yaml += "backends:\n";
        for (const auto& url : settings.backends) yaml += "  - url: " + url + "\n";
    }
    if (!settings.upstream.empty()) yaml += "upstream: {" + settings.upstream + "}\n";
    yaml += "health_check: {" + settings.health_check + "}\n";
    yaml += "rate_limit: {" + settings.rate_limit + "}\n";
    if (!settings.redis.empty()) yaml += "redis: {" + settings.redis + "}\n";
    yaml += settings.extra;
    return yaml;
}

std::string admin_listen(std::uint16_t port) {
    return "listen: \"127.0.0.1:" + std::to_string(port) + "\"";
}

gateway_process::~gateway_process() {
    if (!process_) return;
    if (!process_->status()) process_->stop();
    // Sanitizer builds report memory errors and leaks in the log, often only at exit.
    const std::string log = process_->stderr_text();
    for (const std::string_view marker : {"ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"}) {
        if (log.find(marker) != std::string::npos) {
            ADD_FAILURE() << "sanitizer report in " << process_->stderr_path() << ":\n"
                          << log.substr(log.find(marker), 2000);
        }
    }
}

gateway_process::gateway_process(const temp_dir& dir, const gateway_settings& settings) {
    const int n = ++temp_counter;
    config_path_ = dir.file("gateway-" + std::to_string(n) + ".yaml");
    std::string last_error;
    // The free port may be taken by someone else before gatewayd binds it: try a few.
    for (int attempt = 0; attempt < 3; ++attempt) {
        port_ = free_port();
        write_file(config_path_, gateway_yaml(port_, settings));
        const auto suffix = std::to_string(n) + (attempt ? "." + std::to_string(attempt) : "");
        process_ = std::make_unique<process>(
            std::vector<std::string>{gatewayd_bin(), "--config", config_path_.string()},
            dir.file("gateway-" + suffix + ".out"), dir.file("gateway-" + suffix + ".err"));
        const bool ready = wait_until(
            [&] {
                return (process_->stderr_text().find("gatewayd listening on") != std::string::npos &&
                        port_accepts(port_)) ||
                       process_->exited();
            },
            10s);
        if (ready && !process_->exited()) return;
        last_error = process_->exited() ? "exited " + std::to_string(process_->status()->shell_code())
                                        : "not listening after 10 s";
        last_error += "; stderr:\n" + process_->stderr_text();
        process_->stop(1s);
        if (process_->stderr_text().find("in use") == std::string::npos) break;
    }
    throw std::runtime_error("gatewayd did not start: " + last_error);
}

std::unique_ptr<http_connection> gateway_process::connect(millis timeout) const {
    return std::make_unique<http_connection>(port_, timeout);
}

http_response gateway_process::request(std::string_view method, std::string_view target,
                                       const std::vector<std::pair<std::string, std::string>>& headers,
                                       std::string_view body) const {
    http_connection connection(port_);
    return connection.request(method, target, headers, body);
}

http_response gateway_process::settled_get(const std::string& target) const {
    auto response = request("GET", target);
    const bool logged = wait_until(
        [&] { return count_lines_containing(log_path(), " path=" + target + " status=") == 1; }, 2s, 2ms);
    EXPECT_TRUE(logged) << "no access-log line for " << target;
    return response;
}

raw_tcp_server::raw_tcp_server(std::string reply) : reply_(std::move(reply)) {
    listen_fd_ = listen_loopback(port_);
    thread_ = std::thread([this] { serve(); });
}

raw_tcp_server::~raw_tcp_server() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    ::close(listen_fd_);
}

std::string raw_tcp_server::url() const { return "http://127.0.0.1:" + std::to_string(port_); }

void raw_tcp_server::serve() {
    while (!stop_) {
        pollfd waiting{listen_fd_, POLLIN, 0};
        if (::poll(&waiting, 1, 20) <= 0) continue;
        const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) continue;
        ++connections_;
        auto tv = to_timeval(1s);
        ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        std::string head;
        char chunk[4096];
        for (int i = 0; i < 64 && head.find("\r\n\r\n") == std::string::npos && !stop_; ++i) {
            const auto n = ::recv(fd, chunk, sizeof chunk, 0);
            if (n <= 0) break;
            head.append(chunk, static_cast<std::size_t>(n));
        }
        ::send(fd, reply_.data(), reply_.size(), MSG_NOSIGNAL);
        ::shutdown(fd, SHUT_WR);
        ::close(fd);
    }
}

port_blocker::port_blocker() { fd_ = listen_loopback(port_); }
port_blocker::~port_blocker() { ::close(fd_); }

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

namespace {

// One blocking connection speaking RESP2 to a Redis on 127.0.0.1.
class resp_connection {
public:
    resp_connection(std::uint16_t port, millis timeout) {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd_ < 0) fail_errno("socket");
        auto tv = to_timeval(timeout);
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        auto address = loopback(port);
        if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
            const int saved = errno;
            ::close(fd_);
            errno = saved;
            fail_errno("connect to redis 127.0.0.1:" + std::to_string(port));
        }
    }
    ~resp_connection() { ::close(fd_); }
    resp_connection(const resp_connection&) = delete;
    resp_connection& operator=(const resp_connection&) = delete;

    redis_reply call(const std::vector<std::string>& args) {
        write(format(args));
        return parse(0);
    }
    // All commands in one write, then the replies in order.
    std::vector<redis_reply> call_all(const std::vector<std::vector<std::string>>& commands) {
        std::string out;
        for (const auto& args : commands) out += format(args);
        write(out);
        std::vector<redis_reply> replies;
        for (std::size_t i = 0; i < commands.size(); ++i) replies.push_back(parse(0));
        return replies;
    }

private:
    static std::string format(const std::vector<std::string>& args) {
        std::string out = "*" + std::to_string(args.size()) + "\r\n";
        for (const auto& arg : args) out += "$" + std::to_string(arg.size()) + "\r\n" + arg + "\r\n";
        return out;
    }
    void write(std::string_view rest) {
        while (!rest.empty()) {
            const auto n = ::send(fd_, rest.data(), rest.size(), MSG_NOSIGNAL);
            if (n < 0) {
                if (errno == EINTR) continue;
                fail_errno("send to redis");
            }
            rest.remove_prefix(static_cast<std::size_t>(n));
        }
    }
    void fill() {
        char chunk[16 * 1024];
        for (;;) {
            const auto n = ::recv(fd_, chunk, sizeof chunk, 0);
            if (n > 0) {
                buffer_.append(chunk, static_cast<std::size_t>(n));
                return;
            }
            if (n == 0) throw std::runtime_error("redis closed the connection");
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) throw std::runtime_error("no answer from redis in time");
            fail_errno("recv from redis");
        }
    }
    std::string line() {
        for (;;) {
            const auto end = buffer_.find("\r\n", pos_);
            if (end != std::string::npos) {
                std::string text = buffer_.substr(pos_, end - pos_);
                pos_ = end + 2;
                return text;
            }
            fill();
        }
    }
    std::string bytes(std::size_t size) {
        while (buffer_.size() - pos_ < size + 2) fill();
        std::string text = buffer_.substr(pos_, size);
        pos_ += size + 2;
        return text;
    }
    redis_reply parse(int depth) {
        if (depth > 16) throw std::runtime_error("redis reply nested too deeply");
        const std::string head = line();
        if (head.empty()) throw std::runtime_error("empty redis reply line");
        redis_reply reply;
        const std::string rest = head.substr(1);
        switch (head[0]) {
            case '+': reply.type = redis_reply::kind::status; reply.text = rest; break;
            case '-': reply.type = redis_reply::kind::error; reply.text = rest; break;
            case ':': reply.type = redis_reply::kind::integer; reply.integer = std::stoll(rest); break;
            case '$': {
                const long long size = std::stoll(rest);
                if (size < 0) {
                    reply.type = redis_reply::kind::nil;
                } else {
                    reply.type = redis_reply::kind::bulk;
                    reply.text = bytes(static_cast<std::size_t>(size));
                }
                break;
            }
            case '*': {
                const long long count = std::stoll(rest);
                if (count < 0) {
                    reply.type = redis_reply::kind::nil;
                } else {
                    reply.type = redis_reply::kind::array;
                    for (long long i = 0; i < count; ++i) reply.elements.push_back(parse(depth + 1));
                }
                break;
            }
            default: throw std::runtime_error("bad redis reply line: \"" + head + "\"");
        }
        return reply;
    }

    int fd_ = -1;
    std::string buffer_;
    std::size_t pos_ = 0;
};

}  // namespace

redis_server::redis_server(const temp_dir& dir) : dir_(dir) {
    port_ = free_port();
    start();
}

redis_server::~redis_server() {
    try {
        if (process_) stop();
    } catch (const std::exception&) {
    }
}

void redis_server::start() {
    if (process_) return;
    const std::string bin = find_in_path("redis-server");
    if (bin.empty()) throw std::runtime_error("redis-server not found in PATH (tools/install-deps.sh installs it)");
    const bool first = starts_ == 0;
    for (int attempt = 0;; ++attempt) {
        const int n = ++starts_;
        const fs::path workdir = dir_.file("redis-" + std::to_string(port_));
        fs::create_directories(workdir);
        const std::string stem = "redis-" + std::to_string(port_) + "-" + std::to_string(n);
        process_ = std::make_unique<process>(
            std::vector<std::string>{bin, "--port", std::to_string(port_), "--bind", "127.0.0.1", "--save", "",
                                     "--appendonly", "no", "--dir", workdir.string(), "--daemonize", "no"},
            dir_.file(stem + ".out"), dir_.file(stem + ".err"));
        const bool up = wait_until(
            [&] {
                if (process_->exited()) return true;
                try {
                    const auto pong = command({"PING"}, 200ms);
                    return pong.type == redis_reply::kind::status && pong.text == "PONG";
                } catch (const std::exception&) {
                    return false;
                }
            },
            10s, 10ms);
        if (up && !process_->exited()) return;
        const std::string why = process_->stdout_text() + process_->stderr_text();
        process_->stop(1s);
        process_.reset();
        if (first && attempt < 2 && why.find("in use") != std::string::npos) {
            port_ = free_port();  // someone took the free port first: only a first start may move
            continue;
        }
        throw std::runtime_error("redis-server did not start on 127.0.0.1:" + std::to_string(port_) + ": " + why);
    }
}

void redis_server::stop() {
    if (!process_) return;
    if (paused_) resume();
    process_->stop(3s);
    process_.reset();
}

void redis_server::pause() {
    if (!process_ || paused_) return;
    process_->send_signal(SIGSTOP);
    paused_ = true;
}

void redis_server::resume() {
    if (!process_ || !paused_) return;
    process_->send_signal(SIGCONT);
    paused_ = false;
}

redis_reply redis_server::command(const std::vector<std::string>& args, millis timeout) const {
    resp_connection connection(port_, timeout);
    return connection.call(args);
}

std::vector<redis_reply> redis_server::pipeline(const std::vector<std::vector<std::string>>& commands,
                                               millis timeout) const {
    resp_connection connection(port_, timeout);
    return connection.call_all(commands);
}

namespace {
[[noreturn]] void unexpected_reply(std::string_view what, const redis_reply& reply) {
    throw std::runtime_error("unexpected redis reply to " + std::string(what) + ": " + reply.text);
}
}  // namespace

std::optional<std::string> redis_server::get(const std::string& key) const {
    const auto reply = command({"GET", key});
    if (reply.type == redis_reply::kind::nil) return std::nullopt;
    if (reply.type != redis_reply::kind::bulk) unexpected_reply("GET", reply);
    return reply.text;
}

long long redis_server::ttl(const std::string& key) const {
    const auto reply = command({"TTL", key});
    if (reply.type != redis_reply::kind::integer) unexpected_reply("TTL", reply);
    return reply.integer;
}

long long redis_server::pttl(const std::string& key) const {
    const auto reply = command({"PTTL", key});
    if (reply.type != redis_reply::kind::integer) unexpected_reply("PTTL", reply);
    return reply.integer;
}

std::vector<std::string> redis_server::keys(const std::string& pattern) const {
    const auto reply = command({"KEYS", pattern});
    if (reply.type != redis_reply::kind::array) unexpected_reply("KEYS", reply);
    std::vector<std::string> out;
    for (const auto& element : reply.elements) out.push_back(element.text);
    std::sort(out.begin(), out.end());
    return out;
}

std::map<std::string, long long> redis_server::command_calls() const {
    const auto reply = command({"INFO", "commandstats"});
    if (reply.type != redis_reply::kind::bulk) unexpected_reply("INFO commandstats", reply);
    // Lines like "cmdstat_evalsha:calls=6,usec=80,usec_per_call=13.33,rejected_calls=0,failed_calls=0".
    static const std::regex line_re(R"(cmdstat_([^:]+):calls=(\d+))");
    std::map<std::string, long long> calls;
    for (std::sregex_iterator it(reply.text.begin(), reply.text.end(), line_re), end; it != end; ++it) {
        calls[to_lower((*it)[1].str())] = std::stoll((*it)[2].str());
    }
    return calls;
}

std::vector<std::string> redis_server::keys_without_ttl() const {
    const auto all = keys("*");
    std::vector<std::vector<std::string>> commands;
    for (const auto& key : all) commands.push_back({"TTL", key});
    const auto replies = pipeline(commands, 10s);
    std::vector<std::string> out;
    for (std::size_t i = 0; i < all.size(); ++i) {
        // -1: no expiry; -2: expired since KEYS (fine).
        if (replies[i].type != redis_reply::kind::integer || replies[i].integer == -1) out.push_back(all[i]);
    }
    return out;
}

void redis_server::reset_stats() const {
    const auto reply = command({"CONFIG", "RESETSTAT"});
    if (reply.type != redis_reply::kind::status) unexpected_reply("CONFIG RESETSTAT", reply);
}


std::optional<std::string> wire_request::header(std::string_view name) const {
    for (const auto& [key, value] : headers) {
        if (iequals(key, name)) return value;
    }
    return std::nullopt;
}

std::size_t wire_request::header_count(std::string_view name) const {
    return static_cast<std::size_t>(std::count_if(
        headers.begin(), headers.end(), [&](const auto& field) { return iequals(field.first, name); }));
}

scripted_backend::scripted_backend(script per_connection) : script_(std::move(per_connection)) {
    listen_fd_ = listen_loopback(port_);
    accept_thread_ = std::thread([this] { accept_loop(); });
}

scripted_backend::~scripted_backend() {
    stop_ = true;
    if (accept_thread_.joinable()) accept_thread_.join();
    {
        // Wakes scripts blocked on a socket; each thread closes its own descriptor.
        std::lock_guard lock(mutex_);
        for (const int fd : peer_fds_) {
            if (fd >= 0) ::shutdown(fd, SHUT_RDWR);
        }
    }
    for (auto& thread : peer_threads_) thread.join();
    ::close(listen_fd_);
}

std::string scripted_backend::url() const { return "http://127.0.0.1:" + std::to_string(port_); }

std::vector<wire_request> scripted_backend::requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
}

std::string scripted_backend::bytes_received() const {
    std::lock_guard lock(mutex_);
    return bytes_;
}

void scripted_backend::record(const wire_request& request) {
    std::lock_guard lock(mutex_);
    requests_.push_back(request);
}

void scripted_backend::accept_loop() {
    constexpr std::size_t max_connections = 256;
    while (!stop_) {
        pollfd waiting{listen_fd_, POLLIN, 0};
        if (::poll(&waiting, 1, 20) <= 0) continue;
        const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) continue;
        std::lock_guard lock(mutex_);
        if (peer_threads_.size() >= max_connections) {
            ::close(fd);
            continue;
        }
        int one = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        const std::size_t slot = peer_fds_.size();
        peer_fds_.push_back(fd);
        const std::size_t index = ++connections_;
        peer_threads_.emplace_back([this, fd, slot, index] {
            peer connection;
            connection.fd_ = fd;
            connection.index_ = index;
            connection.owner_ = this;
            try {
                script_(connection);
            } catch (const std::exception& e) {
                std::fprintf(stderr, "[harness] scripted backend connection %zu: %s\n", index, e.what());
            }
            {
                std::lock_guard slot_lock(mutex_);
                peer_fds_[slot] = -1;
            }
            ::shutdown(fd, SHUT_WR);
            ::close(fd);
        });
    }
}

bool scripted_backend::peer::fill(steady::time_point deadline) {
    char chunk[16 * 1024];
    for (;;) {
        if (owner_->stop_ || steady::now() >= deadline) return false;
        const auto left = std::chrono::duration_cast<millis>(deadline - steady::now()).count();
        pollfd waiting{fd_, POLLIN, 0};
        const int ready = ::poll(&waiting, 1, static_cast<int>(std::clamp<long long>(left, 1, 50)));
        if (ready < 0 && errno != EINTR) return false;
        if (ready <= 0) continue;
        const auto n = ::recv(fd_, chunk, sizeof chunk, MSG_DONTWAIT);
        if (n > 0) {
            buffer_.append(chunk, static_cast<std::size_t>(n));
            std::lock_guard lock(owner_->mutex_);
            owner_->bytes_.append(chunk, static_cast<std::size_t>(n));
            return true;
        }
        if (n == 0) return false;
        if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK) return false;
    }
}

// One CRLF-terminated line off the front of the buffer; a bare LF or a missing line ends with !ok.
std::string scripted_backend::peer::take_line(steady::time_point deadline, bool& ok) {
    ok = false;
    for (int rounds = 0; rounds < 100000; ++rounds) {
        const auto end = buffer_.find('\n');
        if (end != std::string::npos) {
            if (end == 0 || buffer_[end - 1] != '\r') return {};
            std::string line = buffer_.substr(0, end - 1);
            buffer_.erase(0, end + 1);
            ok = true;
            return line;
        }
        if (buffer_.size() > 1 * mib || !fill(deadline)) return {};
    }
    return {};
}

std::optional<wire_request> scripted_backend::peer::read_request(millis timeout) {
    const auto deadline = steady::now() + timeout;
    wire_request request;
    request.connection = index_;
    if (buffer_.empty() && !fill(deadline)) return std::nullopt;  // nothing of a request arrived
    const auto refuse = [&](std::string why) -> std::optional<wire_request> {
        request.framing_error = std::move(why);
        owner_->record(request);
        return std::nullopt;
    };
    bool ok = false;
    const std::string request_line = take_line(deadline, ok);
    if (!ok) return refuse("request line incomplete or not ended by CRLF");
    static const std::regex request_line_re(R"(([!#$%&'*+.^_`|~0-9A-Za-z-]+) (\S+) (HTTP/1\.[01]))");
    std::smatch match;
    if (!std::regex_match(request_line, match, request_line_re)) return refuse("bad request line: " + request_line);
    request.method = match[1];
    request.target = match[2];
    request.version = match[3];
    for (int i = 0;; ++i) {
        if (i > 200) return refuse("more than 200 header lines");
        const std::string line = take_line(deadline, ok);
        if (!ok) return refuse("header line incomplete or not ended by CRLF");
        if (line.empty()) break;
        if (line.front() == ' ' || line.front() == '\t') return refuse("obs-fold line: " + line);
        const auto colon = line.find(':');
        if (colon == std::string::npos || colon == 0) return refuse("header line without a name: " + line);
        const std::string name = line.substr(0, colon);
        static const std::regex token_re(R"([!#$%&'*+.^_`|~0-9A-Za-z-]+)");
        if (!std::regex_match(name, token_re)) return refuse("bad header name: " + name);
        const std::string value = trim(std::string_view(line).substr(colon + 1));
        for (const char c : value) {
            const auto byte = static_cast<unsigned char>(c);
            if ((byte < 0x20 && c != '\t') || byte == 0x7f) return refuse("control byte in the value of " + name);
        }
        request.headers.emplace_back(name, value);
    }

    // The connection ended inside the body: a request cut short (the gateway gave up on it),
    // which is not a framing error of the gateway's.
    const auto cut_short = [&]() -> std::optional<wire_request> {
        if (buffer_.find('\n') != std::string::npos) return refuse("a line ended by a bare LF");
        owner_->record(request);
        return std::nullopt;
    };
    std::uint64_t length = 0;
    const auto transfer_encoding = request.header("transfer-encoding");
    if (transfer_encoding) {
        if (request.header_count("content-length") > 0) return refuse("both Content-Length and Transfer-Encoding");
        if (request.header_count("transfer-encoding") != 1 || to_lower(*transfer_encoding) != "chunked") {
            return refuse("Transfer-Encoding is not exactly chunked: " + *transfer_encoding);
        }
        request.chunked = true;
    } else if (const auto content_length = request.header("content-length")) {
        static const std::regex digits_re(R"(\d{1,15})");
        if (request.header_count("content-length") != 1) return refuse("more than one Content-Length");
        if (!std::regex_match(*content_length, digits_re)) return refuse("bad Content-Length: " + *content_length);
        length = std::stoull(*content_length);
    }
    const auto take_bytes = [&](std::uint64_t size) {
        while (buffer_.size() < size) {
            if (buffer_.size() > 64 * mib || !fill(deadline)) return false;
        }
        request.body.append(buffer_, 0, static_cast<std::size_t>(size));
        buffer_.erase(0, static_cast<std::size_t>(size));
        return true;
    };
    if (!request.chunked) {
        if (!take_bytes(length)) return refuse("body shorter than its Content-Length");
    } else {
        static const std::regex size_re(R"(([0-9A-Fa-f]{1,15})(;.*)?)");
        for (int chunks = 0;; ++chunks) {
            if (chunks > 1000000) return refuse("too many chunks");
            const std::string size_line = take_line(deadline, ok);
            std::smatch size_match;
            if (!ok) return cut_short();
            if (!std::regex_match(size_line, size_match, size_re)) return refuse("bad chunk size line: " + size_line);
            const auto size = std::stoull(size_match[1].str(), nullptr, 16);
            if (size == 0) break;
            if (!take_bytes(size)) return cut_short();
            const std::string after_data = take_line(deadline, ok);
            if (!ok) return cut_short();
            if (!after_data.empty()) return refuse("chunk data not followed by CRLF");
        }
        for (int i = 0;; ++i) {
            const std::string trailer = take_line(deadline, ok);
            if (!ok || i > 100) return refuse("trailer section incomplete");
            if (trailer.empty()) break;
        }
    }
    request.complete = true;
    owner_->record(request);
    return request;
}

void scripted_backend::peer::send(std::string_view bytes) {
    while (!bytes.empty()) {
        const auto n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;  // a hostile script writes regardless; the gateway may be gone
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
}

bool scripted_backend::peer::closed_by_peer(millis timeout) {
    if (!buffer_.empty()) return false;
    const auto deadline = steady::now() + timeout;
    for (;;) {
        const auto left = std::chrono::duration_cast<millis>(deadline - steady::now()).count();
        if (left <= 0 || owner_->stop_) return false;
        pollfd waiting{fd_, POLLIN, 0};
        if (::poll(&waiting, 1, static_cast<int>(std::min<long long>(left, 50))) <= 0) continue;
        char byte = 0;
        const auto n = ::recv(fd_, &byte, 1, MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno == ECONNRESET)) return true;
        if (n > 0) {
            buffer_.push_back(byte);
            return false;
        }
    }
}

void scripted_backend::peer::close() { ::shutdown(fd_, SHUT_RDWR); }

scripted_backend::script scripted_backend::answer_ok(std::string body) {
    return [body](peer& connection) {
        const std::string reply =
            "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
        for (int i = 0; i < 10000; ++i) {
            if (!connection.read_request(10s)) return;
            connection.send(reply);
        }
    };
}

}  // namespace it
