#include "gatewayd/redis_protocol.hpp"

#include <hiredis/hiredis.h>

#include <cstdlib>

namespace gw {

const std::string_view window_script =
    "local count = redis.call('INCR', KEYS[1]) "
    "local ttl = redis.call('PTTL', KEYS[1]) "
    "if count == 1 or ttl < 0 then "
    "redis.call('PEXPIRE', KEYS[1], ARGV[1]) ttl = tonumber(ARGV[1]) end "
    "return {count, ttl}";

namespace {

redis_reply copy_reply(const redisReply& raw) {
    redis_reply out;
    switch (raw.type) {
    case REDIS_REPLY_STATUS: out.type = redis_reply::kind::status; break;
    case REDIS_REPLY_ERROR: out.type = redis_reply::kind::error; break;
    case REDIS_REPLY_INTEGER: out.type = redis_reply::kind::integer; break;
    case REDIS_REPLY_STRING: out.type = redis_reply::kind::string; break;
    case REDIS_REPLY_ARRAY: out.type = redis_reply::kind::array; break;
    default: out.type = redis_reply::kind::nil; break;
    }
    out.integer = raw.integer;
    if (raw.str != nullptr) out.text.assign(raw.str, raw.len);
    for (std::size_t i = 0; i < raw.elements; ++i) out.elements.push_back(copy_reply(*raw.element[i]));
    return out;
}

}  // namespace

std::string format_command(const std::vector<std::string_view>& args) {
    std::vector<const char*> argv;
    std::vector<std::size_t> lengths;
    for (const auto arg : args) {
        argv.push_back(arg.data());
        lengths.push_back(arg.size());
    }
    char* formatted = nullptr;
    const int size = redisFormatCommandArgv(&formatted, static_cast<int>(args.size()), argv.data(), lengths.data());
    if (size < 0 || formatted == nullptr) return {};
    std::string command(formatted, static_cast<std::size_t>(size));
    std::free(formatted);
    return command;
}

reply_reader::reply_reader() : reader_(redisReaderCreate()) {}

reply_reader::~reply_reader() { redisReaderFree(reader_); }

bool reply_reader::feed(std::string_view bytes) {
    if (redisReaderFeed(reader_, bytes.data(), bytes.size()) != REDIS_OK) failed_ = true;
    return !failed_;
}

std::optional<redis_reply> reply_reader::next() {
    void* raw = nullptr;
    if (failed_ || redisReaderGetReply(reader_, &raw) != REDIS_OK) {
        failed_ = true;
        return std::nullopt;
    }
    if (raw == nullptr) return std::nullopt;
    auto reply = copy_reply(*static_cast<redisReply*>(raw));
    freeReplyObject(raw);
    return reply;
}

std::optional<window_count> decode_window_reply(const redis_reply& reply) {
    if (reply.type != redis_reply::kind::array || reply.elements.size() != 2) return std::nullopt;
    const auto& count = reply.elements[0];
    const auto& ttl = reply.elements[1];
    if (count.type != redis_reply::kind::integer || ttl.type != redis_reply::kind::integer) return std::nullopt;
    if (count.integer < 1) return std::nullopt;
    return window_count{static_cast<std::uint64_t>(count.integer), std::chrono::milliseconds(ttl.integer)};
}

bool is_noscript(const redis_reply& reply) {
    return reply.type == redis_reply::kind::error && reply.text.starts_with("NOSCRIPT");
}

}  // namespace gw
