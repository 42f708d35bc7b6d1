#pragma once

#include "gatewayd/config.hpp"

#include <chrono>
#include <string>
#include <string_view>

namespace gw {

// Sets up the main logger and the access logger on one stderr sink, in text or json format.
// Called again on reload; safe to call before any config is read (defaults).
void configure_logging(const log_config& config);

struct access_entry {
    std::string_view client_ip;
    std::string_view method;
    std::string_view target;
    unsigned status = 0;
    std::string_view backend;  // "-" when the gateway answered itself
    std::string_view route;    // "-" when no route matched
    std::chrono::microseconds duration{};
    std::string_view request_id;
};

// One line per request, when log.access_log is on.
void log_access(const access_entry& entry);

}  // namespace gw
