#include "gatewayd/redis/redis_connection.hpp"

#include "gatewayd/io/error_boundary.hpp"
#include "gatewayd/redis/redis_deployment.hpp"
#include "gatewayd/redis/redis_node.hpp"
#include "gatewayd/redis/sentinel_replies.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <spdlog/spdlog.h>

#include <boost/container/small_vector.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <deque>

namespace gw {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using steady_clock = std::chrono::steady_clock;

namespace {

using net::nothrow;
constexpr auto clock_resync_interval = std::chrono::seconds(30);

}  // namespace

redis_connection::redis_connection(asio::io_context& io, host_port target, redis_handshake handshake,
                                   std::span<const redis_script* const> scripts)
    : io_(io),
      target_(std::move(target)),
      name_(node_name(target_)),
      handshake_(std::move(handshake)),
      scripts_(scripts.begin(), scripts.end()),
      lost_(io) {}

redis_connection::~redis_connection() {
    // A waiting coroutine is owned by its own resume handler: destroying the handler (after
    // taking it out of the call, which lives in that coroutine's frame) lets the loop destroy
    // the coroutine.
    for (redis_call* call : pending_.take_all()) {
        if (!call->resume) continue;
        auto handler = std::move(*call->resume);
        call->resume.reset();
    }
}

void redis_connection::retarget(host_port target) {
    if (target == target_) return;
    if (state_ != state::down || stream_) close("moving to " + node_name(target));
    target_ = std::move(target);
    name_ = node_name(target_);
    // A new node: its first connection is logged as such, not as one coming back.
    reported_down_ = false;
    connected_before_ = false;
}

net::awaitable<bool> redis_connection::connect(duration timeout) {
    const bool connected = co_await attempt(timeout);
    first_attempt_.open();
    co_return connected;
}

net::awaitable<bool> redis_connection::attempt(duration timeout) {
    close("reconnecting", false);
    const auto epoch = ++epoch_;
    state_ = state::connecting;
    timeout_ = timeout;
    const auto deadline = steady_clock::now() + std::max<duration>(timeout, std::chrono::seconds(1));
    net::resolver resolver(io_);
    auto [resolve_ec, results] = co_await resolver.async_resolve(target_.host, std::to_string(target_.port), nothrow);
    if (epoch != epoch_) co_return false;
    if (resolve_ec) {
        close("cannot resolve: " + resolve_ec.message());
        co_return false;
    }
    stream_.emplace(io_.get_executor());
    stream_->expires_at(deadline);
    auto [connect_ec, endpoint] = co_await asio::async_connect(stream_->socket(), results, nothrow);
    if (epoch != epoch_) co_return false;
    if (connect_ec) {
        close(stream_->outcome(connect_ec).message());
        co_return false;
    }
    stream_->expires_never();
    beast::error_code ignored;
    stream_->socket().set_option(tcp::no_delay(true), ignored);
    reader_ = std::make_unique<reply_reader>();
    accepting_ = true;  // the handshake's commands first, then everyone's
    asio::co_spawn(io_, read_replies(epoch), connection_boundary());
    if (!co_await handshake(epoch, deadline) || epoch != epoch_) co_return false;
    state_ = state::ready;
    if (reported_down_) {
        spdlog::info("{} {} is reachable again", handshake_.log_name, name_);
    } else if (!connected_before_) {
        spdlog::info("{} {} connected", handshake_.log_name, name_);
    }
    reported_down_ = false;
    connected_before_ = true;
    co_return true;
}

net::awaitable<bool> redis_connection::handshake(std::uint64_t epoch, steady_clock::time_point deadline) {
    // AUTH, SELECT and SCRIPT LOAD go out in one write and are answered in order.
    std::vector<std::string> commands;
    std::vector<std::string> what;
    if (!handshake_.username.empty()) {
        commands.push_back(format_command({"AUTH", handshake_.username, handshake_.password}));
        what.push_back("AUTH " + handshake_.username);
    } else if (!handshake_.password.empty()) {
        commands.push_back(format_command({"AUTH", handshake_.password}));
        what.push_back("AUTH");
    }
    if (handshake_.db != 0) {
        const std::string db = std::to_string(handshake_.db);
        commands.push_back(format_command({"SELECT", db}));
        what.push_back("SELECT " + db);
    }
    if (handshake_.data_node) {
        for (const redis_script* script : scripts_) {
            commands.push_back(format_command({"SCRIPT", "LOAD", script->text()}));
            what.push_back("SCRIPT LOAD");
        }
    }
    if (handshake_.require_primary) {
        commands.push_back(format_command({"ROLE"}));
        what.push_back("ROLE");
    }
    std::deque<redis_call> calls;
    for (const auto& command : commands) send(command, calls.emplace_back(deadline));
    for (std::size_t i = 0; i < calls.size(); ++i) {
        co_await wait(calls[i]);
        if (epoch != epoch_) co_return false;
        const auto& reply = calls[i].reply;
        if (!reply || reply->type == redis_reply::kind::error) {
            close(what[i] + " failed: " + (reply ? reply->text : std::string("no answer")));
            co_return false;
        }
        if (what[i] == "ROLE" && !is_primary_role(*reply)) {
            close("not the primary (ROLE: " + role_name(*reply) + ")");
            co_return false;
        }
    }
    if (handshake_.data_node && !co_await sync_clock(deadline)) co_return false;
    co_return epoch == epoch_;
}

net::awaitable<void> redis_connection::wait_lost() {
    if (state_ == state::down) co_return;
    lost_.expires_at(steady_clock::time_point::max());
    co_await lost_.async_wait(nothrow);
}

net::awaitable<bool> redis_connection::ready_by(steady_clock::time_point deadline) {
    if (!first_attempt_.is_open()) co_await first_attempt_.wait(io_, deadline);
    co_return ready();
}

net::awaitable<void> redis_connection::read_replies(std::uint64_t epoch) {
    std::array<char, 16 * 1024> buffer{};
    while (epoch == epoch_ && stream_) {
        auto [ec, n] = co_await stream_->async_read_some(asio::buffer(buffer), nothrow);
        if (epoch != epoch_) co_return;
        if (ec) {
            if (stream_->timed_out()) {
                close("command timed out after " + std::to_string(timeout_.count()) + " ms");
            } else {
                close(ec == asio::error::eof ? std::string("connection closed by redis") : ec.message());
            }
            co_return;
        }
        if (!reader_->feed({buffer.data(), n})) {
            close("invalid reply from redis");
            co_return;
        }
        while (auto reply = reader_->next()) {
            if (on_push_ && is_pubsub_message(*reply)) {
                on_push_(*reply);
                if (epoch != epoch_) co_return;
                continue;
            }
            redis_call* call = pending_.take_front();
            if (call == nullptr) {
                close("reply without a command");
                co_return;
            }
            call->reply = std::move(*reply);
            finish(*call);
        }
        watch_front();
        if (reader_->failed()) {
            close("invalid reply from redis");
            co_return;
        }
    }
}

net::awaitable<void> redis_connection::flush(std::uint64_t epoch) {
    // Everything queued until this runs leaves in one write. The batch lives in this frame, so a
    // write cut short by a reconnect never shares a buffer with the next connection's writes.
    std::string batch;
    while (epoch == epoch_ && stream_ && !outgoing_.empty()) {
        batch.clear();
        batch.swap(outgoing_);
        // Bounded by the deadline of the oldest command waiting, which this batch is part of.
        auto [ec, n] = co_await asio::async_write(*stream_, asio::buffer(batch), nothrow);
        if (epoch != epoch_) co_return;
        if (ec) {
            close("write failed: " + stream_->outcome(ec).message());
            co_return;
        }
    }
    if (epoch == epoch_) writing_ = false;
}

// Takes `call` into the pipeline, its command to be appended to outgoing_ next; false
// (and `call` done without a reply) when not connected.
bool redis_connection::enqueue(redis_call& call) {
    if (!accepting_) {
        finish(call);
        return false;
    }
    const bool first = pending_.empty();
    pending_.push(&call);
    if (first) watch_front();
    return true;
}

// Starts a write of outgoing_ unless one is on its way; what is queued before it runs goes along.
void redis_connection::start_flush() {
    if (writing_) return;
    writing_ = true;
    asio::co_spawn(io_, flush(epoch_), connection_boundary());
}

void redis_connection::send(std::string_view command, redis_call& call) {
    if (!enqueue(call)) return;
    outgoing_ += command;
    start_flush();
}

void redis_connection::send_eval(const redis_script& script, bool text, std::span<const std::string_view> keys,
                                 std::span<const std::string_view> args, redis_call& call) {
    if (!enqueue(call)) return;
    append_eval(outgoing_, script, text, keys, args);
    start_flush();
}

net::awaitable<void> redis_connection::wait(redis_call& call) {
    if (call.done) co_return;
    // Suspended until the reader (a reply) or close (no reply) resumes it.
    auto keep_handler = [&call](redis_call::resume_handler handler) { call.resume.emplace(std::move(handler)); };
    co_await asio::async_initiate<decltype(net::use_awaitable), void()>(keep_handler, net::use_awaitable);
}

net::awaitable<std::optional<redis_reply>> redis_connection::execute(std::string_view command,
                                                                     steady_clock::time_point deadline) {
    redis_call call(deadline);
    send(command, call);
    co_await wait(call);
    co_return std::move(call.reply);
}

// A reader or writer that ends by an exception takes the connection with it (a reconnect
// follows), not the process.
std::function<void(std::exception_ptr)> redis_connection::connection_boundary() {
    return [this, epoch = epoch_](std::exception_ptr failure) {
        if (!failure) return;
        record_task_failure(task_kind::redis, failure);
        if (epoch == epoch_) close("internal error");
    };
}

namespace {

std::int64_t system_now_us() {
    return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// TIME's reply: seconds and microseconds, as two strings.
std::optional<std::int64_t> time_reply_us(const redis_reply& reply) {
    if (reply.type != redis_reply::kind::array || reply.elements.size() != 2) return std::nullopt;
    std::int64_t seconds = 0;
    std::int64_t micros = 0;
    const auto& s = reply.elements[0].text;
    const auto& u = reply.elements[1].text;
    if (std::from_chars(s.data(), s.data() + s.size(), seconds).ec != std::errc{} ||
        std::from_chars(u.data(), u.data() + u.size(), micros).ec != std::errc{}) {
        return std::nullopt;
    }
    return seconds * 1'000'000 + micros;
}

}  // namespace

std::int64_t redis_connection::now_us() {
    // Clocks drift apart: the offset is learned again now and then, beside the traffic.
    if (state_ == state::ready && handshake_.data_node && !resyncing_ &&
        steady_clock::now() - clock_synced_ > clock_resync_interval) {
        resyncing_ = true;
        asio::co_spawn(io_, resync_clock(timeout_), connection_boundary());
    }
    return system_now_us() + clock_offset_us_;
}

net::awaitable<bool> redis_connection::sync_clock(steady_clock::time_point deadline) {
    // Redis's clock against ours, taken at the middle of the round trip: every gateway on this
    // Redis then decides time-based limits on one clock, without TIME in every script (which
    // would cost about as much again as the script).
    const std::int64_t sent = system_now_us();
    static const std::string time = format_command({"TIME"});
    const auto reply = co_await execute(time, deadline);
    const std::int64_t received = system_now_us();
    const auto theirs = reply ? time_reply_us(*reply) : std::nullopt;
    if (!theirs) {
        close("TIME failed: " + (reply ? reply->text : std::string("no answer")));
        co_return false;
    }
    clock_offset_us_ = *theirs - (sent + received) / 2;
    clock_synced_ = steady_clock::now();
    co_return true;
}

net::awaitable<void> redis_connection::resync_clock(duration timeout) {
    co_await sync_clock(steady_clock::now() + timeout);
    resyncing_ = false;
}

void redis_connection::close(const std::string& reason, bool report) {
    if (state_ == state::down && !stream_) return;
    if (report && !reported_down_) {
        reported_down_ = true;
        spdlog::warn("{} {} unreachable: {}", handshake_.log_name, name_, reason);
    }
    state_ = state::down;
    accepting_ = false;
    ++epoch_;
    if (stream_) {
        beast::error_code ignored;
        stream_->socket().close(ignored);
        stream_.reset();
    }
    reader_.reset();
    for (redis_call* call : pending_.take_all()) {
        call->reply.reset();
        finish(*call);
    }
    outgoing_.clear();
    writing_ = false;  // a flush of the old connection ends by itself when it sees the new epoch
    lost_.cancel();
}

// The connection's deadline is the oldest unanswered command's; with none, there is none (an
// idle connection may stay open). Replies come in order, so a late one would answer the wrong
// command: when the deadline passes, the connection is dropped.
void redis_connection::watch_front() {
    if (!stream_) return;
    if (const redis_call* front = pending_.front()) {
        stream_->expires_at(front->deadline);
    } else {
        stream_->expires_never();
    }
}

void redis_connection::finish(redis_call& call) {
    call.done = true;
    if (!call.resume) return;
    auto handler = std::move(*call.resume);
    call.resume.reset();
    asio::post(io_, std::move(handler));
}

}  // namespace gw
