// A real Redis Sentinel watching a primary the test started.
#pragma once

#include "harness/basics.hpp"
#include "harness/files_and_processes.hpp"
#include "harness/redis_server.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace it {

// redis-server --sentinel on a free loopback port, monitoring `primary_port` as `master_name`
// with quorum 1, so that it alone fails the primary over: after `down_after` without an answer
// it promotes a replica (failover-timeout 3 s). Its config file is in the test's directory;
// stopped by PID.
class redis_sentinel {
public:
    redis_sentinel(const temp_dir& dir, std::uint16_t primary_port, std::string master_name = "mymaster",
                   millis down_after = 1000ms, std::string password = {});
    ~redis_sentinel();
    redis_sentinel(const redis_sentinel&) = delete;
    redis_sentinel& operator=(const redis_sentinel&) = delete;

    std::uint16_t port() const { return port_; }
    std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
    redis_reply command(const std::vector<std::string>& args, millis timeout = 2s) const;
    // "host:port" of the primary it names now; nullopt when it names none.
    std::optional<std::string> primary() const;
    // It has seen a replica on `port` that is up (needed before it can fail over to it).
    bool knows_replica(std::uint16_t port) const;
    void stop();

private:
    std::string master_name_;
    std::string password_;
    std::uint16_t port_ = 0;
    std::unique_ptr<process> process_;
};

}  // namespace it
