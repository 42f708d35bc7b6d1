#pragma once

#include "gatewayd/config/config.hpp"

#include <memory>
#include <string>

namespace gw {

// Listens, serves and drains on a signal: the daemon's life after its config was read.
// Returns the process exit code (0 after a clean shutdown, 1 when it could not start).
int run_server(std::shared_ptr<const config> settings, const std::string& config_path);

}  // namespace gw
