#include "harness/redis_cluster.hpp"

#include <stdexcept>

namespace it {

namespace {

void expect_ok(const redis_reply& reply, const std::string& what) {
    if (reply.type == redis_reply::kind::error) throw std::runtime_error(what + ": " + reply.text);
}

}  // namespace

redis_cluster::redis_cluster(const temp_dir& dir, int primaries) {
    for (int i = 0; i < primaries; ++i) {
        nodes_.push_back(std::make_unique<redis_server>(
            dir, std::vector<std::string>{"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                                          "--cluster-node-timeout", "2000"}));
    }
    const std::string cli = find_in_path("redis-cli");
    if (cli.empty()) throw std::runtime_error("redis-cli not found in PATH (tools/install-deps.sh installs it)");
    std::vector<std::string> argv{cli, "--cluster", "create"};
    for (const auto& address : addresses()) argv.push_back(address);
    argv.insert(argv.end(), {"--cluster-replicas", "0", "--cluster-yes"});
    const auto created = run_to_exit(dir, argv, 60s);
    if (!created.status.exited || created.status.code != 0) {
        throw std::runtime_error("redis-cli --cluster create failed: " + created.out + created.err);
    }
    const bool ok = wait_until(
        [&] {
            for (const auto& node : nodes_) {
                const auto info = node->command({"CLUSTER", "INFO"});
                if (info.text.find("cluster_state:ok") == std::string::npos) return false;
            }
            return true;
        },
        30s, 50ms);
    if (!ok) throw std::runtime_error("the cluster did not reach cluster_state:ok");
}

std::vector<std::string> redis_cluster::addresses() const {
    std::vector<std::string> out;
    for (const auto& node : nodes_) out.push_back(node->address());
    return out;
}

std::string redis_cluster::node_id(std::size_t i) const { return node(i).command({"CLUSTER", "MYID"}).text; }

std::uint16_t redis_cluster::slot_of(const std::string& key) const {
    const auto reply = node(0).command({"CLUSTER", "KEYSLOT", key});
    expect_ok(reply, "CLUSTER KEYSLOT");
    return static_cast<std::uint16_t>(reply.integer);
}

std::size_t redis_cluster::owner_of(std::uint16_t slot) const {
    const auto reply = node(0).command({"CLUSTER", "SLOTS"});
    expect_ok(reply, "CLUSTER SLOTS");
    for (const auto& range : reply.elements) {
        if (range.elements.size() < 3) continue;
        if (slot < range.elements[0].integer || slot > range.elements[1].integer) continue;
        const auto port = range.elements[2].elements.at(1).integer;
        for (std::size_t i = 0; i < nodes_.size(); ++i) {
            if (nodes_[i]->port() == port) return i;
        }
    }
    throw std::runtime_error("no node serves slot " + std::to_string(slot));
}

redis_reply redis_cluster::command_for_key(const std::string& key, const std::vector<std::string>& args) const {
    return node(owner_of(slot_of(key))).command(args);
}

std::vector<long long> redis_cluster::key_counts() const {
    std::vector<long long> counts;
    for (const auto& node : nodes_) counts.push_back(node->command({"DBSIZE"}).integer);
    return counts;
}

void redis_cluster::begin_migration(std::uint16_t slot, std::size_t to) {
    const std::size_t from = owner_of(slot);
    const std::string s = std::to_string(slot);
    expect_ok(node(to).command({"CLUSTER", "SETSLOT", s, "IMPORTING", node_id(from)}), "SETSLOT IMPORTING");
    expect_ok(node(from).command({"CLUSTER", "SETSLOT", s, "MIGRATING", node_id(to)}), "SETSLOT MIGRATING");
}

void redis_cluster::migrate_keys(std::uint16_t slot, std::size_t to) {
    const std::size_t from = owner_of(slot);
    for (;;) {
        const auto keys = node(from).command({"CLUSTER", "GETKEYSINSLOT", std::to_string(slot), "100"});
        expect_ok(keys, "GETKEYSINSLOT");
        if (keys.elements.empty()) return;
        std::vector<std::string> migrate{"MIGRATE", "127.0.0.1", std::to_string(node(to).port()), "", "0", "5000",
                                         "KEYS"};
        for (const auto& key : keys.elements) migrate.push_back(key.text);
        expect_ok(node(from).command(migrate, 10s), "MIGRATE");
    }
}

void redis_cluster::finish_migration(std::uint16_t slot, std::size_t to) {
    const std::string s = std::to_string(slot);
    const std::string id = node_id(to);
    // The new owner first, then the old one, then the rest (as redis-cli does).
    const std::size_t from = owner_of(slot);  // before any node is told
    expect_ok(node(to).command({"CLUSTER", "SETSLOT", s, "NODE", id}), "SETSLOT NODE (new owner)");
    expect_ok(node(from).command({"CLUSTER", "SETSLOT", s, "NODE", id}), "SETSLOT NODE (old owner)");
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
        if (i != to && i != from) expect_ok(node(i).command({"CLUSTER", "SETSLOT", s, "NODE", id}), "SETSLOT NODE");
    }
}

}  // namespace it
