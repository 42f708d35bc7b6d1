#include "gatewayd/redis/cluster_redis.hpp"

#include "gatewayd/io/error_boundary.hpp"
#include "gatewayd/redis/redis_node.hpp"

#include <boost/asio/co_spawn.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace gw {

namespace {

using steady_clock = std::chrono::steady_clock;

// MOVED replies during a reshard come in storms: the map is read at most this often.
constexpr auto refresh_gap = std::chrono::milliseconds(250);
// A node an ASK named stays connected this long, though the map does not list it (a slot being
// moved to a node that serves none yet).
constexpr auto ask_target_kept = std::chrono::seconds(10);

std::int64_t system_now_us() {
    return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// Cluster nodes have database 0 only: no SELECT.
redis_handshake data_node_handshake(const redis_config& settings) {
    redis_handshake handshake;
    handshake.username = settings.username;
    handshake.password = settings.password;
    return handshake;
}

const std::string& asking_command() {
    static const std::string command = format_command({"ASKING"});
    return command;
}

}  // namespace

struct cluster_redis::attempt {
    script_call* call = nullptr;
    redirect_policy policy;
    node* target = nullptr;
    std::optional<redis_call> asking;  // ASKING before the command; its +OK is not looked at
    std::optional<redis_call> sent;
};

cluster_redis::cluster_redis(boost::asio::io_context& io, const redis_config& settings)
    : io_(io),
      settings_(settings),
      handshake_(data_node_handshake(settings)),
      schedule_(refresh_gap),
      refresh_backoff_(io) {}

void cluster_redis::start() { request_refresh(); }

cluster_redis::node& cluster_redis::node_at(const host_port& where) {
    auto& slot = nodes_[node_name(where)];
    if (!slot) slot = std::make_unique<node>(io_, where, handshake_, scripts_);
    return *slot;
}

cluster_redis::node* cluster_redis::owner_of(std::uint16_t slot) {
    const auto index = map_.owner(slot);
    return index == slot_map::no_node ? nullptr : by_index_[index];
}

void cluster_redis::want(node& n) {
    n.wanted = true;
    if (n.looping) return;
    n.looping = true;
    boost::asio::co_spawn(io_, keep_connected(&n), task_boundary{task_kind::redis});
}

net::awaitable<void> cluster_redis::keep_connected(node* n) {
    while (n->wanted) {
        bool connected = n->connection.ready();
        try {
            if (!connected) connected = co_await n->connection.connect(settings_.timeout);
        } catch (...) {
            // This loop is the node's whole future: a failed attempt must not end it.
            record_task_failure(task_kind::redis, std::current_exception());
            n->connection.close("internal error while connecting");
        }
        if (connected) {
            n->pause.reset();
            co_await n->connection.wait_lost();
            if (!n->wanted) break;
            // A primary gone may have been replaced by its replica: read the map again, and
            // try this node again at once.
            request_refresh();
            continue;
        }
        if (!n->wanted) break;
        request_refresh();
        co_await n->pause.wait();
    }
    n->looping = false;
}

void cluster_redis::request_refresh() {
    if (const auto at = schedule_.request(steady_clock::now())) {
        boost::asio::co_spawn(io_, run_refreshes(*at), task_boundary{task_kind::redis});
    }
}

net::awaitable<void> cluster_redis::run_refreshes(steady_clock::time_point at) {
    net::steady_timer timer(io_);
    for (;;) {
        timer.expires_at(at);
        co_await timer.async_wait(net::nothrow);
        schedule_.started(steady_clock::now());
        bool read = false;
        try {
            read = co_await refresh_once();
        } catch (...) {
            record_task_failure(task_kind::redis, std::current_exception());
        }
        first_map_.open();
        auto next = schedule_.finished(steady_clock::now());
        if (!read) {
            // No node answered: keep asking, with back-off, until one does.
            co_await refresh_backoff_.wait();
            next = schedule_.request(steady_clock::now());
        } else {
            refresh_backoff_.reset();
        }
        if (!next) co_return;
        at = *next;
    }
}

net::awaitable<bool> cluster_redis::refresh_once() {
    static const std::string question = format_command({"CLUSTER", "SLOTS"});
    // The primaries already connected first (no new connection), then the seeds, then the rest
    // of the map's primaries that still have a loop of their own on their connection.
    std::vector<node*> candidates;
    for (node* n : by_index_) {
        if (n->connection.ready()) candidates.push_back(n);
    }
    for (const auto& seed : settings_.nodes) candidates.push_back(&node_at(seed));
    std::string why = "no node answered";
    std::vector<node*> asked;
    for (node* n : candidates) {
        if (std::find(asked.begin(), asked.end(), n) != asked.end()) continue;
        asked.push_back(n);
        redis_connection& connection = n->connection;
        if (!connection.ready()) {
            // A node in the map reconnects in its own loop; a seed is connected here.
            if (n->looping || !co_await connection.connect(settings_.timeout)) continue;
        }
        const auto deadline = steady_clock::now() + std::max<duration>(settings_.timeout, std::chrono::seconds(1));
        const auto reply = co_await connection.execute(question, deadline);
        if (!reply) continue;
        auto map = slot_map::from_cluster_slots(*reply, connection.target().host);
        if (!map || map->covered() == 0) {
            why = connection.name() + " answered CLUSTER SLOTS with " +
                  (reply->type == redis_reply::kind::error ? reply->text : std::string("no slots"));
            continue;
        }
        adopt(std::move(*map), connection.name());
        co_return true;
    }
    if (!reported_no_map_) {
        reported_no_map_ = true;
        spdlog::warn("redis cluster: slot map not read: {}; {}", why,
                     map_.covered() > 0 ? "the last one stays" : "no slot can be served");
    }
    co_return false;
}

void cluster_redis::adopt(slot_map map, const std::string& from) {
    const bool changed = !map.same_as(map_);
    map_ = std::move(map);
    by_index_.clear();
    std::string names;
    for (const auto& where : map_.nodes()) {
        node& n = node_at(where);
        by_index_.push_back(&n);
        names += (names.empty() ? "" : ", ") + n.connection.name();
    }
    const auto now = steady_clock::now();
    for (auto& [name, n] : nodes_) {
        const bool mapped = std::find(by_index_.begin(), by_index_.end(), n.get()) != by_index_.end();
        if (mapped) {
            want(*n);
            continue;
        }
        if (n->wanted && now < n->asked_until) continue;
        if (n->wanted) spdlog::info("redis cluster: {} serves no slot any more", name);
        n->wanted = false;
        n->connection.close("not in the slot map", false);
    }
    if (changed || reported_no_map_) {
        spdlog::info("redis cluster: slot map from {}: {} primaries ({}), {} of {} slots", from, map_.nodes().size(),
                     names, map_.covered(), cluster_slots);
    } else {
        spdlog::debug("redis cluster: slot map from {} unchanged", from);
    }
    reported_no_map_ = false;
}

net::awaitable<bool> cluster_redis::ready_soon(steady_clock::time_point deadline) {
    // A request that arrives before the first map waits for it, as one waits for a first connection.
    if (!first_map_.is_open()) co_await first_map_.wait(io_, deadline);
    co_return map_.covered() > 0;
}

std::int64_t cluster_redis::now_us(std::uint16_t slot) {
    node* owner = owner_of(slot);
    return owner && owner->connection.ready() ? owner->connection.now_us() : system_now_us();
}

bool cluster_redis::send_now(attempt& a, steady_clock::time_point deadline) {
    // A node met for the first time (a new primary, a MOVED target) is given its first
    // connection, within the request's deadline: send() waits for it.
    if (a.target != nullptr && !a.target->connection.tried()) return false;
    a.asking.reset();
    auto& call = a.sent.emplace(deadline);
    if (a.target == nullptr) {
        call.done = true;
        return true;
    }
    redis_connection& connection = a.target->connection;
    if (a.policy.asking()) connection.send(asking_command(), a.asking.emplace(deadline));
    connection.send_eval(*a.call->script, a.policy.script_text(), a.call->keys, a.call->args, call);
    return true;
}

net::awaitable<void> cluster_redis::send(attempt& a, steady_clock::time_point deadline) {
    if (send_now(a, deadline)) co_return;
    co_await a.target->connection.ready_by(deadline);
    if (send_now(a, deadline)) co_return;
    // No first connection by the deadline: a store error.
    a.asking.reset();
    a.sent.emplace(deadline).done = true;
}

net::awaitable<void> cluster_redis::settle(attempt& a, steady_clock::time_point deadline) {
    for (;;) {
        if (a.target != nullptr) co_await a.target->connection.wait(*a.sent);
        // Nodes live as long as the client, and a cluster node is never pointed elsewhere.
        // Not a conditional expression: with "" as its other branch it would be a temporary copy,
        // gone before the view is read.
        std::string_view asked_host;
        if (a.target != nullptr) asked_host = a.target->connection.target().host;
        const redirect_step step = a.policy.next(a.sent->reply, asked_host);
        if (step.refresh) request_refresh();
        switch (step.what) {
        case redirect_step::action::done:
            a.call->reply = std::move(a.sent->reply);
            co_return;
        case redirect_step::action::store_error:
            spdlog::debug("redis cluster: slot {}: {}", a.call->slot, step.reason);
            co_return;
        case redirect_step::action::send_to: {
            ++moved_;
            node& moved_to = node_at(step.target);
            const auto index = map_.move(step.slot, step.target);
            if (index == by_index_.size()) by_index_.push_back(&moved_to);
            want(moved_to);
            a.target = &moved_to;
            break;
        }
        case redirect_step::action::ask: {
            ++ask_;
            node& asked = node_at(step.target);
            asked.asked_until = steady_clock::now() + ask_target_kept;
            want(asked);
            a.target = &asked;
            break;
        }
        case redirect_step::action::script_text:
            break;
        case redirect_step::action::wait_then_send: {
            if (steady_clock::now() + step.wait >= deadline) co_return;
            net::steady_timer pause(io_);
            pause.expires_after(step.wait);
            co_await pause.async_wait(net::nothrow);
            a.target = owner_of(a.call->slot);
            break;
        }
        }
        if (!send_now(a, deadline)) co_await send(a, deadline);
    }
}

net::awaitable<void> cluster_redis::eval(std::span<script_call> calls, steady_clock::time_point deadline) {
    in_place_slots<attempt> attempts(calls.size());
    bool unmapped = false;
    // Every call goes out, each in its node's pipeline, before any reply is awaited.
    for (std::size_t i = 0; i < calls.size(); ++i) {
        auto& a = attempts[i].emplace();
        a.call = &calls[i];
        calls[i].reply.reset();
        a.target = owner_of(calls[i].slot);
        unmapped = unmapped || a.target == nullptr;
        if (!send_now(a, deadline)) co_await send(a, deadline);
    }
    if (unmapped) request_refresh();
    for (std::size_t i = 0; i < calls.size(); ++i) co_await settle(*attempts[i], deadline);
}

void cluster_redis::sample(redis_counters& out) const {
    for (const auto& [name, n] : nodes_) {
        if (n->wanted) out.nodes.emplace_back(name, n->connection.ready());
    }
    out.moved = moved_;
    out.ask = ask_;
}

}  // namespace gw
