#include "harness/redis_sentinel.hpp"

#include "harness/ports.hpp"

#include <stdexcept>

namespace it {

redis_sentinel::redis_sentinel(const temp_dir& dir, std::uint16_t primary_port, std::string master_name,
                               millis down_after, std::string password)
    : master_name_(std::move(master_name)), password_(std::move(password)) {
    const std::string bin = find_in_path("redis-server");
    if (bin.empty()) throw std::runtime_error("redis-server not found in PATH (tools/install-deps.sh installs it)");
    port_ = free_port();
    const std::string stem = "sentinel-" + std::to_string(port_);
    const fs::path workdir = dir.file(stem);
    fs::create_directories(workdir);
    // A sentinel rewrites its config file as it learns the topology: it must be its own, writable.
    const fs::path conf = workdir / "sentinel.conf";
    std::string text = "port " + std::to_string(port_) + "\nbind 127.0.0.1\ndir " + workdir.string() +
                       "\nsentinel monitor " + master_name_ + " 127.0.0.1 " + std::to_string(primary_port) +
                       " 1\nsentinel down-after-milliseconds " + master_name_ + " " +
                       std::to_string(down_after.count()) + "\nsentinel failover-timeout " + master_name_ +
                       " 3000\nsentinel parallel-syncs " + master_name_ + " 1\n";
    if (!password_.empty()) text += "requirepass " + password_ + "\n";
    write_file(conf, text);
    process_ = std::make_unique<process>(std::vector<std::string>{bin, conf.string(), "--sentinel"},
                                         dir.file(stem + ".out"), dir.file(stem + ".err"));
    if (!answers_ping(*process_, [&] { return command({"PING"}, 200ms); })) {
        const std::string why = process_->stdout_text() + process_->stderr_text();
        process_->stop(1s);
        process_.reset();
        throw std::runtime_error("redis sentinel did not start on " + address() + ": " + why);
    }
}

redis_sentinel::~redis_sentinel() {
    try {
        stop();
    } catch (const std::exception&) {
    }
}

void redis_sentinel::stop() {
    if (!process_) return;
    process_->stop(3s);
    process_.reset();
}

redis_reply redis_sentinel::command(const std::vector<std::string>& args, millis timeout) const {
    if (password_.empty()) return redis_command(port_, args, timeout);
    // A sentinel with requirepass: AUTH first, on the same connection.
    std::vector<std::vector<std::string>> commands{{"AUTH", password_}, args};
    redis_reply last;
    for (const auto& reply : redis_pipeline(port_, commands, timeout)) last = reply;
    return last;
}

std::optional<std::string> redis_sentinel::primary() const {
    const auto reply = command({"SENTINEL", "get-master-addr-by-name", master_name_});
    if (reply.type != redis_reply::kind::array || reply.elements.size() != 2) return std::nullopt;
    return reply.elements[0].text + ":" + reply.elements[1].text;
}

bool redis_sentinel::knows_replica(std::uint16_t port) const {
    const auto reply = command({"SENTINEL", "replicas", master_name_});
    if (reply.type != redis_reply::kind::array) return false;
    for (const auto& replica : reply.elements) {
        // A flat list of field names and values.
        std::string replica_port, flags;
        for (std::size_t i = 0; i + 1 < replica.elements.size(); i += 2) {
            if (replica.elements[i].text == "port") replica_port = replica.elements[i + 1].text;
            if (replica.elements[i].text == "flags") flags = replica.elements[i + 1].text;
        }
        if (replica_port == std::to_string(port) && flags == "slave") return true;
    }
    return false;
}

}  // namespace it
