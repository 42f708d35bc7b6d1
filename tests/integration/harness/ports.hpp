// Loopback ports: a free one, waiting until something listens, one held taken.
#pragma once

#include "harness/basics.hpp"

#include <cstdint>

namespace it {

// A loopback port nothing listens on right now (bound, read, closed).
std::uint16_t free_port();
// A free port p whose partner p + `offset` is free too (a Redis Cluster node's bus port is its
// port + 10000).
std::uint16_t free_port_pair(std::uint16_t offset);
// True once something accepts TCP connections on 127.0.0.1:port.
bool port_accepts(std::uint16_t port);
bool wait_for_port(std::uint16_t port, millis timeout);

// A listening socket held open by the test (no SO_REUSEPORT), to occupy a port.
class port_blocker {
public:
    port_blocker();
    ~port_blocker();
    port_blocker(const port_blocker&) = delete;
    port_blocker& operator=(const port_blocker&) = delete;
    std::uint16_t port() const { return port_; }

private:
    int fd_ = -1;
    std::uint16_t port_ = 0;
};

}  // namespace it
