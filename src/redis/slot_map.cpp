#include "gatewayd/redis/slot_map.hpp"

#include "gatewayd/redis/redis_node.hpp"

#include <algorithm>

namespace gw {

namespace {

// A node entry of CLUSTER SLOTS: [host, port, id, ...]; the host may be empty, "?" or nil
// (unknown endpoint: the host of the node asked).
std::optional<host_port> read_node(const redis_reply& entry, std::string_view asked_host) {
    if (entry.type != redis_reply::kind::array || entry.elements.size() < 2) return std::nullopt;
    const auto& host = entry.elements[0];
    const auto& port = entry.elements[1];
    if (port.type != redis_reply::kind::integer || port.integer < 1 || port.integer > 65535) return std::nullopt;
    std::string_view name;
    if (host.type == redis_reply::kind::string) {
        name = host.text;
    } else if (host.type != redis_reply::kind::nil) {
        return std::nullopt;
    }
    if (name == "?") name = {};
    return parse_node_address(std::string(name) + ":" + std::to_string(port.integer), asked_host);
}

}  // namespace

std::optional<slot_map> slot_map::from_cluster_slots(const redis_reply& reply, std::string_view asked_host) {
    if (reply.type != redis_reply::kind::array) return std::nullopt;
    slot_map map;
    for (const auto& range : reply.elements) {
        if (range.type != redis_reply::kind::array || range.elements.size() < 3) return std::nullopt;
        const auto& first = range.elements[0];
        const auto& last = range.elements[1];
        if (first.type != redis_reply::kind::integer || last.type != redis_reply::kind::integer ||
            first.integer < 0 || last.integer < first.integer || last.integer >= cluster_slots) {
            return std::nullopt;
        }
        // The primary comes first; replicas after it are not ours to write to.
        const auto primary = read_node(range.elements[2], asked_host);
        if (!primary) return std::nullopt;
        const std::uint16_t index = map.index_of(*primary);
        std::fill(map.owners_.begin() + first.integer, map.owners_.begin() + last.integer + 1, index);
    }
    map.covered_ = static_cast<std::size_t>(
        std::count_if(map.owners_.begin(), map.owners_.end(), [](auto o) { return o != no_node; }));
    return map;
}

std::uint16_t slot_map::index_of(const host_port& node) {
    const auto found = std::find(nodes_.begin(), nodes_.end(), node);
    if (found != nodes_.end()) return static_cast<std::uint16_t>(found - nodes_.begin());
    nodes_.push_back(node);
    return static_cast<std::uint16_t>(nodes_.size() - 1);
}

std::uint16_t slot_map::move(std::uint16_t slot, const host_port& node) {
    const std::uint16_t index = index_of(node);
    if (owners_[slot] == no_node) ++covered_;
    owners_[slot] = index;
    return index;
}

bool slot_map::same_as(const slot_map& other) const {
    for (std::size_t slot = 0; slot < owners_.size(); ++slot) {
        const auto mine = owners_[slot];
        const auto theirs = other.owners_[slot];
        if ((mine == no_node) != (theirs == no_node)) return false;
        if (mine != no_node && nodes_[mine] != other.nodes_[theirs]) return false;
    }
    return true;
}

}  // namespace gw
