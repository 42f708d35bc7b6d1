#include "gatewayd/io/error_boundary.hpp"
#include "gatewayd/io/net.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <sstream>
#include <stdexcept>

namespace {

namespace asio = boost::asio;

// A task that holds something by RAII and then fails the way a bug would.
gw::net::awaitable<void> failing_task(int& held) {
    struct hold {
        int& count;
        explicit hold(int& c) : count(c) { ++count; }
        ~hold() { --count; }
    } guard(held);
    co_await asio::post(co_await asio::this_coro::executor, gw::net::use_awaitable);
    throw std::length_error("field value too large");
}

gw::net::awaitable<void> quiet_task(bool& ran) {
    co_await asio::post(co_await asio::this_coro::executor, gw::net::use_awaitable);
    ran = true;
}

// Captures what the default logger writes while it lives.
struct captured_log {
    std::ostringstream text;
    std::shared_ptr<spdlog::logger> previous = spdlog::default_logger();
    captured_log() {
        auto logger = std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::ostream_sink_mt>(text));
        spdlog::set_default_logger(logger);
    }
    ~captured_log() { spdlog::set_default_logger(previous); }
};

std::size_t count_of(const std::string& text, std::string_view needle) {
    std::size_t count = 0;
    for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++count;
    return count;
}

TEST(ErrorBoundary, AFailingTaskEndsAloneGivesBackWhatItHeldAndIsCounted) {
    captured_log log;
    const auto before = gw::task_failure_counts();
    asio::io_context io;
    int held = 0;
    bool other_ran = false;
    asio::co_spawn(io, failing_task(held), gw::task_boundary{gw::task_kind::session});
    asio::co_spawn(io, quiet_task(other_ran), gw::task_boundary{gw::task_kind::session});
    io.run();  // returns: the exception did not escape the loop

    EXPECT_EQ(held, 0) << "the failing task's guard did not run";
    EXPECT_TRUE(other_ran);
    const auto after = gw::task_failure_counts();
    const auto session = static_cast<std::size_t>(gw::task_kind::session);
    EXPECT_EQ(after[session], before[session] + 1);
    EXPECT_NE(log.text.str().find("session task ended by an internal error: field value too large"),
              std::string::npos)
        << log.text.str();
}

TEST(ErrorBoundary, AFloodOfFailuresIsCountedInFullButLoggedOnceASecond) {
    captured_log log;
    const auto before = gw::task_failure_counts();
    asio::io_context io;
    int held = 0;
    for (int i = 0; i < 50; ++i) asio::co_spawn(io, failing_task(held), gw::task_boundary{gw::task_kind::admin});
    io.run();

    const auto admin = static_cast<std::size_t>(gw::task_kind::admin);
    EXPECT_EQ(gw::task_failure_counts()[admin], before[admin] + 50);
    EXPECT_EQ(held, 0);
    // 50 failures within well under a second: one line, not fifty.
    EXPECT_EQ(count_of(log.text.str(), "admin task ended by an internal error"), 1u) << log.text.str();
}

}  // namespace
