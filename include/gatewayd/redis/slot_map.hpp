#pragma once

#include "gatewayd/config/host_port.hpp"
#include "gatewayd/redis/key_slot.hpp"
#include "gatewayd/redis/redis_protocol.hpp"

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace gw {

// Which primary serves each of a cluster's 16384 slots (I/O-free): read from CLUSTER SLOTS and
// patched by MOVED until the next read.
class slot_map {
public:
    static constexpr std::uint16_t no_node = 0xFFFF;

    slot_map() : owners_(cluster_slots, no_node) {}

    // CLUSTER SLOTS' reply, as sent by a node on `asked_host`: an empty, "?" or nil host in it means
    // that host. Nothing when the reply is not one (an error, a malformed range or node).
    static std::optional<slot_map> from_cluster_slots(const redis_reply& reply, std::string_view asked_host);

    // Index into nodes() of the primary serving `slot`, or no_node.
    std::uint16_t owner(std::uint16_t slot) const { return owners_[slot]; }
    const std::vector<host_port>& nodes() const { return nodes_; }
    // MOVED: `slot` is served by `node` from now on (added to nodes() when new); its index.
    std::uint16_t move(std::uint16_t slot, const host_port& node);
    // Slots with a primary.
    std::size_t covered() const { return covered_; }
    // Every slot served by the same primary (by address) in both maps.
    bool same_as(const slot_map& other) const;

private:
    std::uint16_t index_of(const host_port& node);

    std::vector<std::uint16_t> owners_;
    std::vector<host_port> nodes_;
    std::size_t covered_ = 0;  // asked on every request: kept, not counted
};

}  // namespace gw
