#include "gatewayd/config/config_loader.hpp"
#include "gatewayd/log/logging.hpp"
#include "gatewayd/app/server.hpp"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <iostream>
#include <string>
#include <string_view>

namespace {

constexpr std::string_view usage =
    "usage: gatewayd [--config FILE] [--check-config] [--version] [--help]\n"
    "\n"
    "  --config FILE    YAML configuration (default: config/gateway.yaml)\n"
    "  --check-config   validate the configuration, print \"config OK\" and exit\n"
    "  --version        print the version and exit\n"
    "  --help           print this help and exit\n"
    "\n"
    "Exit codes: 0 clean shutdown, 1 bad config or failure to start, 2 bad usage.\n";

struct options {
    std::string config_path = "config/gateway.yaml";
    bool check_only = false;
};

}  // namespace

int main(int argc, char** argv) {
    options opts;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--help" || arg == "-h") {
            std::cout << usage;
            return 0;
        }
        if (arg == "--version") {
            std::cout << "gatewayd " << GATEWAYD_VERSION << "\n";
            return 0;
        }
        if (arg == "--check-config") {
            opts.check_only = true;
        } else if (arg == "--config" && i + 1 < argc) {
            opts.config_path = argv[++i];
        } else if (arg.starts_with("--config=") && arg.size() > 9) {
            opts.config_path = std::string(arg.substr(9));
        } else {
            std::cerr << "gatewayd: unknown or incomplete argument \"" << arg << "\"\n" << usage;
            return 2;
        }
    }

    auto loaded = gw::load_config_file(opts.config_path);
    if (!loaded.value) {
        for (const auto& error : loaded.errors) std::cerr << error.to_string() << "\n";
        return 1;
    }
    if (opts.check_only) {
        std::cout << "config OK\n";
        return 0;
    }
    gw::configure_logging(loaded.value->log);
    try {
        return gw::run_server(std::make_shared<const gw::config>(std::move(*loaded.value)), opts.config_path);
    } catch (const std::exception& e) {
        spdlog::critical("gatewayd failed: {}", e.what());
        return 1;
    }
}
