#include "harness/raw_tcp_server.hpp"

#include "harness/basics.hpp"
#include "harness/internal.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace it {

using internal::listen_loopback;
using internal::to_timeval;

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

}  // namespace it
