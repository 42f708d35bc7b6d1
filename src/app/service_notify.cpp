#include "gatewayd/app/service_notify.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <systemd/sd-daemon.h>

#include <ctime>
#include <string>

namespace gw {

namespace {

std::uint64_t monotonic_usec() {
    timespec now{};
    ::clock_gettime(CLOCK_MONOTONIC, &now);
    return static_cast<std::uint64_t>(now.tv_sec) * 1'000'000u + static_cast<std::uint64_t>(now.tv_nsec) / 1000u;
}

}  // namespace

void notify_ready() { sd_notify(0, "READY=1\nSTATUS=serving"); }

void notify_reloading() {
    // MONOTONIC_USEC lets newer systemd (Type=notify-reload) tell this reload from an older one.
    const std::string message = "RELOADING=1\nMONOTONIC_USEC=" + std::to_string(monotonic_usec());
    sd_notify(0, message.c_str());
}

void notify_stopping() { sd_notify(0, "STOPPING=1\nSTATUS=draining"); }

net::awaitable<void> run_watchdog() {
    std::uint64_t period_usec = 0;
    if (sd_watchdog_enabled(0, &period_usec) <= 0 || period_usec == 0) co_return;
    net::steady_timer timer(co_await boost::asio::this_coro::executor);
    for (;;) {
        sd_notify(0, "WATCHDOG=1");
        timer.expires_after(std::chrono::microseconds(period_usec / 2));
        auto [ec] = co_await timer.async_wait(net::nothrow);
        if (ec) co_return;
    }
}

}  // namespace gw
