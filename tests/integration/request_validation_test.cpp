// What a request must look like before it is routed: the path is normalised (dot segments,
// percent-encoded unreserved characters, repeated slashes) before a route is chosen, so a route's
// prefix is a prefix of what its backend serves; the Host header is checked as RFC 9112 3.2 asks;
// chunked bodies and header lines a strict parser would read differently are refused at once.
//
// Every request is sent raw. Two recording backends stand behind the gateway: the one of the route
// `/public` and the default pool's. They show exactly which target reached which backend, and that
// a rejected request reached none.
#include "harness.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace it {
namespace {

using namespace std::string_literals;
using headers_t = std::vector<std::pair<std::string, std::string>>;

// The two backends answer with different bodies, so the client also sees which one it reached.
const std::string public_body = "from-public";
const std::string default_body = "from-default";

millis elapsed_since(steady::time_point start) {
    return std::chrono::duration_cast<millis>(steady::now() - start);
}

// Request bytes for a failure message: CR and LF visible, long ones cut.
std::string shown(std::string_view bytes) {
    std::string out;
    for (const char c : bytes.substr(0, 120)) {
        if (c == '\r') {
            out += "\\r";
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out += c;
        }
    }
    if (bytes.size() > 120) out += "... (" + std::to_string(bytes.size()) + " bytes)";
    return out;
}

std::string get(std::string_view target, const headers_t& headers = {}) {
    return build_request("GET", target, headers);
}

std::string chunked_post(std::string_view body_bytes) {
    return "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"s.append(body_bytes);
}

// Every request the backend recorded (complete or cut short), as "TARGET" or "TARGET (cut short)".
std::vector<std::string> seen(const scripted_backend& backend) {
    std::vector<std::string> out;
    for (const auto& request : backend.requests()) {
        out.push_back(request.target + (request.complete ? "" : " (cut short)"));
    }
    return out;
}

std::vector<wire_request> complete_requests(const scripted_backend& backend) {
    auto requests = backend.requests();
    std::erase_if(requests, [](const wire_request& request) { return !request.complete; });
    return requests;
}

std::string joined(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& item : items) out += (out.empty() ? "" : ", ") + shown(item);
    return out.empty() ? "(nothing)" : out;
}

class RequestValidationTest : public ::testing::Test {
protected:
    temp_dir dir_;
    scripted_backend public_{scripted_backend::answer_ok(public_body)};    // the route /public
    scripted_backend default_{scripted_backend::answer_ok(default_body)};  // the top-level pool

    std::string public_route(bool strip_prefix = false) const {
        return "routes:\n"
               "  - name: public\n"
               "    match: {path_prefix: /public}\n"s +
               (strip_prefix ? "    strip_prefix: true\n" : "") +
               "    backends:\n"
               "      - url: " + public_.url() + "\n";
    }

    // `client`: inner text of the client mapping; `routes`: the routes YAML (default: /public).
    std::unique_ptr<gateway_process> start(std::string client = "", std::string routes = "") const {
        return std::make_unique<gateway_process>(
            dir_, gateway_settings{.backends = {default_.url()},
                                   .client = std::move(client),
                                   .upstream = "connect_timeout: 500ms, retries: 0",
                                   .health_check = "enabled: false",
                                   .extra = routes.empty() ? public_route() : std::move(routes)});
    }

    const std::string& body_of(const scripted_backend& backend) const {
        return &backend == &public_ ? public_body : default_body;
    }

    // `bytes` on a fresh connection get the gateway's own error answer within `within`, then the
    // connection is closed.
    static ::testing::AssertionResult rejected(const gateway_process& gateway, const std::string& bytes,
                                               int status = 400, std::string_view error = "bad_request",
                                               millis within = 3s) {
        auto connection = gateway.connect(within + 1s);
        const auto start = steady::now();
        http_response response;
        try {
            connection->send(bytes);
            response = connection->read_response();
        } catch (const std::exception& e) {
            return ::testing::AssertionFailure() << shown(bytes) << ": no answer after " << elapsed_since(start).count()
                                                 << " ms (" << e.what() << ")";
        }
        const auto took = elapsed_since(start);
        if (auto is_error = is_error_response(response, status, error); !is_error) {
            return is_error << "\nfor " << shown(bytes);
        }
        if (took > within) {
            return ::testing::AssertionFailure() << shown(bytes) << ": answered only after " << took.count() << " ms";
        }
        if (!connection->closed_by_peer(2s)) {
            return ::testing::AssertionFailure() << shown(bytes) << ": connection still open after the " << status;
        }
        return ::testing::AssertionSuccess();
    }

    // `bytes` on a fresh connection reach `to` (only) as one request for `target`, answered 200.
    ::testing::AssertionResult forwarded(const gateway_process& gateway, const std::string& bytes,
                                         const scripted_backend& to, const std::string& target) const {
        const scripted_backend& other = &to == &public_ ? default_ : public_;
        const auto to_before = complete_requests(to).size();
        const auto other_before = complete_requests(other).size();
        http_response response;
        try {
            auto connection = gateway.connect(3s);
            connection->send(bytes);
            response = connection->read_response();
        } catch (const std::exception& e) {
            return ::testing::AssertionFailure() << shown(bytes) << ": no answer (" << e.what() << ")";
        }
        // A scripted backend records a request before it answers it: both lists are final here.
        // (A request cut short earlier may still be recorded late; only complete ones count.)
        const auto to_now = complete_requests(to);
        const auto other_now = complete_requests(other);
        const std::string where = &to == &public_ ? "the /public backend" : "the default backend";
        auto failure = [&] {
            return ::testing::AssertionFailure()
                   << shown(bytes) << " should reach " << where << " as " << shown(target) << ", but:\n"
                   << "client got: " << describe(response) << "\n/public backend saw: " << joined(seen(public_))
                   << "\ndefault backend saw: " << joined(seen(default_));
        };
        if (response.status != 200 || response.body != body_of(to)) return failure();
        if (to_now.size() != to_before + 1 || other_now.size() != other_before) return failure();
        if (to_now.back().target != target) return failure();
        return ::testing::AssertionSuccess();
    }

    // After rejected requests: a plain request still gets through, and it is the only thing any
    // backend ever saw (cut-short requests allowed when the gateway may have sent a head on).
    ::testing::AssertionResult only_the_probe_got_through(const gateway_process& gateway,
                                                         bool allow_cut_short = false) const {
        if (auto probe = forwarded(gateway, get("/public/probe"), public_, "/public/probe"); !probe) return probe;
        std::vector<std::string> others;
        for (const auto* backend : {&public_, &default_}) {
            for (const auto& request : backend->requests()) {
                if (request.target == "/public/probe" && request.complete) continue;
                if (allow_cut_short && !request.complete) continue;
                others.push_back(request.target + (request.complete ? "" : " (cut short)"));
            }
        }
        if (!others.empty()) {
            return ::testing::AssertionFailure() << "rejected requests reached a backend: " << joined(others);
        }
        return ::testing::AssertionSuccess();
    }
};

// Paths ------------------------------------------------------------------------------------------

using RequestValidationPathTest = RequestValidationTest;

// "/public/../admin" is "/admin": a route on /public must not see (or pass on) anything outside it.
TEST_F(RequestValidationPathTest, DotSegmentsLeavingTheRouteAreRoutedByTheResolvedPath) {
    const auto gateway = start();
    for (const std::string target : {"/public/../admin", "/public/%2e%2e/admin", "/public/%2E%2E/admin",
                                     "/public/.%2e/admin", "/public/./../admin"}) {
        EXPECT_TRUE(forwarded(*gateway, get(target), default_, "/admin"));
    }
    EXPECT_TRUE(public_.requests().empty()) << "the /public backend saw: " << joined(seen(public_));
}

TEST_F(RequestValidationPathTest, DotSegmentsInsideTheRouteAreResolvedBeforeForwarding) {
    const auto gateway = start();
    EXPECT_TRUE(forwarded(*gateway, get("/public/a/../b"), public_, "/public/b"));
    EXPECT_TRUE(forwarded(*gateway, get("/public/./x"), public_, "/public/x"));
}

TEST_F(RequestValidationPathTest, PercentEncodedUnreservedCharactersAreDecoded) {
    const auto gateway = start();
    EXPECT_TRUE(forwarded(*gateway, get("/public/%7Euser"), public_, "/public/~user"));
    EXPECT_TRUE(forwarded(*gateway, get("/public/%7euser"), public_, "/public/~user"));
}

// Only the path is normalised; the query is the application's business.
TEST_F(RequestValidationPathTest, QueryStringIsForwardedUnchanged) {
    const auto gateway = start();
    EXPECT_TRUE(forwarded(*gateway, get("/public/a/../b?x=%2e%2e/../y"), public_, "/public/b?x=%2e%2e/../y"));
}

TEST_F(RequestValidationPathTest, PathClimbingAboveTheRootGets400) {
    const auto gateway = start();
    for (const std::string target : {"/..", "/../x", "/public/../../x", "/%2e%2e/x"}) {
        EXPECT_TRUE(rejected(*gateway, get(target)));
    }
    EXPECT_TRUE(only_the_probe_got_through(*gateway));
}

// A backend may decode %2F into a separator the gateway never routed on.
TEST_F(RequestValidationPathTest, EncodedSlashOrBackslashGets400ByDefault) {
    const auto gateway = start();
    for (const std::string target : {"/public/a%2Fb", "/public/a%2fb", "/public/a%5Cb", "/public/a%5cb"}) {
        EXPECT_TRUE(rejected(*gateway, get(target)));
    }
    EXPECT_TRUE(only_the_probe_got_through(*gateway));
}

// With `keep`, %2F is data inside a segment: "..%2Fadmin" is an ordinary segment, not "..".
TEST_F(RequestValidationPathTest, EncodedSlashIsForwardedAsItIsWhenConfiguredToKeep) {
    const auto gateway = start("encoded_slashes: keep");
    EXPECT_TRUE(forwarded(*gateway, get("/public/a%2Fb"), public_, "/public/a%2Fb"));
    EXPECT_TRUE(forwarded(*gateway, get("/public/..%2Fadmin"), public_, "/public/..%2Fadmin"));
}

TEST_F(RequestValidationPathTest, RepeatedSlashesAreMergedByDefault) {
    const auto gateway = start();
    EXPECT_TRUE(forwarded(*gateway, get("//public//x"), public_, "/public/x"));
}

TEST_F(RequestValidationPathTest, RepeatedSlashesAreKeptWhenMergingIsOff) {
    const auto gateway = start("merge_slashes: false");
    // "//public/x" has an empty first segment: it is not under /public.
    EXPECT_TRUE(forwarded(*gateway, get("//public/x"), default_, "//public/x"));
}

TEST_F(RequestValidationPathTest, StripPrefixAppliesToTheResolvedPath) {
    const auto gateway = start("", public_route(/*strip_prefix=*/true));
    EXPECT_TRUE(forwarded(*gateway, get("/public/a/../b"), public_, "/b"));
}

TEST_F(RequestValidationPathTest, InvalidPercentEscapeGets400) {
    const auto gateway = start();
    for (const std::string target : {"/public/%zz", "/public/%4", "/public/%"}) {
        EXPECT_TRUE(rejected(*gateway, get(target)));
    }
    EXPECT_TRUE(only_the_probe_got_through(*gateway));
}

// Some servers take '\' for '/': "/public\..\admin" would be "/admin" to them.
TEST_F(RequestValidationPathTest, RawBackslashInPathGets400) {
    const auto gateway = start();
    EXPECT_TRUE(rejected(*gateway, get("/public\\..\\admin")));
    EXPECT_TRUE(only_the_probe_got_through(*gateway));
}

// A fragment is never sent by a client (RFC 9110 7.1); what follows '#' is ambiguous to a backend.
TEST_F(RequestValidationPathTest, FragmentInTargetGets400) {
    const auto gateway = start();
    EXPECT_TRUE(rejected(*gateway, get("/public/x#frag")));
    EXPECT_TRUE(rejected(*gateway, get("/public/x?q=1#frag")));
    EXPECT_TRUE(only_the_probe_got_through(*gateway));
}

// Host (RFC 9112 3.2) ------------------------------------------------------------------------------

using RequestValidationHostTest = RequestValidationTest;

TEST_F(RequestValidationHostTest, Http11RequestWithoutHostGets400) {
    const auto gateway = start();
    EXPECT_TRUE(rejected(*gateway, "GET /public/x HTTP/1.1\r\n\r\n"));
    EXPECT_TRUE(only_the_probe_got_through(*gateway));
}

// Guards the other side of the rule: HTTP/1.0 has no Host requirement.
TEST_F(RequestValidationHostTest, Http10RequestWithoutHostIsServed) {
    const auto gateway = start();
    EXPECT_TRUE(forwarded(*gateway, "GET /public/x HTTP/1.0\r\n\r\n", public_, "/public/x"));
}

TEST_F(RequestValidationHostTest, TwoHostLinesGet400EvenWithEqualValues) {
    const auto gateway = start();
    EXPECT_TRUE(rejected(*gateway, get("/public/x", {{"Host", "a.example"}, {"Host", "b.example"}})));
    EXPECT_TRUE(rejected(*gateway, get("/public/x", {{"Host", "a.example"}, {"Host", "a.example"}})));
    EXPECT_TRUE(only_the_probe_got_through(*gateway));
}

TEST_F(RequestValidationHostTest, InvalidHostValuesGet400) {
    const auto gateway = start();
    for (const std::string host : {"a b", "[::1", "host:port", "host:99999", "a@b", "", "exa mple.com"}) {
        EXPECT_TRUE(rejected(*gateway, get("/public/x", {{"Host", host}}))) << "Host: \"" << host << "\"";
    }
    EXPECT_TRUE(only_the_probe_got_through(*gateway));
}

// Guards against a check that is too strict.
TEST_F(RequestValidationHostTest, ValidHostValuesAreServed) {
    const auto gateway = start();
    for (const std::string host : {"example.com", "example.com:8080", "[::1]:8080", "127.0.0.1", "EXAMPLE.com"}) {
        EXPECT_TRUE(forwarded(*gateway, get("/public/x", {{"Host", host}}), public_, "/public/x"))
            << "Host: \"" << host << "\"";
    }
}

// The authority of an absolute-form target replaces Host (RFC 9112 3.2.2), for routing and for the
// backend alike.
TEST_F(RequestValidationHostTest, AbsoluteFormAuthorityIsTheHostForRoutingAndForwarding) {
    const std::string routes = "routes:\n"
                               "  - name: svc\n"
                               "    match: {path_prefix: /, host: svc.example}\n"
                               "    backends:\n"
                               "      - url: " + public_.url() + "\n";
    const auto gateway = start("", routes);
    ASSERT_TRUE(forwarded(*gateway, "GET http://svc.example/x HTTP/1.1\r\nHost: other.example\r\n\r\n", public_, "/x"));
    const auto request = public_.requests().back();
    EXPECT_EQ(request.header_count("host"), 1u);
    EXPECT_EQ(request.header("host").value_or("(none)"), "svc.example");
    EXPECT_EQ(request.header("x-forwarded-host").value_or("(none)"), "svc.example");
}

TEST_F(RequestValidationHostTest, AbsoluteFormWithInvalidAuthorityGets400) {
    const auto gateway = start();
    EXPECT_TRUE(rejected(*gateway, "GET http://[::1/x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
    EXPECT_TRUE(only_the_probe_got_through(*gateway));
}

// Framing ----------------------------------------------------------------------------------------

using RequestValidationFramingTest = RequestValidationTest;

// body_timeout 5 s: a parser that waits for the closing quote shows up as an answer after 5 s.
TEST_F(RequestValidationFramingTest, ChunkExtensionWithUnclosedQuoteGets400AtOnce) {
    const auto gateway = start("body_timeout: 5s");
    EXPECT_TRUE(rejected(*gateway, chunked_post("5;a=\"b\r\nhello\r\n0\r\n\r\n"), 400, "bad_request", 1s));
    EXPECT_TRUE(only_the_probe_got_through(*gateway, /*allow_cut_short=*/true));
}

TEST_F(RequestValidationFramingTest, LastChunkEndedByBareLfGets400AtOnce) {
    const auto gateway = start("body_timeout: 5s");
    EXPECT_TRUE(rejected(*gateway, chunked_post("5\r\nhello\r\n0\r\n\n"), 400, "bad_request", 1s));
    EXPECT_TRUE(only_the_probe_got_through(*gateway, /*allow_cut_short=*/true));
}

TEST_F(RequestValidationFramingTest, BareLfAfterChunkSizeGets400AtOnce) {
    const auto gateway = start("body_timeout: 5s");
    EXPECT_TRUE(rejected(*gateway, chunked_post("5\nhello\r\n0\r\n\r\n"), 400, "bad_request", 1s));
    EXPECT_TRUE(only_the_probe_got_through(*gateway, /*allow_cut_short=*/true));
}

// Unfolded, " Content-Length: 3" is part of X-A; a parser that ends X-A at the line break reads a
// Content-Length the gateway never framed the request with.
TEST_F(RequestValidationFramingTest, ObsFoldThatLooksLikeAHeaderLineGets400) {
    const auto gateway = start();
    EXPECT_TRUE(rejected(*gateway, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: b\r\n Content-Length: 3\r\n\r\n"));
    EXPECT_TRUE(only_the_probe_got_through(*gateway));
}

// RFC 9112 2.2: a server SHOULD ignore at least one empty line before a request line (some
// clients send a CRLF after a POST body).
TEST_F(RequestValidationFramingTest, BlankLineBeforeTheNextRequestOnAKeptAliveConnectionIsIgnored) {
    const auto gateway = start();
    auto connection = gateway->connect(3s);
    connection->send(get("/first"));
    const auto first = connection->read_response();
    ASSERT_EQ(first.status, 200) << describe(first);

    connection->send("\r\nGET /second HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    http_response second;
    try {
        second = connection->read_response();
    } catch (const std::exception& e) {
        FAIL() << "no answer to the request after a blank line: " << e.what();
    }
    EXPECT_EQ(second.status, 200) << describe(second);
    EXPECT_EQ(second.body, default_body) << describe(second);
    const auto targets = seen(default_);
    EXPECT_EQ(targets, (std::vector<std::string>{"/first", "/second"})) << joined(targets);
}

TEST_F(RequestValidationFramingTest, BlankLinesBeforeTheFirstRequestAreIgnored) {
    const auto gateway = start();
    EXPECT_TRUE(forwarded(*gateway, "\r\n\r\nGET /first HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", default_, "/first"));
}

}  // namespace
}  // namespace it
