// docs/configuration.md is the users' reference: it names every key the loader accepts, once,
// and no key the loader does not know.
#include "gatewayd/config/config_loader.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>

namespace {

// The keys of the page's tables: rows that start with "| `key`".
std::map<std::string, int> documented_keys() {
    std::ifstream page(std::filesystem::path(GATEWAYD_SOURCE_DIR) / "docs" / "configuration.md");
    EXPECT_TRUE(page.good()) << "docs/configuration.md is missing";
    std::map<std::string, int> keys;
    std::string line;
    while (std::getline(page, line)) {
        if (!line.starts_with("| `")) continue;
        const auto end = line.find('`', 3);
        if (end == std::string::npos) continue;
        ++keys[line.substr(3, end - 3)];
    }
    return keys;
}

TEST(ConfigReference, TheLoaderListsItsKeysWithListItemsAsBrackets) {
    const auto keys = gw::config_key_paths();
    const std::set<std::string> listed(keys.begin(), keys.end());
    for (const auto* key : {"listen", "client.max_header_bytes", "client.encoded_slashes", "backends[].url",
                            "routes[].match.path_prefix", "routes[].backends[].url", "routes[].rate_limit.window",
                            "redis.timeout"}) {
        EXPECT_TRUE(listed.contains(key)) << key;
    }
    EXPECT_EQ(listed.size(), keys.size()) << "a key listed twice";
}

TEST(ConfigReference, ThePageDocumentsEveryKeyTheLoaderAcceptsAndNoOther) {
    const auto documented = documented_keys();
    const auto accepted = gw::config_key_paths();
    for (const auto& key : accepted) EXPECT_TRUE(documented.contains(key)) << "not in docs/configuration.md: " << key;
    const std::set<std::string> known(accepted.begin(), accepted.end());
    for (const auto& [key, rows] : documented) {
        EXPECT_TRUE(known.contains(key)) << "docs/configuration.md names a key the loader does not accept: " << key;
        EXPECT_EQ(rows, 1) << "documented more than once: " << key;
    }
}

}  // namespace
