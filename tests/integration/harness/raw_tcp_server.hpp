// A broken backend: one fixed reply, whatever was asked.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <thread>

namespace it {

// A tiny TCP server on a thread: for each connection reads the request head, writes `reply`
// (any bytes, valid HTTP or not) and closes. Stands in for a broken backend.
class raw_tcp_server {
public:
    explicit raw_tcp_server(std::string reply);
    ~raw_tcp_server();
    raw_tcp_server(const raw_tcp_server&) = delete;
    raw_tcp_server& operator=(const raw_tcp_server&) = delete;
    std::uint16_t port() const { return port_; }
    std::string url() const;
    std::size_t connections() const { return connections_.load(); }

private:
    void serve();
    int listen_fd_ = -1;
    std::uint16_t port_ = 0;
    std::string reply_;
    std::atomic<bool> stop_{false};
    std::atomic<std::size_t> connections_{0};
    std::thread thread_;
};

}  // namespace it
