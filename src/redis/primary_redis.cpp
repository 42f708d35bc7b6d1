#include "gatewayd/redis/primary_redis.hpp"

#include "gatewayd/redis/redis_error.hpp"

namespace gw {

namespace {

std::int64_t system_now_us() {
    return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace

primary_redis::primary_redis(boost::asio::io_context& io, const redis_config& settings)
    : io_(io), settings_(settings) {}

redis_connection& primary_redis::make_primary(host_port target, bool require_primary_role) {
    redis_handshake handshake;
    handshake.username = settings_.username;
    handshake.password = settings_.password;
    handshake.db = settings_.db;
    handshake.require_primary = require_primary_role;
    return primary_.emplace(io_, std::move(target), std::move(handshake), scripts_);
}

net::awaitable<bool> primary_redis::ready_soon(std::chrono::steady_clock::time_point deadline) {
    // A request that arrives while the gateway is still making its first connection waits for
    // it, so that counting is in Redis from the first request on.
    if (!first_attempt_.is_open()) co_await first_attempt_.wait(io_, deadline);
    co_return primary_ && primary_->ready();
}

std::int64_t primary_redis::now_us(std::uint16_t) { return primary_ ? primary_->now_us() : system_now_us(); }

net::awaitable<void> primary_redis::eval(std::span<script_call> calls, std::chrono::steady_clock::time_point deadline) {
    // Every call goes out before any reply is awaited: one write for all of them.
    in_place_slots<redis_call> sent(calls.size());
    for (std::size_t i = 0; i < calls.size(); ++i) {
        calls[i].reply.reset();
        auto& call = sent[i].emplace(deadline);
        if (primary_) {
            primary_->send_eval(*calls[i].script, false, calls[i].keys, calls[i].args, call);
        } else {
            call.done = true;
        }
    }
    for (std::size_t i = 0; i < calls.size(); ++i) {
        if (primary_) co_await primary_->wait(*sent[i]);
        auto reply = std::move(sent[i]->reply);
        if (reply && is_noscript(*reply) && primary_) {
            // The server lost the script (a restart, SCRIPT FLUSH): EVAL caches it again.
            redis_call again(deadline);
            primary_->send_eval(*calls[i].script, true, calls[i].keys, calls[i].args, again);
            co_await primary_->wait(again);
            reply = std::move(again.reply);
        }
        if (reply && classify_error(*reply, {}).what == redis_error::kind::readonly) on_readonly();
        if (reply && reply->type != redis_reply::kind::error) calls[i].reply = std::move(reply);
    }
}

}  // namespace gw
