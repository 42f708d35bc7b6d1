#pragma once

#include "gatewayd/config/host_port.hpp"
#include "gatewayd/redis/redis_protocol.hpp"

#include <cstdint>
#include <optional>
#include <string_view>

namespace gw {

// What an error reply asks of a client, by the first word Redis writes.
struct redis_error {
    enum class kind {
        none,         // not an error reply
        moved,        // MOVED <slot> <host>:<port>: the slot lives there now
        ask,          // ASK <slot> <host>:<port>: this once, ASKING there (a slot being migrated)
        tryagain,     // TRYAGAIN: a multi-key command during a migration; later
        clusterdown,  // CLUSTERDOWN: the cluster cannot serve the slot
        noscript,     // NOSCRIPT: the node does not know the script (yet)
        readonly,     // READONLY: a replica answered (the primary moved)
        other,
    };
    kind what = kind::none;
    std::uint16_t slot = 0;  // moved, ask
    host_port target;        // moved, ask
};

// Reads `reply`; `asked_host` is the host the command went to (an empty host in MOVED means it).
// A MOVED or ASK that does not parse is `other`.
redis_error classify_error(const redis_reply& reply, std::string_view asked_host);

}  // namespace gw
