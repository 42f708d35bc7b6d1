#include "gatewayd/http/header_rewrite.hpp"
#include "gatewayd/http/request_head_scanner.hpp"

#include <gtest/gtest.h>

namespace {

namespace http = boost::beast::http;

TEST(HeaderRewrite, RemovesStandardHopByHopHeaders) {
    gw::header_fields f;
    f.set(http::field::connection, "keep-alive");
    f.set(http::field::keep_alive, "timeout=5");
    f.set(http::field::proxy_connection, "keep-alive");
    f.set(http::field::te, "trailers");
    f.set(http::field::trailer, "X-Checksum");
    f.set(http::field::transfer_encoding, "chunked");
    f.set(http::field::upgrade, "websocket");
    f.set(http::field::content_type, "text/plain");
    gw::remove_hop_by_hop(f);
    for (const auto name : {http::field::connection, http::field::keep_alive, http::field::proxy_connection,
                            http::field::te, http::field::trailer, http::field::transfer_encoding,
                            http::field::upgrade}) {
        EXPECT_EQ(f.count(name), 0u) << name;
    }
    EXPECT_EQ(f[http::field::content_type], "text/plain");
}

TEST(HeaderRewrite, RemovesHeadersNamedInConnection) {
    gw::header_fields f;
    f.insert(http::field::connection, "close, X-Secret ,x-other");
    f.insert(http::field::connection, "X-Third");
    f.set("X-Secret", "1");
    f.set("X-Other", "2");
    f.set("X-Third", "3");
    f.set("X-Kept", "4");
    gw::remove_hop_by_hop(f);
    EXPECT_EQ(f.count("X-Secret"), 0u);
    EXPECT_EQ(f.count("X-Other"), 0u);
    EXPECT_EQ(f.count("X-Third"), 0u);
    EXPECT_EQ(f["X-Kept"], "4");
}

TEST(HeaderRewrite, ForwardedForFromUntrustedPeerIsThePeerAlone) {
    EXPECT_EQ(gw::forwarded_for("6.6.6.6", false, "10.1.2.3"), "10.1.2.3");
    EXPECT_EQ(gw::forwarded_for("", false, "10.1.2.3"), "10.1.2.3");
}

TEST(HeaderRewrite, ForwardedForFromTrustedPeerAppendsThePeer) {
    EXPECT_EQ(gw::forwarded_for("1.2.3.4, 5.6.7.8", true, "10.0.0.1"), "1.2.3.4, 5.6.7.8, 10.0.0.1");
    EXPECT_EQ(gw::forwarded_for("  ", true, "10.0.0.1"), "10.0.0.1");
}

TEST(HeaderRewrite, RequestFromUntrustedPeerGetsOurForwardedHeaders) {
    gw::header_fields f;
    f.set(http::field::host, "api.example.com");
    f.set("X-Forwarded-For", "6.6.6.6");
    f.set("X-Forwarded-Proto", "https");
    f.set("X-Forwarded-Host", "evil.example");
    f.set(http::field::connection, "keep-alive");
    EXPECT_TRUE(gw::rewrite_request_headers(f, {"192.0.2.7", false, "req-1"}));
    EXPECT_EQ(f["X-Forwarded-For"], "192.0.2.7");
    EXPECT_EQ(f["X-Forwarded-Proto"], "http");
    EXPECT_EQ(f["X-Forwarded-Host"], "api.example.com");
    EXPECT_EQ(f["X-Request-Id"], "req-1");
    EXPECT_EQ(f[http::field::host], "api.example.com");
    EXPECT_EQ(f.count(http::field::connection), 0u);
}

TEST(HeaderRewrite, RequestFromTrustedPeerKeepsItsChain) {
    gw::header_fields f;
    f.set(http::field::host, "api.example.com");
    f.insert("X-Forwarded-For", "1.1.1.1");
    f.insert("X-Forwarded-For", "2.2.2.2");
    f.set("X-Forwarded-Proto", "https");
    f.set("X-Forwarded-Host", "public.example.com");
    EXPECT_TRUE(gw::rewrite_request_headers(f, {"10.0.0.5", true, "id"}));
    EXPECT_EQ(f.count("X-Forwarded-For"), 1u);
    EXPECT_EQ(f["X-Forwarded-For"], "1.1.1.1, 2.2.2.2, 10.0.0.5");
    EXPECT_EQ(f["X-Forwarded-Proto"], "https");
    EXPECT_EQ(f["X-Forwarded-Host"], "public.example.com");
}

// The chain a trusted peer sends plus its own address must still fit in one header field.
TEST(HeaderRewrite, ATrustedChainTooLongToExtendIsRefused) {
    const std::string peer = "10.0.0.5";
    gw::header_fields fits;
    fits.set("X-Forwarded-For", std::string(gw::max_field_bytes - peer.size() - 2, '1'));
    EXPECT_TRUE(gw::rewrite_request_headers(fits, {peer, true, "id"}));
    EXPECT_EQ(fits["X-Forwarded-For"].size(), gw::max_field_bytes);
    gw::header_fields too_long;
    too_long.set("X-Forwarded-For", std::string(gw::max_field_bytes - peer.size() - 1, '1'));
    EXPECT_FALSE(gw::rewrite_request_headers(too_long, {peer, true, "id"}));
    // From an untrusted peer the chain is dropped, so its length does not matter.
    EXPECT_TRUE(gw::rewrite_request_headers(too_long, {peer, false, "id"}));
}

TEST(HeaderRewrite, NoHostMeansNoForwardedHost) {
    gw::header_fields f;
    f.set("X-Forwarded-Host", "spoofed");
    gw::rewrite_request_headers(f, {"192.0.2.7", false, "id"});
    EXPECT_EQ(f.count("X-Forwarded-Host"), 0u);
}

TEST(HeaderRewrite, ResponseLosesHopByHopAndCarriesRequestId) {
    gw::header_fields f;
    f.set(http::field::connection, "close, X-Internal");
    f.set("X-Internal", "secret");
    f.set(http::field::transfer_encoding, "chunked");
    f.set("X-Request-Id", "from-backend");
    f.set(http::field::server, "backend");
    gw::rewrite_response_headers(f, "abc");
    EXPECT_EQ(f.count(http::field::connection), 0u);
    EXPECT_EQ(f.count("X-Internal"), 0u);
    EXPECT_EQ(f.count(http::field::transfer_encoding), 0u);
    EXPECT_EQ(f["X-Request-Id"], "abc");
    EXPECT_EQ(f[http::field::server], "backend");
}

TEST(HeaderRewrite, RequestsThatCameOverTlsAreForwardedAsHttps) {
    gw::header_fields f;
    f.set("X-Forwarded-Proto", "http");
    EXPECT_TRUE(gw::rewrite_request_headers(f, {"192.0.2.7", false, "id", true}));
    EXPECT_EQ(f["X-Forwarded-Proto"], "https");
    // A trusted proxy in front still says what its client used.
    gw::header_fields trusted;
    trusted.set("X-Forwarded-Proto", "http");
    EXPECT_TRUE(gw::rewrite_request_headers(trusted, {"10.0.0.5", true, "id", true}));
    EXPECT_EQ(trusted["X-Forwarded-Proto"], "http");
}

TEST(HeaderRewrite, TunnelProtocolsAreTheOfferWithoutH2c) {
    struct row {
        bool connection_upgrade;
        std::string offered;
        std::string kept;
    };
    for (const auto& [connection_upgrade, offered, kept] : std::vector<row>{
             {true, "websocket", "websocket"},
             {true, "WebSocket", "WebSocket"},
             {true, "h2c", ""},
             {true, "H2C", ""},
             {true, "h2c, websocket", "websocket"},
             {true, "foo/2, h2c/1.0 ,  bar", "foo/2, bar"},
             {true, " , ", ""},
             {true, "", ""},
             {false, "websocket", ""},  // Upgrade without Connection: upgrade is no request to switch
         }) {
        EXPECT_EQ(gw::tunnel_protocols({connection_upgrade, offered}), kept) << offered;
    }
}

TEST(HeaderRewrite, AnUpgradeGoesOutWithItsTwoHeadersWhenTheCallerTakesUpgrades) {
    gw::header_fields f;
    f.set(http::field::host, "a");
    f.insert(http::field::connection, "keep-alive, Upgrade");
    f.insert(http::field::upgrade, "websocket");
    f.set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==");
    std::string upgrade = "stale";
    EXPECT_TRUE(gw::rewrite_request_headers(f, {"192.0.2.7", false, "id"}, &upgrade));
    EXPECT_EQ(upgrade, "websocket");
    EXPECT_EQ(f[http::field::connection], "upgrade");
    EXPECT_EQ(f[http::field::upgrade], "websocket");
    EXPECT_EQ(f["Sec-WebSocket-Key"], "dGhlIHNhbXBsZSBub25jZQ==");

    // Without the caller's consent (a request with a body) both go as any hop-by-hop header.
    gw::header_fields refused;
    refused.insert(http::field::connection, "upgrade");
    refused.insert(http::field::upgrade, "websocket");
    EXPECT_TRUE(gw::rewrite_request_headers(refused, {"192.0.2.7", false, "id"}));
    EXPECT_EQ(refused.count(http::field::connection), 0u);
    EXPECT_EQ(refused.count(http::field::upgrade), 0u);
}

TEST(HeaderRewrite, H2cIsDroppedWithTheHeadersConnectionNames) {
    gw::header_fields f;
    f.insert(http::field::connection, "Upgrade, HTTP2-Settings");
    f.insert(http::field::upgrade, "h2c");
    f.set("HTTP2-Settings", "AAMAAABkAARAAAAAAAIAAAAA");
    std::string upgrade;
    EXPECT_TRUE(gw::rewrite_request_headers(f, {"192.0.2.7", false, "id"}, &upgrade));
    EXPECT_EQ(upgrade, "");
    EXPECT_EQ(f.count(http::field::connection), 0u);
    EXPECT_EQ(f.count(http::field::upgrade), 0u);
    EXPECT_EQ(f.count("HTTP2-Settings"), 0u);
}

TEST(HeaderRewrite, ASwitchingResponseKeepsItsUpgradeAnswer) {
    gw::header_fields f;
    f.set(http::field::connection, "Upgrade, X-Internal");
    f.set(http::field::upgrade, "websocket");
    f.set("X-Internal", "secret");
    f.set("Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    gw::rewrite_switching_headers(f, "abc");
    EXPECT_EQ(f[http::field::connection], "upgrade");
    EXPECT_EQ(f[http::field::upgrade], "websocket");
    EXPECT_EQ(f.count("X-Internal"), 0u);
    EXPECT_EQ(f["Sec-WebSocket-Accept"], "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    EXPECT_EQ(f["X-Request-Id"], "abc");
}

TEST(HeaderRewrite, RateLimitHeaders) {
    const gw::rate_header_choice x_only{true, ""};
    gw::header_fields allowed;
    gw::set_rate_limit_headers(allowed, {.allowed = true, .limit = 100, .remaining = 42, .reset_seconds = 17, .retry_after = 17},
                               x_only, false);
    EXPECT_EQ(allowed["X-RateLimit-Limit"], "100");
    EXPECT_EQ(allowed["X-RateLimit-Remaining"], "42");
    EXPECT_EQ(allowed["X-RateLimit-Reset"], "17");
    EXPECT_EQ(allowed.count(http::field::retry_after), 0u);
    EXPECT_EQ(allowed.count("RateLimit"), 0u);

    gw::header_fields refused;
    gw::set_rate_limit_headers(refused, {.allowed = false, .limit = 100, .remaining = 0, .reset_seconds = 9, .retry_after = 9},
                               x_only, true);
    EXPECT_EQ(refused["X-RateLimit-Remaining"], "0");
    EXPECT_EQ(refused[http::field::retry_after], "9");
}

// The IETF httpapi draft's structured fields, as the contract spells them.
TEST(HeaderRewrite, StandardRateLimitHeadersDescribeThePolicyAndTheHeadlineRule) {
    gw::header_fields f;
    const gw::rate_decision decision{.allowed = true, .limit = 100, .remaining = 42, .reset_seconds = 17, .retry_after = 17,
                                     .rule = "default"};
    gw::set_rate_limit_headers(f, decision, {false, "\"default\";q=100;w=60, \"burst\";q=10;w=1"}, false);
    EXPECT_EQ(f["RateLimit-Policy"], "\"default\";q=100;w=60, \"burst\";q=10;w=1");
    EXPECT_EQ(f["RateLimit"], "\"default\";r=42;t=17");
    EXPECT_EQ(f.count("X-RateLimit-Limit"), 0u) << "headers: false leaves the X- headers out";
    // Retry-After on a 429 whatever the choice.
    gw::header_fields none;
    gw::set_rate_limit_headers(none, decision, {false, ""}, true);
    EXPECT_EQ(none[http::field::retry_after], "17");
    EXPECT_EQ(none.count("X-RateLimit-Limit") + none.count("RateLimit"), 0u);
}

}  // namespace
