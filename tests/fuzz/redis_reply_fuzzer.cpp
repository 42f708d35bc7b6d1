// The Redis reply reader fed arbitrary bytes: never crash, and the replies (and whether the
// stream is refused) are the same whatever the split into reads. Input: byte 1 seeds the split,
// the rest is the stream. The same bytes split on '\n' are also sent as a command, whose RESP
// encoding must read back as the array of its arguments. Every reply also goes through what the
// cluster and sentinel clients read from replies (redirects, slot maps, sentinel answers), whose
// results must stay in range. The reader builds replies itself; hiredis's own reply objects, read
// from the same bytes, must give the same replies.
#include "fuzz_check.hpp"

#include "gatewayd/limit/limit_script.hpp"
#include "gatewayd/redis/key_slot.hpp"
#include "gatewayd/redis/redirect_policy.hpp"
#include "gatewayd/redis/redis_protocol.hpp"
#include "gatewayd/redis/sentinel_replies.hpp"
#include "gatewayd/redis/slot_map.hpp"

#include <hiredis/hiredis.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace {

struct decoded {
    std::vector<gw::redis_reply> replies;
    bool failed = false;
};

bool same(const gw::redis_reply& a, const gw::redis_reply& b) {
    if (a.type != b.type || a.integer != b.integer || a.text != b.text || a.elements.size() != b.elements.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.elements.size(); ++i) {
        if (!same(a.elements[i], b.elements[i])) return false;
    }
    return true;
}

bool same(const decoded& a, const decoded& b) {
    if (a.failed != b.failed || a.replies.size() != b.replies.size()) return false;
    for (std::size_t i = 0; i < a.replies.size(); ++i) {
        if (!same(a.replies[i], b.replies[i])) return false;
    }
    return true;
}

bool valid_node(const gw::host_port& node) { return node.port != 0 && !node.host.empty(); }

// What the cluster and sentinel clients read from a reply.
void check_topology_readers(const gw::redis_reply& reply) {
    const auto error = gw::classify_error(reply, "10.0.0.1");
    if (error.what == gw::redis_error::kind::moved || error.what == gw::redis_error::kind::ask) {
        FUZZ_CHECK(error.slot < gw::cluster_slots && valid_node(error.target));
    }
    gw::redirect_policy policy;
    for (int i = 0; i < 8; ++i) {
        const auto step = policy.next(reply, "10.0.0.1");
        FUZZ_CHECK(policy.redirects() <= gw::redirect_policy::max_redirects + 1);
        if (step.what == gw::redirect_step::action::done || step.what == gw::redirect_step::action::store_error) break;
    }
    if (const auto map = gw::slot_map::from_cluster_slots(reply, "10.0.0.1")) {
        FUZZ_CHECK(map->covered() <= gw::cluster_slots);
        for (std::uint16_t slot = 0; slot < gw::cluster_slots; slot += 97) {
            const auto owner = map->owner(slot);
            FUZZ_CHECK(owner == gw::slot_map::no_node || (owner < map->nodes().size() && valid_node(map->nodes()[owner])));
        }
    }
    if (const auto primary = gw::parse_master_address(reply)) FUZZ_CHECK(valid_node(*primary));
    if (const auto change = gw::parse_switch_master(reply)) FUZZ_CHECK(valid_node(change->from) && valid_node(change->to));
    (void)gw::is_primary_role(reply);
    (void)gw::is_pubsub_message(reply);
    if (reply.type == gw::redis_reply::kind::string) FUZZ_CHECK(gw::key_slot(reply.text) < gw::cluster_slots);
}

void drain(gw::reply_reader& reader, decoded& out) {
    while (auto reply = reader.next()) {
        // What the rate limiter does with every reply it gets.
        gw::limit_verdicts verdicts;
        (void)gw::decode_limit_reply(*reply, 1, verdicts);
        (void)gw::decode_limit_reply(*reply, 2, verdicts);
        (void)gw::is_noscript(*reply);
        check_topology_readers(*reply);
        out.replies.push_back(std::move(*reply));
    }
    out.failed = out.failed || reader.failed();
}

// Feeds `stream` in chunks of the given sizes (cycled), taking replies out after each read as
// the client does.
decoded decode(std::string_view stream, const std::vector<std::size_t>& chunks) {
    gw::reply_reader reader;
    decoded out;
    for (std::size_t i = 0; !stream.empty() && !out.failed; ++i) {
        const std::size_t n = std::min(stream.size(), chunks[i % chunks.size()]);
        if (!reader.feed(stream.substr(0, n))) out.failed = true;
        stream.remove_prefix(n);
        drain(reader, out);
    }
    drain(reader, out);
    return out;
}

gw::redis_reply from_hiredis(const redisReply& raw) {
    gw::redis_reply out;
    switch (raw.type) {
    case REDIS_REPLY_STATUS: out.type = gw::redis_reply::kind::status; break;
    case REDIS_REPLY_ERROR: out.type = gw::redis_reply::kind::error; break;
    case REDIS_REPLY_INTEGER: out.type = gw::redis_reply::kind::integer; break;
    case REDIS_REPLY_STRING: out.type = gw::redis_reply::kind::string; break;
    case REDIS_REPLY_ARRAY: out.type = gw::redis_reply::kind::array; break;
    default: out.type = gw::redis_reply::kind::nil; break;
    }
    out.integer = raw.integer;
    if (raw.str != nullptr) out.text.assign(raw.str, raw.len);
    for (std::size_t i = 0; i < raw.elements; ++i) out.elements.push_back(from_hiredis(*raw.element[i]));
    return out;
}

// The same stream through hiredis's default reply objects, in one feed.
decoded decode_with_hiredis_objects(std::string_view stream) {
    decoded out;
    redisReader* reader = redisReaderCreate();
    if (!stream.empty() && redisReaderFeed(reader, stream.data(), stream.size()) != REDIS_OK) out.failed = true;
    for (void* raw = nullptr; !out.failed;) {
        if (redisReaderGetReply(reader, &raw) != REDIS_OK) {
            out.failed = true;
        } else if (raw == nullptr) {
            break;
        } else {
            out.replies.push_back(from_hiredis(*static_cast<redisReply*>(raw)));
            freeReplyObject(raw);
        }
    }
    redisReaderFree(reader);
    return out;
}

std::vector<std::size_t> split_from(std::uint8_t seed) {
    std::vector<std::size_t> chunks;
    std::uint32_t state = seed * 2654435761u + 1;
    for (int i = 0; i < 16; ++i) {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        chunks.push_back(1 + state % 24);
    }
    return chunks;
}

void check_command_round_trip(std::string_view text) {
    std::vector<std::string_view> args;
    while (!text.empty() && args.size() < 32) {
        const auto end = text.find('\n');
        args.push_back(text.substr(0, end));
        text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    }
    if (args.empty()) return;
    const std::string command = gw::format_command(args);
    // The reader refuses any "*<7+ digits>" without parsing around it (hiredis would allocate
    // that many elements); our replies never hold such text, a fuzzed bulk string may.
    if (gw::has_oversized_array_header(command)) return;
    gw::reply_reader reader;
    FUZZ_CHECK(reader.feed(command));
    const auto reply = reader.next();
    FUZZ_CHECK(reply && reply->type == gw::redis_reply::kind::array && reply->elements.size() == args.size());
    for (std::size_t i = 0; i < args.size(); ++i) {
        FUZZ_CHECK(reply->elements[i].type == gw::redis_reply::kind::string && reply->elements[i].text == args[i]);
    }
    FUZZ_CHECK(!reader.next() && !reader.failed());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::string_view stream{reinterpret_cast<const char*>(data) + 1, size - 1};
    const decoded whole = decode(stream, {stream.size() + 1});
    const decoded byte_by_byte = decode(stream, {1});
    const decoded split = decode(stream, split_from(data[0]));
    FUZZ_CHECK(same(whole, byte_by_byte));
    FUZZ_CHECK(same(whole, split));
    // hiredis's objects are the reference only where the reader does not refuse the stream first.
    if (!gw::has_oversized_array_header(stream)) FUZZ_CHECK(same(whole, decode_with_hiredis_objects(stream)));
    check_command_round_trip(stream);
    return 0;
}
