#pragma once

// Replies as the connection would hand them to the pure Redis decisions, built by hand so that
// those decisions are tested without a server.

#include "gatewayd/redis/redis_protocol.hpp"

#include <string>
#include <utility>
#include <vector>

namespace gw::test {

inline redis_reply text(std::string value) {
    redis_reply reply;
    reply.type = redis_reply::kind::string;
    reply.text = std::move(value);
    return reply;
}

inline redis_reply integer(long long value) {
    redis_reply reply;
    reply.type = redis_reply::kind::integer;
    reply.integer = value;
    return reply;
}

inline redis_reply array(std::vector<redis_reply> elements) {
    redis_reply reply;
    reply.type = redis_reply::kind::array;
    reply.elements = std::move(elements);
    return reply;
}

inline redis_reply error(std::string message) {
    redis_reply reply;
    reply.type = redis_reply::kind::error;
    reply.text = std::move(message);
    return reply;
}

}  // namespace gw::test
