#include "harness/scripted_backend.hpp"

#include "harness/internal.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <regex>

namespace it {

using internal::iequals;
using internal::listen_loopback;
using internal::to_lower;
using internal::trim;

namespace {

// A tchar of RFC 9110 5.6.2, what a method is made of.
bool is_tchar(char c) {
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// method SP target SP version: a method of tchars, a target of one or more bytes none of them
// whitespace (space, HTTP tab, LF, VT, FF, CR), and exactly HTTP/1.0 or HTTP/1.1. A plain split,
// not std::regex: libstdc++'s regex recurses once per byte and a request line of some 70 KB
// overflowed the stack, taking the whole test process with it.
bool split_request_line(std::string_view line, wire_request& request) {
    const auto first = line.find(' ');
    if (first == std::string_view::npos) return false;
    const auto second = line.find(' ', first + 1);
    if (second == std::string_view::npos) return false;
    const auto method = line.substr(0, first);
    const auto target = line.substr(first + 1, second - first - 1);
    const auto version = line.substr(second + 1);
    if (method.empty() || !std::all_of(method.begin(), method.end(), is_tchar)) return false;
    if (target.empty() || target.find_first_of(" \t\n\v\f\r") != std::string_view::npos) return false;
    if (version != "HTTP/1.0" && version != "HTTP/1.1") return false;
    request.method = method;
    request.target = target;
    request.version = version;
    return true;
}

}  // namespace

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
    if (!split_request_line(request_line, request)) return refuse("bad request line: " + request_line);
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
