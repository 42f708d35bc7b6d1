// Routing seen from outside: requests land on the pool of the route they match (counted at the
// mock backends), strip_prefix as the backend sees it, 404 no_route, per-route rate limits in Redis,
// one breaker per backend URL whichever routes use it, routes added by SIGHUP, and the route named
// in the access log and in the admin /backends report.
#include "harness.hpp"

#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <optional>
#include <regex>
#include <string>
#include <vector>

namespace it {
namespace {

using headers_t = std::vector<std::pair<std::string, std::string>>;

// One entry of the `routes:` list.
struct route_spec {
    std::string name;
    std::string path_prefix;
    std::string host;                                  // empty: no host filter
    std::vector<std::string> methods;                  // empty: any method
    bool strip_prefix = false;
    std::optional<std::vector<std::string>> backends;  // nullopt: the top-level backends
    std::string rate_limit;                            // inner text of the flow mapping; empty: none
};

std::string routes_yaml(const std::vector<route_spec>& routes) {
    std::string yaml = "routes:\n";
    for (const auto& route : routes) {
        yaml += "  - name: " + route.name + "\n";
        yaml += "    match: {path_prefix: \"" + route.path_prefix + "\"";
        if (!route.host.empty()) yaml += ", host: \"" + route.host + "\"";
        if (!route.methods.empty()) {
            yaml += ", methods: [";
            for (std::size_t i = 0; i < route.methods.size(); ++i) yaml += (i ? ", " : "") + route.methods[i];
            yaml += "]";
        }
        yaml += "}\n";
        if (route.strip_prefix) yaml += "    strip_prefix: true\n";
        if (route.backends) {
            yaml += "    backends:\n";
            for (const auto& url : *route.backends) yaml += "      - url: " + url + "\n";
        }
        if (!route.rate_limit.empty()) yaml += "    rate_limit: {" + route.rate_limit + "}\n";
    }
    return yaml;
}

std::string port_of(const http_response& response) { return response.header("X-Backend-Port").value_or("-"); }
std::string port_of(const mock_backend& backend) { return std::to_string(backend.port()); }

std::string default_body(const mock_backend& backend, std::string_view path) {
    return "Response from backend on port " + port_of(backend) + " | path: " + std::string(path);
}

// The mock's request lines carry "target=T" at the end of the line: exact target match.
std::size_t exact_target_count(const mock_backend& backend, const std::string& target) {
    const auto lines = backend.requests(target);
    return static_cast<std::size_t>(std::count_if(lines.begin(), lines.end(), [&](const std::string& line) {
        return line.size() >= target.size() + 8 && line.ends_with(" target=" + target);
    }));
}

// Every request the backend saw, health checks excluded.
std::size_t traffic(const mock_backend& backend) {
    return backend.request_count("/") - backend.request_count("/healthz");
}

const std::string breaker_30s =
    "circuit_breaker: {enabled: true, min_requests: 5, failure_ratio: 0.6, open_timeout: 30s, "
    "half_open_max_requests: 3, interval: 60s}\n";

// url -> route names, from the admin /backends body (rows are flat objects; "routes" an array of
// strings). nullopt when some object has no "url" or no "routes".
std::optional<std::vector<std::pair<std::string, std::vector<std::string>>>> routes_by_url(const std::string& body) {
    static const std::regex object_re(R"(\{[^{}]*\})");
    static const std::regex url_re(R"re("url"\s*:\s*"([^"\\]*)")re");
    static const std::regex routes_re(R"re("routes"\s*:\s*\[([^\]]*)\])re");
    static const std::regex name_re(R"re("([^"\\]*)")re");
    std::vector<std::pair<std::string, std::vector<std::string>>> out;
    for (std::sregex_iterator it(body.begin(), body.end(), object_re), end; it != end; ++it) {
        const std::string object = it->str();
        std::smatch url, routes;
        if (!std::regex_search(object, url, url_re) || !std::regex_search(object, routes, routes_re)) {
            return std::nullopt;
        }
        std::vector<std::string> names;
        const std::string list = routes[1];
        for (std::sregex_iterator n(list.begin(), list.end(), name_re), nend; n != nend; ++n) names.push_back((*n)[1]);
        out.emplace_back(url[1], std::move(names));
    }
    return out;
}

class RoutingTest : public ::testing::Test {
protected:
    temp_dir dir_;

    // One request on a fresh connection; returns once its access-log line is written, so the
    // breaker has recorded the outcome before the next request.
    static http_response settled(const gateway_process& gateway, std::string_view method, const std::string& target,
                                 const headers_t& headers = {}) {
        auto response = gateway.request(method, target, headers);
        EXPECT_TRUE(wait_until(
            [&] { return count_lines_containing(gateway.log_path(), " path=" + target + " status=") == 1; }, 2s, 2ms))
            << "no access-log line for " << target;
        return response;
    }
};

TEST_F(RoutingTest, TwoRoutesToTwoPoolsPlusADefaultPoolEachRequestLandsWhereItShould) {
    mock_backend u1(dir_), u2(dir_), o1(dir_), d1(dir_);
    const std::vector<route_spec> routes{
        {.name = "users", .path_prefix = "/api/users", .backends = std::vector{u1.url(), u2.url()}},
        {.name = "orders", .path_prefix = "/api/orders", .host = "orders.example.com", .methods = {"GET", "POST"},
         .backends = std::vector{o1.url()}},
        // Listed after `users` and matching a subset of it: first match wins, so never used.
        {.name = "shadowed", .path_prefix = "/api/users/admin", .backends = std::vector{o1.url()}},
    };
    gateway_process gateway(dir_, {.backends = {d1.url()}, .extra = routes_yaml(routes)});

    struct expectation {
        std::string method;
        std::string target;
        std::string host;
        const mock_backend* lands_on;  // nullptr: either users backend
    };
    const std::vector<expectation> cases{
        {"GET", "/api/users", "", nullptr},
        {"GET", "/api/users/1", "", nullptr},
        {"POST", "/api/users/2", "", nullptr},
        {"GET", "/api/users/3/orders?x=1", "", nullptr},
        {"GET", "/api/users/admin/4", "", nullptr},
        {"GET", "/api/users/", "", nullptr},
        {"GET", "/api/usersX", "", &d1},                     // not on a segment boundary
        {"GET", "/api/users-old/1", "", &d1},
        {"GET", "/api/user", "", &d1},
        {"GET", "/api/orders/1", "orders.example.com", &o1},
        {"GET", "/api/orders", "orders.example.com", &o1},
        {"POST", "/api/orders/2", "ORDERS.Example.COM:8080", &o1},  // case-insensitive, port ignored
        {"GET", "/api/orders/3", "other.example.com", &d1},         // host filter
        {"GET", "/api/orders/4", "", &d1},                          // Host: 127.0.0.1
        {"DELETE", "/api/orders/5", "orders.example.com", &d1},     // method filter
        {"PUT", "/api/orders/6", "orders.example.com", &d1},
        {"GET", "/api/ordersX", "orders.example.com", &d1},
        {"GET", "/other", "", &d1},
        {"GET", "/", "", &d1},
    };
    std::size_t users_requests = 0;
    for (const auto& c : cases) {
        headers_t headers;
        if (!c.host.empty()) headers.emplace_back("Host", c.host);
        const auto response = gateway.request(c.method, c.target, headers);
        const auto what = c.method + " " + c.target + (c.host.empty() ? "" : " Host: " + c.host);
        ASSERT_EQ(response.status, 200) << what << ":\n" << describe(response);
        if (c.lands_on == nullptr) {
            ++users_requests;
            EXPECT_TRUE(port_of(response) == port_of(u1) || port_of(response) == port_of(u2))
                << what << " should reach the users pool (" << port_of(u1) << " or " << port_of(u2) << "):\n"
                << describe(response);
        } else {
            EXPECT_EQ(port_of(response), port_of(*c.lands_on)) << what << ":\n" << describe(response);
            EXPECT_EQ(response.body, default_body(*c.lands_on, c.target)) << what;
        }
        EXPECT_EQ(exact_target_count(u1, c.target) + exact_target_count(u2, c.target) +
                      exact_target_count(o1, c.target) + exact_target_count(d1, c.target),
                  1u)
            << what << " did not reach exactly one backend once";
    }
    // Counted at the backends: round robin within the users pool, nothing anywhere else.
    EXPECT_EQ(traffic(u1) + traffic(u2), users_requests);
    EXPECT_EQ(traffic(u1), users_requests / 2) << "users pool not round robin";
    EXPECT_EQ(traffic(u2), users_requests - users_requests / 2) << "users pool not round robin";
    EXPECT_EQ(traffic(o1), 3u) << "orders backend (also the shadowed route's) got other traffic";
    EXPECT_EQ(traffic(d1), cases.size() - users_requests - 3);
    EXPECT_EQ(o1.request_count("/api/users"), 0u) << "the later route `shadowed` won over `users`";
}

TEST_F(RoutingTest, StripPrefixIsWhatTheBackendSees) {
    mock_backend u(dir_), k(dir_), d(dir_);
    const std::vector<route_spec> routes{
        {.name = "users", .path_prefix = "/api/users", .strip_prefix = true, .backends = std::vector{u.url()}},
        {.name = "kept", .path_prefix = "/api/kept", .backends = std::vector{k.url()}},
    };
    gateway_process gateway(dir_, {.backends = {d.url()}, .extra = routes_yaml(routes)});

    const std::vector<std::pair<std::string, std::string>> stripped{
        {"/api/users/7?q=1", "/7?q=1"},
        {"/api/users", "/"},
        {"/api/users?q=2", "/?q=2"},
        {"/api/users/a/b/", "/a/b/"},
    };
    for (const auto& [sent, seen] : stripped) {
        const auto response = gateway.request("GET", sent);
        ASSERT_EQ(response.status, 200) << sent << ":\n" << describe(response);
        EXPECT_EQ(port_of(response), port_of(u)) << sent;
        EXPECT_EQ(response.body, default_body(u, seen)) << sent << " should reach the backend as " << seen;
        EXPECT_EQ(exact_target_count(u, seen), 1u) << sent << " -> " << seen << "; backend saw:\n"
                                                    << read_file(u.log_path());
    }
    EXPECT_EQ(u.request_count("/api/"), 0u) << "the prefix reached the backend";
    EXPECT_EQ(traffic(u), stripped.size());

    // Without strip_prefix the full target is forwarded.
    const auto kept = gateway.request("GET", "/api/kept/7?q=1");
    ASSERT_EQ(kept.status, 200) << describe(kept);
    EXPECT_EQ(kept.body, default_body(k, "/api/kept/7?q=1"));
    EXPECT_EQ(exact_target_count(k, "/api/kept/7?q=1"), 1u);
    EXPECT_EQ(traffic(d), 0u);
}

TEST_F(RoutingTest, NoDefaultPoolAnswers404NoRouteWhileAMatchingRouteServes) {
    mock_backend u(dir_);
    const std::vector<route_spec> routes{
        {.name = "users", .path_prefix = "/api/users", .methods = {"GET"}, .backends = std::vector{u.url()}},
    };
    gateway_process gateway(dir_, {.backends = {}, .extra = routes_yaml(routes)});

    for (const auto& [method, target] : std::vector<std::pair<std::string, std::string>>{
             {"GET", "/nothing/here"}, {"GET", "/api/usersX"}, {"GET", "/"}, {"POST", "/api/users/1"}}) {
        const auto response = gateway.request(method, target);
        EXPECT_TRUE(is_error_response(response, 404, "no_route")) << method << " " << target;
    }
    const auto served = gateway.request("GET", "/api/users/1");
    EXPECT_EQ(served.status, 200) << describe(served);
    EXPECT_EQ(served.body, default_body(u, "/api/users/1"));
    EXPECT_EQ(traffic(u), 1u) << "an unrouted request reached the route's backend";

    // The connection stays usable after a 404 (keep-alive), and routing still works on it.
    auto connection = gateway.connect();
    EXPECT_TRUE(is_error_response(connection->request("GET", "/nope"), 404, "no_route"));
    const auto after = connection->request("GET", "/api/users/2");
    EXPECT_EQ(after.status, 200) << describe(after);
    EXPECT_EQ(traffic(u), 2u);
}

TEST_F(RoutingTest, RouteLimitOfThreeGives429OnTheFourthWhileOtherRoutesKeepServingTheSameClient) {
    mock_backend u(dir_), o(dir_), d(dir_);
    redis_server redis(dir_);
    const std::vector<route_spec> routes{
        {.name = "users", .path_prefix = "/api/users", .backends = std::vector{u.url()},
         .rate_limit = "requests: 3, window: 30s"},
        {.name = "orders", .path_prefix = "/api/orders", .backends = std::vector{o.url()}},
    };
    gateway_process gateway(
        dir_, {.backends = {d.url()},
               .extra = routes_yaml(routes),
               .rate_limit = "enabled: true, requests: 100, window: 1m, store: redis, on_store_error: memory, "
                             "headers: true",
               .redis = "address: \"" + redis.address() + "\", timeout: 100ms"});
    ASSERT_TRUE(wait_until(
        [&] {
            return count_lines_containing(gateway.log_path(),
                                          "rate limit store redis " + redis.address() + " connected") > 0;
        },
        5s))
        << gateway.log();

    auto connection = gateway.connect();
    for (int i = 0; i < 3; ++i) {
        const auto response = connection->request("GET", "/api/users/" + std::to_string(i));
        ASSERT_EQ(response.status, 200) << "users request " << i + 1 << ":\n" << describe(response);
        EXPECT_EQ(response.header("X-RateLimit-Limit").value_or("-"), "3") << describe(response);
        EXPECT_EQ(response.header("X-RateLimit-Remaining").value_or("-"), std::to_string(2 - i)) << describe(response);
    }
    const auto fourth = connection->request("GET", "/api/users/3");
    EXPECT_TRUE(is_error_response(fourth, 429, "rate_limited"));
    EXPECT_EQ(fourth.header("X-RateLimit-Limit").value_or("-"), "3") << describe(fourth);

    // Same client, same connection: the other route and the default pool are not limited.
    for (int i = 0; i < 3; ++i) {
        const auto order = connection->request("GET", "/api/orders/" + std::to_string(i));
        EXPECT_EQ(order.status, 200) << describe(order);
        EXPECT_EQ(order.header("X-RateLimit-Limit").value_or("-"), "100") << describe(order);
        const auto other = connection->request("GET", "/other/" + std::to_string(i));
        EXPECT_EQ(other.status, 200) << describe(other);
        EXPECT_EQ(other.header("X-RateLimit-Remaining").value_or("-"), std::to_string(100 - 2 * (i + 1)))
            << "orders and the default pool share one counter:\n" << describe(other);
    }
    EXPECT_TRUE(is_error_response(gateway.request("GET", "/api/users/4"), 429, "rate_limited"))
        << "the users limit did not hold on a new connection";

    EXPECT_EQ(traffic(u), 3u) << "a limited request reached the users backend";
    EXPECT_EQ(traffic(o), 3u);
    EXPECT_EQ(traffic(d), 3u);

    const std::vector<std::string> expected_keys{"rate_limit:127.0.0.1", "rate_limit:users:127.0.0.1"};
    EXPECT_EQ(redis.keys(), expected_keys);
    const auto route_count = redis.get("rate_limit:users:127.0.0.1");
    ASSERT_TRUE(route_count.has_value());
    EXPECT_GE(std::stoll(*route_count), 3) << *route_count;
    EXPECT_EQ(redis.get("rate_limit:127.0.0.1"), "6") << "orders + default requests on the shared key";
    const auto route_ttl = redis.ttl("rate_limit:users:127.0.0.1");
    EXPECT_GT(route_ttl, 0) << "route key without a TTL";
    EXPECT_LE(route_ttl, 30) << "the route's own window (30s) was not used";
    const auto shared_ttl = redis.ttl("rate_limit:127.0.0.1");
    EXPECT_GT(shared_ttl, 30) << "shared key should follow the top-level window (1m)";
    EXPECT_LE(shared_ttl, 60);
    EXPECT_EQ(redis.keys_without_ttl(), std::vector<std::string>{});
}

TEST_F(RoutingTest, BackendSharedByTwoRoutesHasOneBreakerThatOpensForBoth) {
    mock_backend shared(dir_, {"--status", "500"});
    mock_backend a(dir_), b(dir_), d(dir_);
    const std::vector<route_spec> routes{
        {.name = "alpha", .path_prefix = "/alpha", .backends = std::vector{shared.url(), a.url()}},
        {.name = "beta", .path_prefix = "/beta", .backends = std::vector{shared.url(), b.url()}},
    };
    gateway_process gateway(dir_, {.backends = {d.url()},
                                   .upstream = "connect_timeout: 500ms, retries: 0",
                                   .health_check = "enabled: true, path: /healthz, interval: 200ms, timeout: 200ms",
                                   .extra = routes_yaml(routes) + breaker_30s});
    const std::string opened = "circuit breaker " + shared.url() + ": closed -> open";

    // Alternate the routes: each one's round robin sends every other request to the shared backend,
    // so five failures are reached only when both routes' failures count on one breaker.
    int failures = 0;
    for (int i = 0; i < 10; ++i) {
        for (const std::string route : {"alpha", "beta"}) {
            const auto target = "/" + route + "/" + std::to_string(i);
            const auto response = settled(gateway, "GET", target);
            const auto& own = route == "alpha" ? a : b;
            if (response.status == 500) {
                ++failures;
                EXPECT_EQ(port_of(response), port_of(shared)) << describe(response);
            } else {
                EXPECT_EQ(response.status, 200) << target << ":\n" << describe(response);
                EXPECT_EQ(port_of(response), port_of(own)) << target << ":\n" << describe(response);
            }
        }
    }
    EXPECT_EQ(failures, 5) << "client-visible 500s";
    EXPECT_EQ(shared.request_count("/alpha/") + shared.request_count("/beta/"), 5u)
        << "the shared backend kept getting requests after five failures:\n" << read_file(shared.log_path());
    EXPECT_GE(shared.request_count("/alpha/"), 2u) << "failures were not split across the routes";
    EXPECT_GE(shared.request_count("/beta/"), 2u) << "failures were not split across the routes";
    EXPECT_EQ(count_lines_containing(gateway.log_path(), opened), 1u) << gateway.log();
    EXPECT_EQ(count_lines_containing(gateway.log_path(), "circuit breaker "), 1u)
        << "one breaker transition expected in all:\n" << gateway.log();

    // Open for both routes: more traffic goes only to each route's other backend.
    for (int i = 0; i < 6; ++i) {
        EXPECT_EQ(settled(gateway, "GET", "/alpha/open/" + std::to_string(i)).status, 200);
        EXPECT_EQ(settled(gateway, "GET", "/beta/open/" + std::to_string(i)).status, 200);
    }
    EXPECT_EQ(shared.request_count("/alpha/") + shared.request_count("/beta/"), 5u);
    EXPECT_EQ(a.request_count("/alpha/open/"), 6u);
    EXPECT_EQ(b.request_count("/beta/open/"), 6u);
    EXPECT_EQ(traffic(d), 0u);
}

TEST_F(RoutingTest, SighupAddsARouteWithoutDroppingAnOpenKeepAliveConnection) {
    mock_backend d(dir_), n(dir_);
    gateway_settings settings{.backends = {d.url()}};
    gateway_process gateway(dir_, settings);

    auto kept = gateway.connect();
    for (int i = 0; i < 2; ++i) {
        const auto response = kept->request("GET", "/api/new/before/" + std::to_string(i));
        ASSERT_EQ(response.status, 200) << describe(response);
        ASSERT_EQ(port_of(response), port_of(d));
    }

    settings.extra = routes_yaml({{.name = "fresh", .path_prefix = "/api/new", .strip_prefix = true,
                                   .backends = std::vector{n.url()}}});
    write_file(gateway.config_path(), gateway_yaml(gateway.port(), settings));
    gateway.proc().send_signal(SIGHUP);
    const std::string reloaded = "config reloaded from " + gateway.config_path().string() + ": 1 backend(s), 1 route(s)";
    ASSERT_TRUE(wait_until([&] { return count_lines_containing(gateway.log_path(), reloaded) == 1; }, 3s))
        << "no \"" << reloaded << "\" after SIGHUP:\n" << gateway.log();

    for (int i = 0; i < 3; ++i) {
        const auto target = "/api/new/after/" + std::to_string(i);
        http_response response;
        ASSERT_NO_THROW(response = kept->request("GET", target)) << "the keep-alive connection was dropped";
        EXPECT_EQ(response.status, 200) << describe(response);
        EXPECT_EQ(port_of(response), port_of(n)) << target << " did not reach the new route's backend";
        EXPECT_EQ(response.body, default_body(n, "/after/" + std::to_string(i)));
        EXPECT_NE(response.header("Connection").value_or(""), "close") << describe(response);
    }
    http_response other;
    ASSERT_NO_THROW(other = kept->request("GET", "/elsewhere"));
    EXPECT_EQ(port_of(other), port_of(d)) << describe(other);
    EXPECT_FALSE(kept->closed_by_peer(200ms)) << "the gateway closed the connection opened before the reload";

    EXPECT_EQ(d.request_count("/api/new/before/"), 2u);
    EXPECT_EQ(d.request_count("/api/new/after/"), 0u) << "the old table served requests after the reload";
    EXPECT_EQ(n.request_count("/after/"), 3u);
    EXPECT_EQ(count_lines_containing(gateway.log_path(), "failed"), 0u) << gateway.log();
}

TEST_F(RoutingTest, BackendsReportListsEachUrlOnceWithItsRoutesAndTheAccessLogNamesTheRoute) {
    mock_backend d(dir_), s(dir_), u(dir_);
    const auto admin_port = free_port();
    const std::vector<route_spec> routes{
        {.name = "users", .path_prefix = "/api/users", .backends = std::vector{u.url(), s.url()}},
        {.name = "orders", .path_prefix = "/api/orders"},  // no backends: the top-level ones, own round robin
    };
    gateway_process gateway(dir_, {.backends = {d.url(), s.url()}, .extra = routes_yaml(routes),
                                   .admin = admin_listen(admin_port)});
    ASSERT_TRUE(wait_for_port(admin_port, 2s));

    const auto report = [&] {
        http_connection admin(admin_port, 2s);
        return admin.request("GET", "/backends");
    };
    const auto response = report();
    ASSERT_EQ(response.status, 200) << describe(response);
    ASSERT_TRUE(parse_backends_json(response.body).has_value()) << response.body;
    const auto rows = routes_by_url(response.body);
    ASSERT_TRUE(rows.has_value()) << "rows without \"url\" or \"routes\": " << response.body;
    ASSERT_EQ(rows->size(), 3u) << "each URL once: " << response.body;
    const auto routes_of = [&](const std::string& url) -> std::optional<std::vector<std::string>> {
        std::optional<std::vector<std::string>> found;
        for (const auto& [row_url, names] : *rows) {
            if (row_url != url) continue;
            if (found) return std::nullopt;  // listed twice
            auto sorted = names;
            std::sort(sorted.begin(), sorted.end());
            found = sorted;
        }
        return found;
    };
    EXPECT_EQ(routes_of(d.url()), (std::vector<std::string>{"default", "orders"})) << response.body;
    EXPECT_EQ(routes_of(s.url()), (std::vector<std::string>{"default", "orders", "users"})) << response.body;
    EXPECT_EQ(routes_of(u.url()), (std::vector<std::string>{"users"})) << response.body;

    // Interleaved default and orders requests: each has its own round robin over d and s, so the
    // default pool alternates too (one shared cursor would send every default request to one URL).
    for (int i = 0; i < 4; ++i) {
        ASSERT_EQ(settled(gateway, "GET", "/plain/" + std::to_string(i)).status, 200);
        ASSERT_EQ(settled(gateway, "GET", "/api/orders/" + std::to_string(i)).status, 200);
    }
    EXPECT_EQ(d.request_count("/plain/"), 2u) << "default pool lost its own round robin";
    EXPECT_EQ(s.request_count("/plain/"), 2u) << "default pool lost its own round robin";
    EXPECT_EQ(d.request_count("/api/orders/"), 2u) << "orders route lost its own round robin";
    EXPECT_EQ(s.request_count("/api/orders/"), 2u) << "orders route lost its own round robin";
    ASSERT_EQ(settled(gateway, "GET", "/api/users/1").status, 200);

    const auto line_of = [&](const std::string& target) {
        const auto lines = lines_containing(gateway.log_path(), " path=" + target + " status=");
        return lines.size() == 1 ? lines.front() : std::string("<" + std::to_string(lines.size()) + " lines>");
    };
    EXPECT_NE(line_of("/api/users/1").find(" route=users "), std::string::npos) << line_of("/api/users/1");
    EXPECT_NE(line_of("/api/orders/0").find(" route=orders "), std::string::npos) << line_of("/api/orders/0");
    EXPECT_NE(line_of("/plain/0").find(" route=- "), std::string::npos) << line_of("/plain/0");

    // The rows keep their routes after traffic, and the shared URL still appears once.
    const auto later = routes_by_url(report().body);
    ASSERT_TRUE(later.has_value());
    EXPECT_EQ(std::count_if(later->begin(), later->end(), [&](const auto& row) { return row.first == s.url(); }), 1);
}

}  // namespace
}  // namespace it
