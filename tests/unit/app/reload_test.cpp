#include "gatewayd/app/reload.hpp"

#include "gatewayd/config/config_loader.hpp"

#include <gtest/gtest.h>

namespace {

gw::config load(std::string_view yaml) {
    auto loaded = gw::load_config_text(yaml, "reload.yaml");
    EXPECT_TRUE(loaded.value.has_value());
    return loaded.value.value_or(gw::config{});
}

TEST(Reload, WhatTakesARestartKeepsItsRunningValueAndSaysSo) {
    const gw::config running = load("listen: 0.0.0.0:8080\nthreads: 2\nredis: {address: 127.0.0.1:6379, db: 1}\n");
    gw::config next = load("listen: 0.0.0.0:9090\nthreads: 4\nadmin: {listen: \"\"}\n"
                           "redis: {address: 10.0.0.1:6379, db: 2, timeout: 250ms}\n"
                           "upstream: {timeout: 7s}\n");
    const auto warnings = gw::keep_restart_only_settings(next, running);
    EXPECT_EQ(warnings.size(), 4u);
    EXPECT_EQ(next.listen, "0.0.0.0:8080");
    EXPECT_EQ(next.threads, 2u);
    EXPECT_TRUE(next.admin.address.has_value());
    EXPECT_EQ(next.redis.address, "127.0.0.1:6379");
    EXPECT_EQ(next.redis.db, 1u);
    // Everything else applies.
    EXPECT_EQ(next.redis.timeout, std::chrono::milliseconds(250));
    EXPECT_EQ(next.upstream.timeout, std::chrono::seconds(7));
}

TEST(Reload, EveryRedisConnectionSettingTakesARestartButTheTimeoutApplies) {
    const gw::config running = load("redis: {mode: sentinel, sentinels: [\"s1:26379\"]}\n");
    for (const char* changed : {
             "redis: {mode: sentinel, sentinels: [\"s2:26379\"]}\n",
             "redis: {mode: sentinel, sentinels: [\"s1:26379\"], master_name: other}\n",
             "redis: {mode: sentinel, sentinels: [\"s1:26379\"], sentinel_password: x}\n",
             "redis: {mode: sentinel, sentinels: [\"s1:26379\"], username: gw}\n",
             "redis: {mode: cluster, nodes: [\"n1:7000\"]}\n",
         }) {
        gw::config next = load(changed);
        EXPECT_EQ(gw::keep_restart_only_settings(next, running).size(), 1u) << changed;
        EXPECT_EQ(next.redis, running.redis) << changed;
    }
    gw::config next = load("redis: {mode: sentinel, sentinels: [\"s1:26379\"], timeout: 50ms}\n");
    EXPECT_TRUE(gw::keep_restart_only_settings(next, running).empty());
    EXPECT_EQ(next.redis.timeout, std::chrono::milliseconds(50));
}

TEST(Reload, AnUnchangedFileWarnsOfNothing) {
    const gw::config running = load("listen: 0.0.0.0:8080\n");
    gw::config next = running;
    EXPECT_TRUE(gw::keep_restart_only_settings(next, running).empty());
}

}  // namespace
