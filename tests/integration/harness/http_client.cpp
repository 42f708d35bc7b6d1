#include "harness/http_client.hpp"

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
#include <stdexcept>

namespace it {

using internal::fail_errno;
using internal::iequals;
using internal::loopback;
using internal::to_lower;
using internal::to_timeval;
using internal::trim;

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

bool http_connection::start_tls(const tls_client_options& options, std::string& error) {
    tls_ = tls_layer::handshake(fd_, options, error);
    return tls_ != nullptr;
}

long http_connection::raw_send(const char* data, std::size_t size) {
    if (tls_) return tls_->send(data, size);
    return ::send(fd_, data, size, MSG_NOSIGNAL);
}

long http_connection::raw_recv(char* data, std::size_t size) {
    if (tls_) return tls_->recv(data, size);
    return ::recv(fd_, data, size, 0);
}

void http_connection::send(std::string_view bytes) {
    const auto deadline = steady::now() + timeout_;
    while (!bytes.empty()) {
        const auto n = raw_send(bytes.data(), bytes.size());
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
        const auto n = raw_recv(chunk, sizeof chunk);
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

std::string http_connection::read_bytes(std::size_t size) {
    deadline_ = steady::now() + 60s;
    std::string out;
    while (out.size() < size) {
        if (buffer_pos_ == buffer_.size() && !fill()) {
            throw std::runtime_error("connection closed after " + std::to_string(out.size()) + " of " +
                                     std::to_string(size) + " bytes");
        }
        const auto take = std::min(size - out.size(), buffer_.size() - buffer_pos_);
        out.append(buffer_, buffer_pos_, take);
        buffer_pos_ += take;
    }
    return out;
}

bool http_connection::closed_by_peer(millis timeout) {
    if (buffer_pos_ < buffer_.size()) return false;
    deadline_ = steady::time_point::max();
    const auto saved = timeout_;
    set_timeout(timeout);
    char byte = 0;
    ssize_t n = -1;
    for (int attempt = 0; attempt < 100; ++attempt) {
        n = raw_recv(&byte, 1);
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

}  // namespace it
