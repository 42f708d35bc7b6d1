#include "harness/redis_server.hpp"

#include "harness/internal.hpp"
#include "harness/ports.hpp"

#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <regex>
#include <stdexcept>
#include <string_view>

namespace it {

using internal::fail_errno;
using internal::loopback;
using internal::to_lower;
using internal::to_timeval;

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

redis_reply redis_command(std::uint16_t port, const std::vector<std::string>& args, millis timeout) {
    resp_connection connection(port, timeout);
    return connection.call(args);
}

std::vector<redis_reply> redis_pipeline(std::uint16_t port, const std::vector<std::vector<std::string>>& commands,
                                        millis timeout) {
    resp_connection connection(port, timeout);
    return connection.call_all(commands);
}

redis_server::redis_server(const temp_dir& dir, std::vector<std::string> extra_args)
    : dir_(dir), extra_args_(std::move(extra_args)) {
    port_ = pick_port();
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
        const fs::path where = workdir();
        fs::create_directories(where);
        const std::string stem = "redis-" + std::to_string(port_) + "-" + std::to_string(n);
        std::vector<std::string> argv{bin,      "--port",       std::to_string(port_), "--bind",
                                      "127.0.0.1", "--save",    "",                    "--appendonly",
                                      "no",     "--dir",        where.string(),        "--daemonize",
                                      "no"};
        argv.insert(argv.end(), extra_args_.begin(), extra_args_.end());
        process_ = std::make_unique<process>(argv, dir_.file(stem + ".out"), dir_.file(stem + ".err"));
        if (answers_ping(*process_, [&] { return command({"PING"}, 200ms); })) return;
        const std::string why = process_->stdout_text() + process_->stderr_text();
        process_->stop(1s);
        process_.reset();
        if (first && attempt < 2 && why.find("in use") != std::string::npos) {
            port_ = pick_port();  // someone took the free port first: only a first start may move
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

void redis_server::kill() {
    if (!process_) return;
    process_->send_signal(SIGKILL);
    process_->wait_exit(5s);
    process_.reset();
    paused_ = false;
}

// A cluster node also listens on its port + 10000 (the cluster bus).
std::uint16_t redis_server::pick_port() const {
    const bool cluster = std::find(extra_args_.begin(), extra_args_.end(), "--cluster-enabled") != extra_args_.end();
    return cluster ? free_port_pair(10000) : free_port();
}

fs::path redis_server::workdir() const { return dir_.file("redis-" + std::to_string(port_)); }

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

bool answers_ping(process& started, const std::function<redis_reply()>& ping) {
    const bool up = wait_until(
        [&] {
            if (started.exited()) return true;
            try {
                const auto pong = ping();
                return pong.type == redis_reply::kind::status && pong.text == "PONG";
            } catch (const std::exception&) {
                return false;
            }
        },
        10s, 10ms);
    return up && !started.exited();
}

redis_reply redis_server::command(const std::vector<std::string>& args, millis timeout) const {
    return redis_command(port_, args, timeout);
}

std::vector<redis_reply> redis_server::pipeline(const std::vector<std::vector<std::string>>& commands,
                                               millis timeout) const {
    return redis_pipeline(port_, commands, timeout);
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

}  // namespace it
