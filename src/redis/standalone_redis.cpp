#include "gatewayd/redis/standalone_redis.hpp"

#include "gatewayd/io/error_boundary.hpp"
#include "gatewayd/redis/backoff.hpp"

#include <boost/asio/co_spawn.hpp>

namespace gw {

void standalone_redis::start() {
    make_primary(settings_.endpoint, false);
    boost::asio::co_spawn(io_, keep_connected(), task_boundary{task_kind::redis});
}

net::awaitable<void> standalone_redis::keep_connected() {
    backoff pause(io_);
    for (;;) {
        bool connected = false;
        try {
            connected = co_await primary_->connect(settings_.timeout);
        } catch (...) {
            // This loop is the connection's whole future: a failed attempt must not end it.
            record_task_failure(task_kind::redis, std::current_exception());
            primary_->close("internal error while connecting");
        }
        first_attempt_.open();
        if (connected) {
            pause.reset();
            co_await primary_->wait_lost();
        }
        co_await pause.wait();
    }
}

void standalone_redis::sample(redis_counters& out) const {
    if (primary_) out.nodes.emplace_back(primary_->name(), primary_->ready());
}

}  // namespace gw
