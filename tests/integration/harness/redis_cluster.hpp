// A real Redis Cluster of primaries the test started, and the moves a reshard makes.
#pragma once

#include "harness/basics.hpp"
#include "harness/files_and_processes.hpp"
#include "harness/redis_server.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace it {

// `primaries` redis-servers with cluster-enabled (each its nodes.conf in its own directory of the
// test's), joined with `redis-cli --cluster create ... --cluster-replicas 0 --cluster-yes`; ready
// once every node says cluster_state:ok. Stopped by PID with the servers.
class redis_cluster {
public:
    explicit redis_cluster(const temp_dir& dir, int primaries = 3);
    redis_cluster(const redis_cluster&) = delete;
    redis_cluster& operator=(const redis_cluster&) = delete;

    std::size_t size() const { return nodes_.size(); }
    redis_server& node(std::size_t i) { return *nodes_.at(i); }
    const redis_server& node(std::size_t i) const { return *nodes_.at(i); }
    // "127.0.0.1:port" of every node, for redis.nodes.
    std::vector<std::string> addresses() const;
    std::string node_id(std::size_t i) const;

    // CLUSTER KEYSLOT, as the cluster computes it.
    std::uint16_t slot_of(const std::string& key) const;
    // The node serving `slot` now, by CLUSTER SLOTS as node 0 sees it.
    std::size_t owner_of(std::uint16_t slot) const;
    // A command for `key`, sent to the node serving it.
    redis_reply command_for_key(const std::string& key, const std::vector<std::string>& args) const;
    // DBSIZE of every node.
    std::vector<long long> key_counts() const;

    // A reshard of one slot in the three steps redis-cli's does: IMPORTING on `to` and MIGRATING on
    // the owner; MIGRATE of the slot's keys; SETSLOT NODE on every node.
    void begin_migration(std::uint16_t slot, std::size_t to);
    void migrate_keys(std::uint16_t slot, std::size_t to);
    void finish_migration(std::uint16_t slot, std::size_t to);

private:
    std::vector<std::unique_ptr<redis_server>> nodes_;
};

}  // namespace it
