#include "harness/ports.hpp"

#include "harness/files_and_processes.hpp"
#include "harness/internal.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>
#include <string>

namespace it {

using internal::listen_loopback;
using internal::loopback;

std::uint16_t free_port() {
    std::uint16_t port = 0;
    const int fd = listen_loopback(port);
    ::close(fd);
    return port;
}

std::uint16_t free_port_pair(std::uint16_t offset) {
    for (int attempt = 0; attempt < 1000; ++attempt) {
        const std::uint16_t port = free_port();
        if (port > 65535 - offset) continue;
        const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) continue;
        auto partner = loopback(static_cast<std::uint16_t>(port + offset));
        const bool free = ::bind(fd, reinterpret_cast<sockaddr*>(&partner), sizeof partner) == 0;
        ::close(fd);
        if (free) return port;
    }
    throw std::runtime_error("no free pair of loopback ports " + std::to_string(offset) + " apart");
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

port_blocker::port_blocker() { fd_ = listen_loopback(port_); }
port_blocker::~port_blocker() { ::close(fd_); }

}  // namespace it
