// A real redis-server for the rate limiter's Redis mode, and the replies read from it.
#pragma once

#include "harness/basics.hpp"
#include "harness/files_and_processes.hpp"

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace it {

// A reply of the Redis protocol (RESP2), as read by redis_server::command.
struct redis_reply {
    enum class kind { status, error, integer, bulk, nil, array };
    kind type = kind::nil;
    std::string text;     // status, error and bulk
    long long integer = 0;
    std::vector<redis_reply> elements;
};

// One command on a fresh blocking connection to 127.0.0.1:port (a server or a sentinel).
redis_reply redis_command(std::uint16_t port, const std::vector<std::string>& args, millis timeout = 2s);
// Several commands on one such connection, sent in one write; the replies in order.
std::vector<redis_reply> redis_pipeline(std::uint16_t port, const std::vector<std::vector<std::string>>& commands,
                                        millis timeout = 5s);

// Waits up to 10 s for a redis process just started (a server or a sentinel) to answer PING with
// PONG through `ping`; false when it exits first or never answers.
bool answers_ping(process& started, const std::function<redis_reply()>& ping);

// A real redis-server on a free loopback port (no persistence, files in the test's directory),
// started as a child process and stopped by PID. stop() then start() brings it back on the same port
// with an empty data set. command() opens a fresh blocking connection per call.
class redis_server {
public:
    // `extra_args` go on redis-server's command line after the harness's own (--replicaof ...,
    // --cluster-enabled yes, ...).
    explicit redis_server(const temp_dir& dir, std::vector<std::string> extra_args = {});
    ~redis_server();
    redis_server(const redis_server&) = delete;
    redis_server& operator=(const redis_server&) = delete;

    std::uint16_t port() const { return port_; }
    std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
    bool running() const { return process_ != nullptr; }
    pid_t pid() const { return process_ ? process_->pid() : -1; }
    // Starts it (again) on port(); returns once it answers PING.
    void start();
    // SIGTERM (SIGKILL after a grace period) and reap; its data is gone.
    void stop();
    // SIGKILL and reap: a crash, as a failover test needs one.
    void kill();
    // The directory it runs in (its nodes.conf in a cluster).
    fs::path workdir() const;
    // SIGSTOP / SIGCONT: the process keeps its sockets but answers nothing while paused.
    void pause();
    void resume();

    redis_reply command(const std::vector<std::string>& args, millis timeout = 2s) const;
    // Several commands on one connection, sent in one write; the replies in order.
    std::vector<redis_reply> pipeline(const std::vector<std::vector<std::string>>& commands,
                                      millis timeout = 5s) const;
    std::optional<std::string> get(const std::string& key) const;
    long long ttl(const std::string& key) const;   // -2 no key, -1 no expiry
    long long pttl(const std::string& key) const;
    std::vector<std::string> keys(const std::string& pattern = "*") const;  // sorted
    // Keys that exist without an expiry (TTL -1).
    std::vector<std::string> keys_without_ttl() const;
    // INFO commandstats as {command -> calls}, command names lower-cased ("evalsha").
    std::map<std::string, long long> command_calls() const;
    void reset_stats() const;  // CONFIG RESETSTAT

private:
    std::uint16_t pick_port() const;

    const temp_dir& dir_;
    std::vector<std::string> extra_args_;
    std::uint16_t port_ = 0;
    int starts_ = 0;
    bool paused_ = false;
    std::unique_ptr<process> process_;
};

}  // namespace it
