#include "gatewayd/redis/redis_client.hpp"

#include "gatewayd/io/error_boundary.hpp"

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

namespace gw {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using steady_clock = std::chrono::steady_clock;

namespace {

using net::nothrow;
constexpr auto first_backoff = std::chrono::milliseconds(100);
constexpr auto max_backoff = std::chrono::seconds(2);
constexpr auto clock_resync_interval = std::chrono::seconds(30);

}  // namespace

// Lives in the frame of the coroutine waiting for the reply; the reader fills it in order and
// resumes the coroutine through the completion handler kept here.
struct redis_client::waiter {
    using resume_handler = asio::async_result<std::decay_t<decltype(net::use_awaitable)>, void()>::handler_type;
    explicit waiter(steady_clock::time_point by) : deadline(by) {}
    steady_clock::time_point deadline;
    std::optional<resume_handler> resume;
    std::optional<redis_reply> reply;
};

redis_client::redis_client(asio::io_context& io, redis_config settings)
    : io_(io),
      settings_(std::move(settings)),
      where_(settings_.endpoint.host + ":" + std::to_string(settings_.endpoint.port)),
      connection_lost_(io) {}

redis_client::~redis_client() {
    // A waiting coroutine is owned by its own resume handler: destroying the handler (after
    // taking it out of the waiter, which lives in that coroutine's frame) lets the loop destroy
    // the coroutine.
    for (waiter* w : pending_.take_all()) {
        if (!w->resume) continue;
        auto handler = std::move(*w->resume);
        w->resume.reset();
    }
}

void redis_client::start() { asio::co_spawn(io_, keep_connected(), task_boundary{task_kind::redis}); }

net::awaitable<void> redis_client::keep_connected() {
    auto backoff = std::chrono::duration_cast<std::chrono::milliseconds>(first_backoff);
    net::steady_timer pause(io_);
    for (;;) {
        bool connected = false;
        try {
            connected = co_await connect_once();
        } catch (...) {
            // This loop is the connection's whole future: a failed attempt must not end it.
            record_task_failure(task_kind::redis, std::current_exception());
            fail_connection("internal error while connecting");
        }
        end_first_attempt();
        if (connected) {
            backoff = first_backoff;
            connection_lost_.expires_at(steady_clock::time_point::max());
            co_await connection_lost_.async_wait(nothrow);
        }
        pause.expires_after(backoff);
        co_await pause.async_wait(nothrow);
        backoff = std::min<std::chrono::milliseconds>(backoff * 2, max_backoff);
    }
}

net::awaitable<bool> redis_client::connect_once() {
    const auto epoch = ++epoch_;
    state_ = state::connecting;
    net::resolver resolver(io_);
    auto [resolve_ec, results] = co_await resolver.async_resolve(settings_.endpoint.host,
                                                                 std::to_string(settings_.endpoint.port), nothrow);
    if (resolve_ec) {
        fail_connection("cannot resolve: " + resolve_ec.message());
        co_return false;
    }
    stream_.emplace(io_.get_executor());
    stream_->expires_after(std::max<duration>(settings_.timeout, std::chrono::seconds(1)));
    auto [connect_ec, endpoint] = co_await asio::async_connect(stream_->socket(), results, nothrow);
    if (connect_ec) {
        fail_connection(stream_->outcome(connect_ec).message());
        co_return false;
    }
    stream_->expires_never();
    beast::error_code ignored;
    stream_->socket().set_option(tcp::no_delay(true), ignored);
    reader_ = std::make_unique<reply_reader>();
    asio::co_spawn(io_, read_replies(epoch), connection_boundary());

    // AUTH, SELECT and SCRIPT LOAD go out together and are answered in order.
    const auto deadline = steady_clock::now() + std::max<duration>(settings_.timeout, std::chrono::seconds(1));
    if (!settings_.password.empty()) {
        std::string auth = format_command({"AUTH", settings_.password});
        const auto reply = co_await execute(std::move(auth), deadline);
        if (!reply || reply->type == redis_reply::kind::error) {
            fail_connection("AUTH failed: " + (reply ? reply->text : std::string("no answer")));
            co_return false;
        }
    }
    if (settings_.db != 0) {
        const std::string db = std::to_string(settings_.db);
        std::string select = format_command({"SELECT", db});
        const auto reply = co_await execute(std::move(select), deadline);
        if (!reply || reply->type == redis_reply::kind::error) {
            fail_connection("SELECT " + db + " failed: " + (reply ? reply->text : std::string("no answer")));
            co_return false;
        }
    }
    for (const redis_script* script : preloaded_) {
        std::string load = format_command({"SCRIPT", "LOAD", script->text()});
        const auto loaded = co_await execute(std::move(load), deadline);
        if (!loaded || loaded->type != redis_reply::kind::string) {
            fail_connection("SCRIPT LOAD failed: " + (loaded ? loaded->text : std::string("no answer")));
            co_return false;
        }
    }
    if (epoch != epoch_ || !co_await sync_clock(deadline)) co_return false;
    state_ = state::ready;
    if (reported_down_) {
        reported_down_ = false;
        spdlog::info("rate limit store redis {} is reachable again", where_);
    } else {
        spdlog::info("rate limit store redis {} connected", where_);
    }
    co_return true;
}

net::awaitable<void> redis_client::read_replies(std::uint64_t epoch) {
    std::array<char, 16 * 1024> buffer{};
    while (epoch == epoch_ && stream_) {
        auto [ec, n] = co_await stream_->async_read_some(asio::buffer(buffer), nothrow);
        if (epoch != epoch_) co_return;
        if (ec) {
            if (stream_->timed_out()) {
                fail_connection("command timed out after " + std::to_string(settings_.timeout.count()) + " ms");
            } else {
                fail_connection(ec == asio::error::eof ? std::string("connection closed by redis") : ec.message());
            }
            co_return;
        }
        if (!reader_->feed({buffer.data(), n})) {
            fail_connection("invalid reply from redis");
            co_return;
        }
        while (auto reply = reader_->next()) {
            waiter* w = pending_.take_front();
            if (w == nullptr) {
                fail_connection("reply without a command");
                co_return;
            }
            w->reply = std::move(*reply);
            wake(*w);
        }
        watch_front();
        if (reader_->failed()) {
            fail_connection("invalid reply from redis");
            co_return;
        }
    }
}

net::awaitable<void> redis_client::flush(std::uint64_t epoch) {
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
            fail_connection("write failed: " + stream_->outcome(ec).message());
            co_return;
        }
    }
    if (epoch == epoch_) writing_ = false;
}

net::awaitable<std::optional<redis_reply>> redis_client::execute(std::string command,
                                                                  steady_clock::time_point deadline) {
    if (state_ == state::down || !stream_) co_return std::nullopt;
    waiter w(deadline);
    const bool first = pending_.empty();
    pending_.push(&w);
    if (first) watch_front();
    outgoing_ += command;
    if (!writing_) {
        writing_ = true;
        asio::co_spawn(io_, flush(epoch_), connection_boundary());
    }
    // Suspended until the reader (a reply) or fail_connection (no reply) resumes it.
    auto keep_handler = [&w](waiter::resume_handler handler) { w.resume.emplace(std::move(handler)); };
    co_await asio::async_initiate<decltype(net::use_awaitable), void()>(keep_handler, net::use_awaitable);
    co_return std::move(w.reply);
}

// A reader or writer that ends by an exception takes the connection with it (a reconnect
// follows), not the process.
std::function<void(std::exception_ptr)> redis_client::connection_boundary() {
    return [this, epoch = epoch_](std::exception_ptr failure) {
        if (!failure) return;
        record_task_failure(task_kind::redis, failure);
        if (epoch == epoch_) fail_connection("internal error");
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

std::int64_t redis_client::now_us() const { return system_now_us() + clock_offset_us_; }

net::awaitable<bool> redis_client::sync_clock(steady_clock::time_point deadline) {
    // Redis's clock against ours, taken at the middle of the round trip: every gateway on this
    // Redis then decides time-based limits on one clock, without TIME in every script (which
    // would cost about as much again as the script).
    const std::int64_t sent = system_now_us();
    std::string time = format_command({"TIME"});
    const auto reply = co_await execute(std::move(time), deadline);
    const std::int64_t received = system_now_us();
    const auto theirs = reply ? time_reply_us(*reply) : std::nullopt;
    if (!theirs) {
        fail_connection("TIME failed: " + (reply ? reply->text : std::string("no answer")));
        co_return false;
    }
    clock_offset_us_ = *theirs - (sent + received) / 2;
    clock_synced_ = steady_clock::now();
    co_return true;
}

net::awaitable<void> redis_client::resync_clock() {
    co_await sync_clock(steady_clock::now() + settings_.timeout);
    resyncing_ = false;
}

net::awaitable<bool> redis_client::ready_soon() {
    // A request that arrives while the gateway is still making its first connection waits for
    // it (within redis.timeout), so that counting is in Redis from the first request on.
    if (state_ != state::ready && !first_attempt_done_) {
        co_await wait_for_first_attempt(steady_clock::now() + settings_.timeout);
    }
    co_return state_ == state::ready;
}

void redis_client::end_first_attempt() {
    if (first_attempt_done_) return;
    first_attempt_done_ = true;
    for (net::steady_timer* waiting : first_attempt_waiters_) waiting->cancel();
}

net::awaitable<void> redis_client::wait_for_first_attempt(steady_clock::time_point deadline) {
    if (first_attempt_done_) co_return;
    net::steady_timer waiting(io_);
    waiting.expires_at(deadline);
    first_attempt_waiters_.push_back(&waiting);
    co_await waiting.async_wait(nothrow);
    std::erase(first_attempt_waiters_, &waiting);
}

void redis_client::fail_connection(const std::string& reason) {
    if (state_ == state::down && !stream_) return;
    if (!reported_down_) {
        reported_down_ = true;
        spdlog::warn("rate limit store redis {} unreachable: {}", where_, reason);
    }
    state_ = state::down;
    ++epoch_;
    if (stream_) {
        beast::error_code ignored;
        stream_->socket().close(ignored);
        stream_.reset();
    }
    reader_.reset();
    for (waiter* w : pending_.take_all()) {
        w->reply.reset();
        wake(*w);
    }
    outgoing_.clear();
    writing_ = false;  // a flush of the old connection ends by itself when it sees the new epoch
    connection_lost_.cancel();
}

// The connection's deadline is the oldest unanswered command's; with none, there is none (an
// idle connection may stay open). Replies come in order, so a late one would answer the wrong
// command: when the deadline passes, the connection is dropped.
void redis_client::watch_front() {
    if (!stream_) return;
    if (const waiter* front = pending_.front()) {
        stream_->expires_at(front->deadline);
    } else {
        stream_->expires_never();
    }
}

void redis_client::wake(waiter& w) {
    if (!w.resume) return;
    auto handler = std::move(*w.resume);
    w.resume.reset();
    asio::post(io_, std::move(handler));
}

net::awaitable<std::optional<redis_reply>> redis_client::eval(const redis_script& script,
                                                               std::span<const std::string_view> keys,
                                                               std::span<const std::string_view> args) {
    const auto deadline = steady_clock::now() + settings_.timeout;
    if (!co_await ready_soon()) co_return std::nullopt;
    // Clocks drift apart: the offset is learned again now and then, beside the traffic.
    if (!resyncing_ && steady_clock::now() - clock_synced_ > clock_resync_interval) {
        resyncing_ = true;
        asio::co_spawn(io_, resync_clock(), connection_boundary());
    }
    std::array<char, 8> key_count{};
    const auto count_end = std::to_chars(key_count.data(), key_count.data() + key_count.size(), keys.size()).ptr;
    boost::container::small_vector<std::string_view, 16> words{"EVALSHA", script.sha1(),
                                                               {key_count.data(), count_end}};
    words.insert(words.end(), keys.begin(), keys.end());
    words.insert(words.end(), args.begin(), args.end());
    std::string command;
    append_command(command, words);
    auto reply = co_await execute(std::move(command), deadline);
    if (reply && is_noscript(*reply)) {
        // Redis lost the script: EVAL caches it again for the next EVALSHA.
        words[0] = "EVAL";
        words[1] = script.text();
        std::string again;
        append_command(again, words);
        reply = co_await execute(std::move(again), deadline);
    }
    if (!reply || reply->type == redis_reply::kind::error) co_return std::nullopt;
    co_return reply;
}

}  // namespace gw
