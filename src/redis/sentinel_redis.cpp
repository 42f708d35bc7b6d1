#include "gatewayd/redis/sentinel_redis.hpp"

#include "gatewayd/io/error_boundary.hpp"
#include "gatewayd/redis/redis_node.hpp"

#include <boost/asio/co_spawn.hpp>
#include <spdlog/spdlog.h>

namespace gw {

namespace {

using steady_clock = std::chrono::steady_clock;
constexpr auto listener_ping_interval = std::chrono::seconds(1);

// Sentinel commands get at least a second: they are rare and nothing waits for them.
steady_clock::time_point sentinel_deadline(duration timeout) {
    return steady_clock::now() + std::max<duration>(timeout, std::chrono::seconds(1));
}

redis_handshake sentinel_handshake(const redis_config& settings) {
    redis_handshake handshake;
    handshake.password = settings.sentinel_password;
    handshake.data_node = false;
    handshake.log_name = "redis sentinel";
    return handshake;
}

}  // namespace

sentinel_redis::sentinel_redis(boost::asio::io_context& io, const redis_config& settings)
    : primary_redis(io, settings), rotation_(settings.sentinels), primary_backoff_(io) {}

void sentinel_redis::start() {
    // Pointed at the primary once a sentinel has named it; not connected until then.
    make_primary(host_port{}, true);
    listener_.emplace(io_, settings_.sentinels.front(), sentinel_handshake(settings_));
    listener_->on_push([this](const redis_reply& message) { on_switch(message); });
    boost::asio::co_spawn(io_, keep_primary(), task_boundary{task_kind::redis});
    boost::asio::co_spawn(io_, listen_for_switches(), task_boundary{task_kind::redis});
}

redis_connection& sentinel_redis::sentinel(const host_port& where) {
    auto& connection = sentinels_[node_name(where)];
    if (!connection) connection = std::make_unique<redis_connection>(io_, where, sentinel_handshake(settings_));
    return *connection;
}

net::awaitable<std::optional<host_port>> sentinel_redis::ask_sentinels() {
    static const std::string ask_prefix = "get-master-addr-by-name";
    const std::string question = format_command({"SENTINEL", ask_prefix, settings_.master_name});
    std::string why = "no sentinel answered";
    const auto order = rotation_.order();
    for (std::size_t i = 0; i < order.size(); ++i) {
        redis_connection& asked = sentinel(order[i]);
        if (!asked.ready() && !co_await asked.connect(settings_.timeout)) continue;
        const auto reply = co_await asked.execute(question, sentinel_deadline(settings_.timeout));
        if (!reply) continue;
        if (auto primary = parse_master_address(*reply)) {
            rotation_.answered(i);
            reported_unknown_ = false;
            co_return primary;
        }
        why = "sentinel " + asked.name() + " answered " +
              (reply->type == redis_reply::kind::error ? reply->text : std::string("that it does not know it"));
    }
    if (!reported_unknown_) {
        reported_unknown_ = true;
        spdlog::warn("redis sentinel: no primary for \"{}\": {}", settings_.master_name, why);
    }
    co_return std::nullopt;
}

net::awaitable<void> sentinel_redis::keep_primary() {
    for (;;) {
        bool connected = false;
        try {
            std::optional<host_port> primary = std::exchange(announced_, std::nullopt);
            if (!primary) primary = co_await ask_sentinels();
            if (primary) {
                primary_->retarget(*primary);
                connected = co_await primary_->connect(settings_.timeout);
                if (connected) confirmed(*primary);
            }
        } catch (...) {
            // This loop is the primary's whole future: a failed attempt must not end it.
            record_task_failure(task_kind::redis, std::current_exception());
            primary_->close("internal error while connecting");
        }
        first_attempt_.open();
        if (connected) {
            primary_backoff_.reset();
            co_await primary_->wait_lost();
            // Lost: ask again at once (a failover may be over already), then with back-off.
            continue;
        }
        co_await primary_backoff_.wait();
    }
}

void sentinel_redis::confirmed(const host_port& primary) {
    if (!confirmed_) {
        spdlog::info("redis sentinel: primary of \"{}\" is {}", settings_.master_name, node_name(primary));
    } else if (*confirmed_ != primary) {
        ++failovers_;
        spdlog::warn("redis sentinel: primary of \"{}\" changed from {} to {}", settings_.master_name,
                     node_name(*confirmed_), node_name(primary));
    }
    confirmed_ = primary;
}

void sentinel_redis::on_readonly() {
    // A demoted primary answers writes with READONLY: find the new one.
    primary_->close("READONLY: no longer the primary");
}

void sentinel_redis::on_switch(const redis_reply& message) {
    const auto change = parse_switch_master(message);
    if (!change || change->name != settings_.master_name) return;
    spdlog::info("redis sentinel: +switch-master \"{}\" from {} to {}", change->name, node_name(change->from),
                 node_name(change->to));
    if (primary_->ready() && primary_->target() == change->to) return;
    announced_ = change->to;
    if (primary_->ready()) primary_->close("+switch-master to " + node_name(change->to));
    primary_backoff_.wake();
}

net::awaitable<void> sentinel_redis::listen_for_switches() {
    // One sentinel at a time: the one asked first, then, while it fails, the others in turn.
    backoff pause(io_);
    net::steady_timer tick(io_);
    static const std::string subscribe = format_command({"SUBSCRIBE", "+switch-master"});
    static const std::string ping = format_command({"PING"});
    std::size_t next = 0;
    for (;;) {
        bool listened = false;
        try {
            const auto& order = rotation_.order();
            listener_->retarget(order[next % order.size()]);
            if (co_await listener_->connect(settings_.timeout)) {
                const auto subscribed = co_await listener_->execute(subscribe, sentinel_deadline(settings_.timeout));
                listened = subscribed && subscribed->type == redis_reply::kind::array;
                if (!listened) {
                    listener_->close("SUBSCRIBE failed: " + (subscribed ? subscribed->text : std::string("no answer")));
                }
            }
            // A sentinel that stops answering is noticed by a PING going unanswered.
            while (listened && listener_->ready()) {
                tick.expires_after(listener_ping_interval);
                co_await tick.async_wait(net::nothrow);
                if (!co_await listener_->execute(ping, sentinel_deadline(settings_.timeout))) break;
            }
        } catch (...) {
            record_task_failure(task_kind::redis, std::current_exception());
            listener_->close("internal error");
        }
        if (listened) {
            next = 0;
            pause.reset();
        } else {
            ++next;
        }
        co_await pause.wait();
    }
}

void sentinel_redis::sample(redis_counters& out) const {
    if (confirmed_ && primary_) out.nodes.emplace_back(primary_->name(), primary_->ready());
    // The sentinels asked so far: up while the gateway's connection to one is.
    for (const auto& [name, connection] : sentinels_) {
        if (!connection->tried()) continue;
        const bool listening = listener_ && listener_->name() == name && listener_->ready();
        out.nodes.emplace_back(name, connection->ready() || listening);
    }
    out.failovers = failovers_;
}

}  // namespace gw
