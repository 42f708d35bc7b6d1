#include "gatewayd/limit/limit_rule.hpp"
#include "gatewayd/limit/route_limits.hpp"

#include <gtest/gtest.h>

namespace {

using namespace std::chrono_literals;

TEST(RouteLimits, WithoutARouteOrAnOverrideTheTopLevelIsUsedAsItIs) {
    gw::config settings;
    std::optional<gw::rate_limit_config> storage;
    EXPECT_EQ(&gw::limits_for(settings, nullptr, storage), &settings.rate_limit);
    gw::route_config plain{.name = "users"};
    EXPECT_EQ(&gw::limits_for(settings, &plain, storage), &settings.rate_limit);
    EXPECT_FALSE(storage.has_value());
}

TEST(RouteLimits, ARouteOverridesTheFieldsItSetsAndCountsUnderItsName) {
    gw::config settings;
    settings.rate_limit.requests = 100;
    settings.rate_limit.window = 60s;
    settings.rate_limit.store = "memory";
    const struct {
        gw::route_rate_limit own;
        bool enabled;
        std::uint64_t requests;
        std::chrono::milliseconds window;
    } cases[] = {
        {{.enabled = std::nullopt, .requests = 10, .window = std::nullopt}, true, 10, 60s},
        {{.enabled = std::nullopt, .requests = std::nullopt, .window = 1s}, true, 100, 1s},
        {{.enabled = false, .requests = std::nullopt, .window = std::nullopt}, false, 100, 60s},
        {{.enabled = true, .requests = 3, .window = 250ms}, true, 3, 250ms},
    };
    for (const auto& c : cases) {
        gw::route_config route{.name = "orders", .rate_limit = c.own};
        std::optional<gw::rate_limit_config> storage;
        const auto& limits = gw::limits_for(settings, &route, storage);
        EXPECT_EQ(limits.enabled, c.enabled);
        EXPECT_EQ(limits.requests, c.requests);
        EXPECT_EQ(limits.window, c.window);
        EXPECT_EQ(limits.key_prefix, "rate_limit:orders:");
        EXPECT_EQ(limits.store, "memory") << "what the route does not set comes from the top level";
    }
}

}  // namespace

namespace {

TEST(RateLimitPlan, ARouteGetsItsMergedSettingsAndARuleWithItsPrefixAndScriptArguments) {
    gw::config settings;
    gw::route_config route;
    route.name = "orders";
    route.rate_limit = gw::route_rate_limit{.enabled = std::nullopt, .requests = 10, .window = std::chrono::seconds(1)};
    const auto plan = gw::plan_rate_limits(settings, &route);
    ASSERT_EQ(plan.rules.size(), 1u);
    const auto& rule = plan.rules.front();
    EXPECT_EQ(rule.name, "default");
    EXPECT_EQ(rule.algorithm->name(), "fixed_window");
    EXPECT_EQ(rule.key_prefix, "rate_limit:orders:");
    EXPECT_EQ(rule.script_args, (std::array<std::string, 5>{"fixed_window", "10", "1000", "0", "0"}));
    EXPECT_EQ(gw::plan_rate_limits(settings, nullptr).rules.front().key_prefix, "rate_limit:");
    settings.rate_limit.enabled = false;
    EXPECT_TRUE(gw::plan_rate_limits(settings, nullptr).rules.empty());
}

}  // namespace
