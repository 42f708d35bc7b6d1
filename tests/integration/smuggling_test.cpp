// Request smuggling and framing: every hostile request is sent raw over a socket. The gateway
// either rejects it (400 or 431, then closes) or forwards exactly one request in one unambiguous
// form; a strict recording backend checks that it never sees a second, smuggled request.
//
// Decisions asserted here where RFC 9112 leaves a choice:
// - Identical duplicate Content-Length values ("5" twice, "5, 5") are forwarded as one length.
// - Any obs-folded header line is rejected with 400, as nginx does (RFC 9112 5.2 allows a server
//   to): unfolding it would let one field hide another ("X-A: b\r\n Content-Length: 3").
// - Bare LF and bare CR line endings are rejected with 400.
// - A Transfer-Encoding that is not exactly one final `chunked` is rejected with 400, as is
//   Transfer-Encoding in an HTTP/1.0 request (RFC 9112 6.1 and 6.3).
// - Absolute-form `GET http://host/p?q HTTP/1.1` is forwarded in origin-form `/p?q`, so the
//   gateway routes on the same path the backend serves; `OPTIONS *` is forwarded as it is and
//   asterisk-form with any other method is rejected.
// - A request line longer than client.max_header_bytes gets 431 like any oversized header.
// - An invalid chunk in the body gets 400 while nothing was answered yet.
#include "harness.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

namespace it {
namespace {

using namespace std::string_literals;

// A plain request appended after every rejected one: the gateway must close before reading it.
constexpr std::string_view follow_up = "GET /after-rejected HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
constexpr std::string_view smuggled_request = "GET /smuggled HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

struct smuggling_case {
    std::string name;
    std::string bytes;            // sent as they are, in one write
    int status = 400;             // the gateway's answer
    std::string error = "bad_request";  // for a rejection; empty: forwarded
    std::string target;           // forwarded: the one target the backend sees
    std::string body;             // forwarded: the body the backend receives
    std::string header_name;      // forwarded: a header the backend must see once, with this value
    std::string header_value;
};

std::ostream& operator<<(std::ostream& out, const smuggling_case& c) { return out << c.name; }

std::string post_head(std::string_view target, std::string_view framing, std::string_view version = "HTTP/1.1") {
    return "POST "s.append(target).append(" ").append(version).append("\r\nHost: 127.0.0.1\r\n").append(framing).append("\r\n");
}

std::string hex(std::size_t size) {
    char text[32];
    const int n = std::snprintf(text, sizeof text, "%zx", size);
    return std::string(text, static_cast<std::size_t>(n));
}

smuggling_case rejected(std::string name, std::string bytes, int status = 400,
                        std::string error = "bad_request") {
    return {std::move(name), std::move(bytes), status, std::move(error), {}, {}};
}

smuggling_case forwarded(std::string name, std::string bytes, std::string target, std::string body) {
    return {std::move(name), std::move(bytes), 200, {}, std::move(target), std::move(body)};
}

std::vector<smuggling_case> framing_cases() {
    const std::string hidden(smuggled_request);
    const std::string chunked_hello = "5\r\nhello\r\n0\r\n\r\n";
    return {
        // Content-Length and Transfer-Encoding together, in either order (CL.TE and TE.CL).
        rejected("ContentLengthThenTransferEncoding",
                 post_head("/cl-te", "Content-Length: 6\r\nTransfer-Encoding: chunked\r\n") + "0\r\n\r\n" + hidden),
        rejected("TransferEncodingThenContentLength",
                 post_head("/te-cl", "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n") + hex(hidden.size()) +
                     "\r\n" + hidden + "\r\n0\r\n\r\n"),
        // Content-Length values.
        rejected("ConflictingContentLengthLines",
                 post_head("/cl-cl", "Content-Length: 5\r\nContent-Length: 50\r\n") + "hello" + hidden),
        rejected("ConflictingContentLengthList", post_head("/cl-list", "Content-Length: 5, 50\r\n") + "hello" + hidden),
        rejected("ContentLengthWithPlusSign", post_head("/cl-plus", "Content-Length: +5\r\n") + "hello"),
        rejected("NegativeContentLength", post_head("/cl-minus", "Content-Length: -5\r\n") + "hello"),
        rejected("HexContentLength", post_head("/cl-hex", "Content-Length: 0x5\r\n") + "hello"),
        rejected("ContentLengthWithInnerSpace", post_head("/cl-space", "Content-Length: 5 0\r\n") + "hello"),
        rejected("DecimalContentLength", post_head("/cl-decimal", "Content-Length: 5.0\r\n") + "hello"),
        rejected("EmptyContentLength", post_head("/cl-empty", "Content-Length: \r\n") + "hello"),
        // 2^64 + 5 wraps to 5 in a careless parser.
        rejected("ContentLengthOverflowingTo5", post_head("/cl-wrap", "Content-Length: 18446744073709551621\r\n") + "hello"),
        rejected("HugeContentLength",
                 post_head("/cl-huge", "Content-Length: 999999999999999999999999999999\r\n") + "hello"),
        forwarded("IdenticalContentLengthLinesAreOneLength",
                  post_head("/cl-same", "Content-Length: 5\r\nContent-Length: 5\r\n") + "hello", "/cl-same", "hello"),
        forwarded("IdenticalContentLengthListIsOneLength",
                  post_head("/cl-same-list", "Content-Length: 5, 5\r\n") + "hello", "/cl-same-list", "hello"),
        // Transfer-Encoding other than one final chunked.
        // Beast takes only a final chunked as chunked and the rest as no body at all.
        rejected("ChunkedThenIdentity",
                 post_head("/te-identity", "Transfer-Encoding: chunked, identity\r\n") + chunked_hello + hidden),
        rejected("IdentityOnly", post_head("/te-only-identity", "Transfer-Encoding: identity\r\n") + chunked_hello),
        rejected("XChunked", post_head("/te-x", "Transfer-Encoding: xchunked\r\n") + chunked_hello + hidden),
        rejected("ChunkedTwiceInAList",
                 post_head("/te-twice", "Transfer-Encoding: chunked, chunked\r\n") + chunked_hello + hidden),
        rejected("ChunkedOnTwoLines",
                 post_head("/te-two-lines", "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n") +
                     chunked_hello + hidden),
        rejected("GzipOnly", post_head("/te-gzip", "Transfer-Encoding: gzip\r\n") + chunked_hello),
        rejected("ChunkedInHttp10",
                 post_head("/te-10", "Transfer-Encoding: chunked\r\n", "HTTP/1.0") + chunked_hello + hidden),
        rejected("VerticalTabBeforeChunked",
                 post_head("/te-vt", "Transfer-Encoding: \x0b" "chunked\r\n") + chunked_hello + hidden),
        forwarded("UpperCaseChunkedIsChunked", post_head("/te-upper", "Transfer-Encoding: CHUNKED\r\n") + chunked_hello,
                  "/te-upper", "hello"),
        // Chunk sizes and chunk lines.
        // The header is fine and already forwarded; the client still gets its 400.
        rejected("ChunkSizeOverflowingTo5",
                 post_head("/chunk-wrap", "Transfer-Encoding: chunked\r\n") + "10000000000000005\r\nhello\r\n0\r\n\r\n" + hidden),
        rejected("NegativeChunkSize",
                 post_head("/chunk-minus", "Transfer-Encoding: chunked\r\n") + "-5\r\nhello\r\n0\r\n\r\n" + hidden),
        rejected("HexPrefixedChunkSize",
                 post_head("/chunk-0x", "Transfer-Encoding: chunked\r\n") + "0x5\r\nhello\r\n0\r\n\r\n" + hidden),
        rejected("ChunkDataWithoutCrlf",
                 post_head("/chunk-nocrlf", "Transfer-Encoding: chunked\r\n") + "5\r\nhelloXX" + hidden + "0\r\n\r\n"),
        rejected("ChunkExtensionWithControlBytes",
                 post_head("/chunk-ext", "Transfer-Encoding: chunked\r\n") + "5;\x01\x02junk\r\nhello\r\n0\r\n\r\n" + hidden),
        rejected("ChunkLinesWithBareLf",
                 post_head("/chunk-lf", "Transfer-Encoding: chunked\r\n") + "5\nhello\n0\n\n" + hidden),
        forwarded("ValidChunkExtensionIsDropped",
                  post_head("/chunk-ext-ok", "Transfer-Encoding: chunked\r\n") + "5;name=value\r\nhello\r\n0\r\n\r\n",
                  "/chunk-ext-ok", "hello"),
        // A request hidden inside a well-framed body is body, never a request.
        forwarded("RequestHiddenInContentLengthBody",
                  post_head("/carrier-cl", "Content-Length: " + std::to_string(hidden.size()) + "\r\n") + hidden,
                  "/carrier-cl", hidden),
        forwarded("RequestHiddenInChunkedBody",
                  post_head("/carrier-chunked", "Transfer-Encoding: chunked\r\n") + hex(hidden.size()) + "\r\n" + hidden +
                      "\r\n0\r\n\r\n",
                  "/carrier-chunked", hidden),
        // Naming the framing header in Connection must not drop the framing itself.
        forwarded("ConnectionNamingContentLength",
                  post_head("/conn-cl", "Connection: Content-Length\r\nContent-Length: 5\r\n") + "hello", "/conn-cl",
                  "hello"),
    };
}

std::vector<smuggling_case> header_cases() {
    const std::string get = "GET /h HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    return {
        rejected("ObsFoldedValue", get + "X-Folded: one\r\n two\r\n\r\n"),
        // Unfolded this would read "identity chunked".
        rejected("ObsFoldedTransferEncoding",
                 post_head("/fold-te", "Transfer-Encoding: identity\r\n chunked\r\n") + "5\r\nhello\r\n0\r\n\r\n"),
        rejected("FoldRightAfterRequestLine", "GET /fold-first HTTP/1.1\r\n Host: 127.0.0.1\r\n\r\n"s),
        rejected("BareLfEverywhere", "GET /lf HTTP/1.1\nHost: 127.0.0.1\n\n"s),
        rejected("BareLfInOneHeaderLine", get + "X-A: a\nX-B: b\r\n\r\n"),
        rejected("BareCrInsideValue", get + "X-A: a\rX-B: b\r\n\r\n"),
        rejected("NulInValue", get + "X-A: a\0b\r\n\r\n"s),
        rejected("DelInValue", get + "X-A: a\x7f" "b\r\n\r\n"),
        rejected("ControlByteInValue", get + "X-A: a\x01" "b\r\n\r\n"),
        rejected("NulInName", get + "X-\0A: b\r\n\r\n"s),
        rejected("DelInName", get + "X-\x7f" "A: b\r\n\r\n"),
        rejected("SpaceInName", get + "X A: b\r\n\r\n"),
        rejected("SpaceBeforeColon", get + "X-A : b\r\n\r\n"),
        rejected("SpaceBeforeColonOfContentLength",
                 post_head("/cl-colon", "Content-Length : 5\r\n") + "hello" + std::string(smuggled_request)),
        rejected("TabBeforeColonOfTransferEncoding",
                 post_head("/te-colon", "Transfer-Encoding\t: chunked\r\n") + "5\r\nhello\r\n0\r\n\r\n"),
    };
}

std::vector<smuggling_case> target_cases() {
    return {
        forwarded("AbsoluteFormIsForwardedInOriginForm",
                  "GET http://evil.example/abs/p?q=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", "/abs/p?q=1", ""),
        forwarded("AbsoluteFormWithoutPathIsSlash", "GET http://evil.example HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", "/", ""),
        forwarded("AsteriskFormOptionsIsForwarded", "OPTIONS * HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", "*", ""),
        rejected("AsteriskFormWithGet", "GET * HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"),
        rejected("AuthorityFormWithGet", "GET evil.example:80 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"),
        rejected("RequestLineOverMaxHeaderBytes",
                 "GET /" + std::string(20 * 1024, 'a') + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 431,
                 "headers_too_large"),
    };
}

class SmugglingTest : public ::testing::TestWithParam<smuggling_case> {
protected:
    temp_dir dir_;
};

// The backend saw only `probe` and, when forwarding was expected, exactly that one request.
void expect_backend_saw(const scripted_backend& backend, const smuggling_case& c, std::string_view probe) {
    std::size_t complete_probes = 0;
    std::size_t complete_expected = 0;
    for (const auto& seen : backend.requests()) {
        const std::string what = seen.method + " " + seen.target + " on connection " + std::to_string(seen.connection);
        EXPECT_EQ(seen.target.find("smuggled"), std::string::npos) << "smuggled request reached the backend: " << what;
        EXPECT_EQ(seen.target.find("after-rejected"), std::string::npos)
            << "the request after a rejected one reached the backend: " << what;
        EXPECT_TRUE(seen.framing_error.empty()) << "backend got bad framing (" << seen.framing_error << "): " << what;
        if (!seen.complete) continue;  // a body cut off when the gateway gave up on it
        if (seen.target == probe) {
            ++complete_probes;
            continue;
        }
        if (!c.error.empty()) {
            ADD_FAILURE() << "a rejected request reached the backend complete: " << what;
            continue;
        }
        ++complete_expected;
        EXPECT_EQ(seen.target, c.target);
        EXPECT_EQ(seen.body, c.body);
        EXPECT_LE(seen.header_count("content-length") + seen.header_count("transfer-encoding"), 1u) << what;
        if (!c.header_name.empty()) {
            EXPECT_EQ(seen.header_count(c.header_name), 1u) << what;
            EXPECT_EQ(seen.header(c.header_name).value_or("(none)"), c.header_value) << what;
        }
    }
    EXPECT_EQ(complete_probes, 1u);
    EXPECT_EQ(complete_expected, c.error.empty() ? 1u : 0u) << "complete requests other than the probe";
}

TEST_P(SmugglingTest, RejectedOrForwardedOnceNeverSmuggled) {
    const auto& c = GetParam();
    scripted_backend backend(scripted_backend::answer_ok("seen"));
    gateway_process gateway(dir_, {.backends = {backend.url()},
                                   .upstream = "connect_timeout: 500ms, retries: 0",
                                   .health_check = "enabled: false"});

    auto connection = gateway.connect(3s);
    connection->send(c.error.empty() ? c.bytes : c.bytes + std::string(follow_up));
    http_response response;
    try {
        response = connection->read_response();
    } catch (const std::exception& e) {
        ADD_FAILURE() << "no response from the gateway: " << e.what();
    }
    if (!c.error.empty()) {
        EXPECT_TRUE(is_error_response(response, c.status, c.error));
        EXPECT_TRUE(connection->closed_by_peer(2s)) << "connection still open after a rejected request";
    } else {
        EXPECT_EQ(response.status, 200) << describe(response);
        EXPECT_EQ(response.body, "seen") << describe(response);
    }
    connection.reset();

    // A plain request afterwards: once the backend has it, whatever the hostile one caused is in.
    const std::string probe = "/probe-after";
    EXPECT_EQ(gateway.request("GET", probe).status, 200);
    ASSERT_TRUE(wait_until(
        [&] {
            for (const auto& seen : backend.requests()) {
                if (seen.target == probe && seen.complete) return true;
            }
            return false;
        },
        3s));
    expect_backend_saw(backend, c, probe);
}

std::string case_name(const ::testing::TestParamInfo<smuggling_case>& info) { return info.param.name; }

INSTANTIATE_TEST_SUITE_P(Framing, SmugglingTest, ::testing::ValuesIn(framing_cases()), case_name);
INSTANTIATE_TEST_SUITE_P(Headers, SmugglingTest, ::testing::ValuesIn(header_cases()), case_name);
INSTANTIATE_TEST_SUITE_P(Targets, SmugglingTest, ::testing::ValuesIn(target_cases()), case_name);

// Several hostile requests pipelined on one connection behind a valid one: the valid one is
// answered, the first hostile one rejected, nothing after it reaches the backend.
TEST(SmugglingPipelineTest, ValidRequestThenConflictingFramingThenMore) {
    temp_dir dir;
    scripted_backend backend(scripted_backend::answer_ok("seen"));
    gateway_process gateway(dir, {.backends = {backend.url()},
                                  .upstream = "connect_timeout: 500ms, retries: 0",
                                  .health_check = "enabled: false"});

    auto connection = gateway.connect(3s);
    std::string bytes = "GET /first HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    bytes += post_head("/second", "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n") + "0\r\n\r\n";
    bytes += smuggled_request;
    bytes += smuggled_request;
    connection->send(bytes);
    const auto first = connection->read_response();
    EXPECT_EQ(first.status, 200) << describe(first);
    const auto second = connection->read_response();
    EXPECT_TRUE(is_error_response(second, 400, "bad_request"));
    EXPECT_TRUE(connection->closed_by_peer(2s)) << "connection still open after a rejected request";

    EXPECT_EQ(gateway.request("GET", "/probe").status, 200);
    ASSERT_TRUE(wait_until([&] { return backend.requests().size() >= 2; }, 3s));
    std::vector<std::string> targets;
    for (const auto& seen : backend.requests()) targets.push_back(seen.target);
    EXPECT_EQ(targets, (std::vector<std::string>{"/first", "/probe"}));
}

}  // namespace
}  // namespace it
