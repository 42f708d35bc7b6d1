#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

struct redisReader;

namespace gw {

// A Redis reply, copied out of hiredis's reader so that it can outlive the parse.
struct redis_reply {
    enum class kind { status, error, integer, string, array, nil };
    kind type = kind::nil;
    long long integer = 0;
    std::string text;  // status, error or string
    std::vector<redis_reply> elements;
};

// RESP encoding of one command (hiredis's formatter).
std::string format_command(const std::vector<std::string_view>& args);

// The same encoding appended to `out`, without hiredis's temporary arrays and sprintf: the rate
// limiter sends one command per request.
void append_command(std::string& out, std::span<const std::string_view> args);

// Feeds bytes from the socket in, takes whole replies out, in order (hiredis's reader).
class reply_reader {
public:
    reply_reader();
    ~reply_reader();
    reply_reader(const reply_reader&) = delete;
    reply_reader& operator=(const reply_reader&) = delete;

    // False when the stream is not valid RESP: the connection must be dropped.
    bool feed(std::string_view bytes);
    // The next complete reply, if one has arrived; sets failed() on a protocol error.
    std::optional<redis_reply> next();
    bool failed() const { return failed_ || refused_; }

private:
    redisReader* reader_;
    bool failed_ = false;
    bool refused_ = false;  // an oversized array header came: fail once the replies before it are out
    std::string tail_;  // the last bytes fed, so a header split across feeds is still seen
};

// An array header ("*N") of a million elements or more anywhere in `bytes`. hiredis 0.14
// allocates an array header's elements before they arrive (found by the Redis reply fuzzer:
// "*404444444" asks for 3 GB); our replies have at most a few elements, so such a header means
// the stream is not one of ours.
bool has_oversized_array_header(std::string_view bytes);

// Redis forgot the script (restart, SCRIPT FLUSH): EVAL it again.
bool is_noscript(const redis_reply& reply);

// A message a subscribed connection gets without asking: ["message", channel, payload] or
// ["pmessage", pattern, channel, payload].
bool is_pubsub_message(const redis_reply& reply);

}  // namespace gw
