#pragma once

#include "gatewayd/config/config.hpp"
#include "gatewayd/upstream/backend.hpp"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace gw {

// What takes a restart keeps its running value in `next` (listen, admin.listen, tls.listen,
// threads and the Redis connection settings); the returned lines say what was asked for and not applied.
std::vector<std::string> keep_restart_only_settings(config& next, const config& running);

// A config read again for SIGHUP, ready to apply on every loop.
struct reloaded_config {
    std::shared_ptr<const config> settings;
    endpoint_map endpoints;
};

// Reads `config_path` again. A valid file (whose backends resolve) comes back with what takes
// a restart kept as it runs, and the warnings logged; an invalid one logs its errors and gives
// nothing, so the running config stays.
std::optional<reloaded_config> read_reloaded_config(const config& running, const std::string& config_path);

}  // namespace gw
