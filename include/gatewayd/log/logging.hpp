#pragma once

#include "gatewayd/log/access_line.hpp"
#include "gatewayd/config/config.hpp"

#include <chrono>
#include <string>
#include <string_view>

namespace gw {

// Sets up the main logger (spdlog) and the access log, both on stderr, in text or json format.
// Called again on reload; safe to call before any config is read (defaults).
void configure_logging(const log_config& config);

// One line per request, when log.access_log is on. Lines are formatted at once but collected
// per thread and written together by flush_access_log() (the event loop runs it once per turn,
// see gateway::flush_access_log_soon) or as soon as 64 KiB wait, so that a busy loop makes one
// write() for many requests instead of one each. A thread's lines left at its exit are written
// then.
void log_access(const access_entry& entry);

// Writes the access lines this thread collected.
void flush_access_log();

}  // namespace gw
