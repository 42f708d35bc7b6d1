#include "gatewayd/http/head_writer.hpp"

#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/write.hpp>
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

namespace {

namespace http = boost::beast::http;

template <class Head>
std::string written(const Head& head) {
    std::vector<char> out(gw::head_size(head));
    const std::size_t size = gw::write_head(head, out);
    EXPECT_EQ(size, out.size());
    return {out.data(), size};
}

// What Beast itself writes for the same head: the bytes must not change with the writer.
template <bool is_request>
std::string beast_writes(const http::header<is_request, gw::header_fields>& head) {
    http::message<is_request, http::empty_body, gw::header_fields> message{head};
    std::ostringstream out;
    out << message.base();
    return out.str();
}

TEST(HeadWriter, RequestLineFieldsInOrderAndBlankLine) {
    gw::request_head head;
    head.method(http::verb::post);
    head.target("/api/v1/items?x=1");
    head.version(11);
    head.set(http::field::host, "example.com");
    head.insert("X-Forwarded-For", "10.0.0.1");
    head.insert("x-custom", "a");
    head.insert("X-Custom", "b");
    head.set(http::field::content_length, "5");
    EXPECT_EQ(written(head),
              "POST /api/v1/items?x=1 HTTP/1.1\r\nHost: example.com\r\nX-Forwarded-For: 10.0.0.1\r\n"
              "x-custom: a\r\nX-Custom: b\r\nContent-Length: 5\r\n\r\n");
    EXPECT_EQ(written(head), beast_writes(head));
}

TEST(HeadWriter, UnknownMethodIsWrittenAsReceived) {
    gw::request_head head;
    head.method_string("PURGE");
    head.target("/cache");
    head.version(11);
    EXPECT_EQ(written(head), "PURGE /cache HTTP/1.1\r\n\r\n");
    EXPECT_EQ(written(head), beast_writes(head));
}

TEST(HeadWriter, StatusLineKeepsTheBackendsReasonOrUsesTheStandardOne) {
    gw::response_head head;
    head.result(404);
    head.version(11);
    head.set(http::field::content_length, "0");
    EXPECT_EQ(written(head), "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
    EXPECT_EQ(written(head), beast_writes(head));

    head.reason("Nothing Here");
    EXPECT_EQ(written(head), "HTTP/1.1 404 Nothing Here\r\nContent-Length: 0\r\n\r\n");
    EXPECT_EQ(written(head), beast_writes(head));
}

TEST(HeadWriter, UnusualStatusAndHttp10) {
    gw::response_head head;
    head.result(599);
    head.version(10);
    head.reason("");
    EXPECT_EQ(written(head), beast_writes(head));
    EXPECT_EQ(written(head).substr(0, 13), "HTTP/1.0 599 ");
}

TEST(HeadWriter, TooSmallABufferWritesNothing) {
    gw::response_head head;
    head.result(200);
    head.version(11);
    head.set(http::field::content_type, "text/plain");
    const std::size_t size = gw::head_size(head);
    std::vector<char> out(size - 1, 'x');
    EXPECT_EQ(gw::write_head(head, out), 0u);
    EXPECT_EQ(std::string(out.begin(), out.end()), std::string(size - 1, 'x'));
}

TEST(HeadWriter, ChunkSizeLineIsLowerCaseHexWithoutPadding) {
    EXPECT_EQ(gw::chunk_size_line(0).text(), "0\r\n");
    EXPECT_EQ(gw::chunk_size_line(1).text(), "1\r\n");
    EXPECT_EQ(gw::chunk_size_line(255).text(), "ff\r\n");
    EXPECT_EQ(gw::chunk_size_line(65536).text(), "10000\r\n");
    EXPECT_EQ(gw::chunk_size_line(SIZE_MAX).text(), "ffffffffffffffff\r\n");
}

}  // namespace
