#include "gatewayd/chain/route_table.hpp"

#include <gtest/gtest.h>

#include <chrono>

namespace {

gw::route_config route(std::string name, std::string prefix, std::string host = "", std::vector<std::string> methods = {}) {
    gw::route_config r;
    r.name = std::move(name);
    r.path_prefix = std::move(prefix);
    r.host = std::move(host);
    r.methods = std::move(methods);
    return r;
}

TEST(PathPrefix, MatchesOnSegmentBoundaries) {
    EXPECT_TRUE(gw::path_prefix_matches("/api/users", "/api/users"));
    EXPECT_TRUE(gw::path_prefix_matches("/api/users/7", "/api/users"));
    EXPECT_TRUE(gw::path_prefix_matches("/api/users/", "/api/users"));
    EXPECT_FALSE(gw::path_prefix_matches("/api/usersX", "/api/users"));
    EXPECT_FALSE(gw::path_prefix_matches("/api/user", "/api/users"));
    EXPECT_FALSE(gw::path_prefix_matches("/API/users", "/api/users"));
    EXPECT_TRUE(gw::path_prefix_matches("/anything", "/"));
    EXPECT_TRUE(gw::path_prefix_matches("/", "/"));
    EXPECT_TRUE(gw::path_prefix_matches("/api/x", "/api/"));
    EXPECT_FALSE(gw::path_prefix_matches("/api", "/api/"));
}

TEST(StripPrefix, KeepsASlashAndTheQuery) {
    EXPECT_EQ(gw::strip_path_prefix("/api/users/7", "/api/users"), "/7");
    EXPECT_EQ(gw::strip_path_prefix("/api/users", "/api/users"), "/");
    EXPECT_EQ(gw::strip_path_prefix("/api/users/", "/api/users"), "/");
    EXPECT_EQ(gw::strip_path_prefix("/api/users?q=1&r=/x", "/api/users"), "/?q=1&r=/x");
    EXPECT_EQ(gw::strip_path_prefix("/api/users/7/posts?q=1", "/api/users"), "/7/posts?q=1");
    EXPECT_EQ(gw::strip_path_prefix("/api/x/y", "/api/"), "/x/y");
    EXPECT_EQ(gw::strip_path_prefix("/a/b", "/"), "/a/b");
}

TEST(RouteTable, FirstMatchInOrderWins) {
    const gw::route_table table({route("users", "/api/users"), route("api", "/api"), route("all", "/")});
    EXPECT_EQ(table.match("/api/users/1", "h", "GET"), 0u);
    EXPECT_EQ(table.match("/api/orders", "h", "GET"), 1u);
    EXPECT_EQ(table.match("/api/usersX", "h", "GET"), 1u);
    EXPECT_EQ(table.match("/other", "h", "GET"), 2u);
    EXPECT_EQ(table.match("/", "h", "GET"), 2u);
}

TEST(RouteTable, CatchAllBeforeSpecificStillWinsByOrder) {
    const gw::route_table table({route("all", "/"), route("users", "/api/users")});
    EXPECT_EQ(table.match("/api/users", "h", "GET"), 0u);
}

TEST(RouteTable, NoMatchMeansTheDefaultPool) {
    const gw::route_table table({route("users", "/api/users")});
    EXPECT_FALSE(table.match("/api", "h", "GET"));
    EXPECT_FALSE(table.match("/static/a.css", "h", "GET"));
    EXPECT_FALSE(table.match("http://example.com/api/users", "h", "GET"));
    EXPECT_FALSE(gw::route_table(std::vector<gw::route_config>{}).match("/x", "h", "GET"));
}

TEST(RouteTable, QueryStringIsNotPartOfThePath) {
    const gw::route_table table({route("users", "/api/users")});
    EXPECT_EQ(table.match("/api/users?x=/y", "h", "GET"), 0u);
    EXPECT_FALSE(table.match("/api/usersX?x=1", "h", "GET"));
}

TEST(RouteTable, HostIsCaseInsensitiveAndItsPortIgnored) {
    const gw::route_table table({route("a", "/", "api.example.com"), route("b", "/")});
    EXPECT_EQ(table.match("/x", "API.Example.com", "GET"), 0u);
    EXPECT_EQ(table.match("/x", "api.example.com:8080", "GET"), 0u);
    EXPECT_EQ(table.match("/x", "www.example.com", "GET"), 1u);
    EXPECT_EQ(table.match("/x", "", "GET"), 1u);
    const gw::route_table v6({route("v6", "/", "[::1]")});
    EXPECT_EQ(v6.match("/x", "[::1]:8080", "GET"), 0u);
}

TEST(RouteTable, MethodsFilter) {
    const gw::route_table table({route("writes", "/api", "", {"POST", "PUT"}), route("reads", "/api")});
    EXPECT_EQ(table.match("/api/x", "h", "POST"), 0u);
    EXPECT_EQ(table.match("/api/x", "h", "PUT"), 0u);
    EXPECT_EQ(table.match("/api/x", "h", "GET"), 1u);
    EXPECT_EQ(table.match("/api/x", "h", "post"), 1u) << "methods are case-sensitive tokens";
}

TEST(RouteTable, ThousandRoutesStillFindTheRightOne) {
    std::vector<gw::route_config> routes;
    for (int i = 0; i < 1000; ++i) routes.push_back(route("r" + std::to_string(i), "/svc" + std::to_string(i)));
    routes.push_back(route("all", "/"));
    const gw::route_table table(routes);
    EXPECT_EQ(table.match("/svc0/x", "h", "GET"), 0u);
    EXPECT_EQ(table.match("/svc999", "h", "GET"), 999u);
    EXPECT_EQ(table.match("/svc1000", "h", "GET"), 1000u);
    EXPECT_EQ(table.match("/svc5x", "h", "GET"), 1000u);
}

}  // namespace
