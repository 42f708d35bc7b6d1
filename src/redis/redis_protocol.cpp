#include "gatewayd/redis/redis_protocol.hpp"

#include <hiredis/hiredis.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdlib>
#include <memory>

namespace gw {

namespace {

redis_reply::kind string_kind(int type) {
    switch (type) {
    case REDIS_REPLY_STATUS: return redis_reply::kind::status;
    case REDIS_REPLY_ERROR: return redis_reply::kind::error;
    default: return redis_reply::kind::string;
    }
}

// hiredis builds each reply through these instead of its own redisReply objects, which cost
// one malloc per element plus the array and a copy into redis_reply afterwards (four per rate
// limiter reply). Only the root is allocated (with operator new, whose per-thread free lists
// make it no malloc in steady state); elements live in their parent's vector. Children arrive
// in index order and an array is complete before its next sibling starts, so a vector growing
// never moves an element hiredis still points at. None of these may throw through hiredis's
// C frames: a failure is a null, which hiredis reports as out of memory.
//
// A reply of `type` as the root or as the next element of its parent, then `fill(reply)`. A
// root that cannot be filled is deleted here; a child is freed with its root by hiredis.
template <class Fill>
void* place_reply(const redisReadTask* task, redis_reply::kind type, Fill fill) noexcept {
    try {
        if (task->parent == nullptr) {
            auto root = std::make_unique<redis_reply>();
            root->type = type;
            fill(*root);
            return root.release();
        }
        auto& siblings = static_cast<redis_reply*>(task->parent->obj)->elements;
        redis_reply& child = siblings.emplace_back();
        child.type = type;
        fill(child);
        return &child;
    } catch (...) {
        return nullptr;
    }
}

void* create_string(const redisReadTask* task, char* text, std::size_t size) {
    return place_reply(task, string_kind(task->type), [&](redis_reply& reply) { reply.text.assign(text, size); });
}

void* create_array(const redisReadTask* task, int elements) {
    // Reserved up to a small count only: a header may announce more than ever arrives.
    constexpr int reserved_at_most = 16;
    return place_reply(task, redis_reply::kind::array, [&](redis_reply& reply) {
        reply.elements.reserve(static_cast<std::size_t>(std::clamp(elements, 0, reserved_at_most)));
    });
}

void* create_integer(const redisReadTask* task, long long value) {
    return place_reply(task, redis_reply::kind::integer, [&](redis_reply& reply) { reply.integer = value; });
}

void* create_nil(const redisReadTask* task) {
    return place_reply(task, redis_reply::kind::nil, [](redis_reply&) {});
}

// hiredis frees only roots (a finished reply not taken, or one cut short by an error).
void free_reply(void* root) { delete static_cast<redis_reply*>(root); }

redisReplyObjectFunctions reply_functions{create_string, create_array, create_integer, create_nil, free_reply};

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

namespace {

// "<prefix><n>\r\n", the header of an array or of a bulk string, written at `at`.
char* write_length(char* at, char prefix, std::size_t n) {
    *at++ = prefix;
    at = std::to_chars(at, at + 20, n).ptr;
    *at++ = '\r';
    *at++ = '\n';
    return at;
}

constexpr std::size_t max_length_header = 1 + 20 + 2;

}  // namespace

void append_command(std::string& out, std::span<const std::string_view> args) {
    // One growth of the string at most, then the bytes written in place.
    std::size_t most = max_length_header;
    for (const auto arg : args) most += max_length_header + arg.size() + 2;
    const std::size_t start = out.size();
    out.resize(start + most);
    char* at = write_length(out.data() + start, '*', args.size());
    for (const auto arg : args) {
        at = write_length(at, '$', arg.size());
        at = std::copy(arg.begin(), arg.end(), at);
        *at++ = '\r';
        *at++ = '\n';
    }
    out.resize(static_cast<std::size_t>(at - out.data()));
}

reply_reader::reply_reader() : reader_(redisReaderCreateWithFunctions(&reply_functions)) {}

reply_reader::~reply_reader() { redisReaderFree(reader_); }

std::size_t oversized_array_header_at(std::string_view bytes) {
    constexpr std::size_t too_many_digits = 7;  // 1,000,000 elements and more
    for (auto star = bytes.find('*'); star != std::string_view::npos; star = bytes.find('*', star + 1)) {
        std::size_t digits = 0;
        while (star + 1 + digits < bytes.size() && bytes[star + 1 + digits] >= '0' && bytes[star + 1 + digits] <= '9') {
            ++digits;
        }
        if (digits >= too_many_digits) return star;
    }
    return std::string_view::npos;
}

bool has_oversized_array_header(std::string_view bytes) {
    return oversized_array_header_at(bytes) != std::string_view::npos;
}

bool reply_reader::feed(std::string_view bytes) {
    if (failed_ || refused_) return false;
    constexpr std::size_t kept = 15;  // within std::string's inline buffer
    // The previous feed's last bytes before this one's first: a header split across two feeds.
    std::array<char, 2 * kept> seam{};
    const std::size_t head = std::min(bytes.size(), kept);
    std::copy(tail_.begin(), tail_.end(), seam.begin());
    std::copy_n(bytes.begin(), head, seam.begin() + static_cast<std::ptrdiff_t>(tail_.size()));
    // hiredis gets exactly the bytes before an oversized header's seventh digit, wherever the
    // feeds were split, so the replies before it and the failure are the same for any split.
    constexpr std::size_t seventh_digit = 7;  // offset from the '*'
    if (const auto at = oversized_array_header_at({seam.data(), tail_.size() + head}); at < tail_.size()) {
        bytes = bytes.substr(0, at + seventh_digit - tail_.size());
        refused_ = true;
    } else if (const auto in_bytes = oversized_array_header_at(bytes); in_bytes != std::string_view::npos) {
        bytes = bytes.substr(0, in_bytes + seventh_digit);
        refused_ = true;
    }
    if (bytes.size() >= kept) {
        tail_.assign(bytes.substr(bytes.size() - kept));
    } else {
        tail_.append(bytes);
        if (tail_.size() > kept) tail_.erase(0, tail_.size() - kept);
    }
    if (!bytes.empty() && redisReaderFeed(reader_, bytes.data(), bytes.size()) != REDIS_OK) failed_ = true;
    return !failed_ && !refused_;
}

std::optional<redis_reply> reply_reader::next() {
    void* raw = nullptr;
    if (failed_ || redisReaderGetReply(reader_, &raw) != REDIS_OK) {
        failed_ = true;
        return std::nullopt;
    }
    if (raw == nullptr) {
        if (refused_) failed_ = true;
        return std::nullopt;
    }
    const std::unique_ptr<redis_reply> reply(static_cast<redis_reply*>(raw));
    return std::move(*reply);
}

bool is_noscript(const redis_reply& reply) {
    return reply.type == redis_reply::kind::error && reply.text.starts_with("NOSCRIPT");
}

bool is_pubsub_message(const redis_reply& reply) {
    if (reply.type != redis_reply::kind::array || reply.elements.size() < 3) return false;
    const auto& kind = reply.elements[0];
    return kind.type == redis_reply::kind::string && (kind.text == "message" || kind.text == "pmessage");
}

}  // namespace gw
