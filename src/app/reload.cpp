#include "gatewayd/app/reload.hpp"

#include "gatewayd/app/addresses.hpp"
#include "gatewayd/config/config_loader.hpp"

#include <spdlog/spdlog.h>

namespace gw {

std::vector<std::string> keep_restart_only_settings(config& next, const config& running) {
    std::vector<std::string> warnings;
    if (next.listen_address != running.listen_address) {
        warnings.push_back("listen changed to " + next.listen + "; it takes a restart, still listening on " +
                           running.listen);
    }
    if (next.admin.address != running.admin.address) {
        warnings.push_back("admin.listen changed to \"" + next.admin.listen + "\"; it takes a restart");
    }
    // Everything in redis but the per-command timeout says where and how to connect.
    redis_config connection = next.redis;
    connection.timeout = running.redis.timeout;
    if (connection != running.redis) {
        warnings.push_back("redis connection settings changed; they take a restart");
    }
    if (next.tls.address != running.tls.address) {
        warnings.push_back("tls.listen changed to \"" + next.tls.listen + "\"; it takes a restart" +
                           (running.tls.listen.empty() ? std::string(", still no TLS listener")
                                                       : ", still listening on " + running.tls.listen));
    }
    if (next.threads != running.threads) {
        warnings.push_back("threads changed to " + std::to_string(next.threads) + "; it takes a restart, still " +
                           std::to_string(running.threads));
    }
    next.listen = running.listen;
    next.listen_address = running.listen_address;
    next.admin = running.admin;
    next.tls.listen = running.tls.listen;
    next.tls.address = running.tls.address;
    next.threads = running.threads;
    const duration timeout = next.redis.timeout;
    next.redis = running.redis;
    next.redis.timeout = timeout;
    return warnings;
}

std::optional<reloaded_config> read_reloaded_config(const config& running, const std::string& config_path) {
    auto loaded = load_config_file(config_path);
    if (!loaded.value) {
        for (const auto& error : loaded.errors) spdlog::error("reload: {}", error.to_string());
        spdlog::error("reload of {} failed: {} problem(s); the running config stays", config_path,
                      loaded.errors.size());
        return std::nullopt;
    }
    std::string error;
    auto endpoints = resolve_backends(*loaded.value, error);
    if (!endpoints) {
        spdlog::error("reload of {} failed: {}; the running config stays", config_path, error);
        return std::nullopt;
    }
    auto next = std::make_shared<config>(std::move(*loaded.value));
    for (const auto& warning : keep_restart_only_settings(*next, running)) spdlog::warn("reload: {}", warning);
    return reloaded_config{std::move(next), std::move(*endpoints)};
}

}  // namespace gw
