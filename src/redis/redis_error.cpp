#include "gatewayd/redis/redis_error.hpp"

#include "gatewayd/redis/key_slot.hpp"
#include "gatewayd/redis/redis_node.hpp"

#include <algorithm>
#include <charconv>

namespace gw {

namespace {

// "<slot> <host>:<port>", the rest of a MOVED or ASK.
bool read_redirect(std::string_view rest, std::string_view asked_host, redis_error& out) {
    const auto space = rest.find(' ');
    if (space == std::string_view::npos) return false;
    const std::string_view slot_text = rest.substr(0, space);
    unsigned slot = 0;
    const auto [end, ec] = std::from_chars(slot_text.data(), slot_text.data() + slot_text.size(), slot);
    if (slot_text.empty() || ec != std::errc{} || end != slot_text.data() + slot_text.size() || slot >= cluster_slots) {
        return false;
    }
    auto target = parse_node_address(rest.substr(space + 1), asked_host);
    if (!target) return false;
    out.slot = static_cast<std::uint16_t>(slot);
    out.target = std::move(*target);
    return true;
}

bool first_word_is(std::string_view text, std::string_view word) {
    return text.starts_with(word) && (text.size() == word.size() || text[word.size()] == ' ');
}

// What follows the first word and its space ("" when nothing does).
std::string_view after_first_word(std::string_view text, std::string_view word) {
    return text.substr(std::min(text.size(), word.size() + 1));
}

}  // namespace

redis_error classify_error(const redis_reply& reply, std::string_view asked_host) {
    redis_error out;
    if (reply.type != redis_reply::kind::error) return out;
    const std::string_view text = reply.text;
    out.what = redis_error::kind::other;
    if (first_word_is(text, "MOVED")) {
        if (read_redirect(after_first_word(text, "MOVED"), asked_host, out)) out.what = redis_error::kind::moved;
    } else if (first_word_is(text, "ASK")) {
        if (read_redirect(after_first_word(text, "ASK"), asked_host, out)) out.what = redis_error::kind::ask;
    } else if (first_word_is(text, "TRYAGAIN")) {
        out.what = redis_error::kind::tryagain;
    } else if (first_word_is(text, "CLUSTERDOWN")) {
        out.what = redis_error::kind::clusterdown;
    } else if (first_word_is(text, "NOSCRIPT")) {
        out.what = redis_error::kind::noscript;
    } else if (first_word_is(text, "READONLY")) {
        out.what = redis_error::kind::readonly;
    }
    return out;
}

}  // namespace gw
