#include "gatewayd/redis/sentinel_replies.hpp"

#include "gatewayd/redis/redis_node.hpp"

#include <algorithm>

namespace gw {

std::optional<host_port> parse_master_address(const redis_reply& reply) {
    if (reply.type != redis_reply::kind::array || reply.elements.size() != 2) return std::nullopt;
    const auto& host = reply.elements[0];
    const auto& port = reply.elements[1];
    if (host.type != redis_reply::kind::string || host.text.empty() || port.type != redis_reply::kind::string) {
        return std::nullopt;
    }
    return parse_node_address(host.text + ":" + port.text, {});
}

bool is_primary_role(const redis_reply& reply) {
    return reply.type == redis_reply::kind::array && !reply.elements.empty() &&
           reply.elements[0].type == redis_reply::kind::string && reply.elements[0].text == "master";
}

std::string role_name(const redis_reply& reply) {
    if (reply.type != redis_reply::kind::array || reply.elements.empty() ||
        reply.elements[0].type != redis_reply::kind::string) {
        return "?";
    }
    return reply.elements[0].text;
}

std::optional<switch_master> parse_switch_master(const redis_reply& reply) {
    if (reply.type != redis_reply::kind::array || reply.elements.size() != 3) return std::nullopt;
    for (const auto& element : reply.elements) {
        if (element.type != redis_reply::kind::string) return std::nullopt;
    }
    if (reply.elements[0].text != "message" || reply.elements[1].text != "+switch-master") return std::nullopt;
    std::vector<std::string_view> words;
    std::string_view rest = reply.elements[2].text;
    while (!rest.empty()) {
        const auto space = rest.find(' ');
        if (space != 0) words.push_back(rest.substr(0, space));
        if (space == std::string_view::npos) break;
        rest.remove_prefix(space + 1);
    }
    if (words.size() != 5) return std::nullopt;
    auto from = parse_node_address(std::string(words[1]) + ":" + std::string(words[2]), {});
    auto to = parse_node_address(std::string(words[3]) + ":" + std::string(words[4]), {});
    if (!from || !to) return std::nullopt;
    return switch_master{std::string(words[0]), std::move(*from), std::move(*to)};
}

void sentinel_rotation::answered(std::size_t index) {
    if (index == 0 || index >= order_.size()) return;
    std::rotate(order_.begin(), order_.begin() + static_cast<std::ptrdiff_t>(index),
                order_.begin() + static_cast<std::ptrdiff_t>(index) + 1);
}

}  // namespace gw
