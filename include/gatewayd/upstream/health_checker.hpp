#pragma once

#include "gatewayd/io/net.hpp"

#include <memory>

namespace gw {

class event_loop;
struct backend;

// Probes one backend with `GET health_check.path` every interval, on the event loop that owns
// it, and moves it up or down by the thresholds. Ends when the gateway drains, a reload drops
// the backend or turns health checks off.
net::awaitable<void> run_health_checks(event_loop& loop, std::shared_ptr<backend> target);

}  // namespace gw
