#pragma once

#include "gatewayd/io/net.hpp"

namespace gw {

// Tells systemd (when NOTIFY_SOCKET is set; otherwise nothing) where the daemon is in its life:
// READY=1 once listening, RELOADING=1 and READY=1 around a reload, STOPPING=1 on shutdown.
void notify_ready();
void notify_reloading();
void notify_stopping();

// Sends WATCHDOG=1 at half the period systemd asked for (WatchdogSec=); returns at once when
// no watchdog is set. Runs on an event loop, so a stuck loop stops the keep-alives.
net::awaitable<void> run_watchdog();

}  // namespace gw
