#pragma once

#include "gatewayd/config/host_port.hpp"
#include "gatewayd/redis/redis_protocol.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gw {

// SENTINEL get-master-addr-by-name's reply: [host, port]; nothing for nil (a name the sentinel
// does not monitor), an error or anything else.
std::optional<host_port> parse_master_address(const redis_reply& reply);

// ROLE's reply, by its first element: the node is a primary ("master").
bool is_primary_role(const redis_reply& reply);
// The role ROLE names ("master", "slave", "sentinel"), or "?" for a reply that names none.
std::string role_name(const redis_reply& reply);

// A +switch-master event as a sentinel publishes it: ["message", "+switch-master",
// "<name> <old-host> <old-port> <new-host> <new-port>"].
struct switch_master {
    std::string name;
    host_port from;
    host_port to;
};
std::optional<switch_master> parse_switch_master(const redis_reply& reply);

// The order the sentinels are asked in: one that answered is asked first from then on (as the
// Sentinel client guidelines say), the others keep their order.
class sentinel_rotation {
public:
    explicit sentinel_rotation(std::vector<host_port> sentinels) : order_(std::move(sentinels)) {}

    const std::vector<host_port>& order() const { return order_; }
    // order()[index] answered.
    void answered(std::size_t index);

private:
    std::vector<host_port> order_;
};

}  // namespace gw
