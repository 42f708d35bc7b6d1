#include "gatewayd/http/request_head_scanner.hpp"

#include <gtest/gtest.h>

#include <string>

namespace {

using gw::head_verdict;
using gw::request_head_scanner;

gw::head_scan scan_once(std::string_view bytes, std::size_t limit = 16 * 1024) {
    request_head_scanner scanner(limit);
    return scanner.scan(bytes);
}

TEST(RequestHead, ACompleteHeadIsMeasuredUpToItsEmptyLine) {
    const std::string head = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
    const auto scan = scan_once(head + "BODY");
    EXPECT_EQ(scan.verdict, head_verdict::complete);
    EXPECT_EQ(scan.skip, 0u);
    EXPECT_EQ(scan.size, head.size());
}

TEST(RequestHead, EmptyLinesBeforeTheRequestLineAreSkipped) {
    const std::string head = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
    const auto scan = scan_once("\r\n\r\n" + head);
    EXPECT_EQ(scan.verdict, head_verdict::complete);
    EXPECT_EQ(scan.skip, 4u);
    EXPECT_EQ(scan.size, head.size());
}

TEST(RequestHead, AHeadArrivingByteByByteIsCompleteOnlyAtItsEnd) {
    const std::string head = "\r\nGET /x HTTP/1.1\r\nHost: a\r\nX: y\r\n\r\n";
    request_head_scanner scanner(1024);
    for (std::size_t n = 1; n < head.size(); ++n) {
        ASSERT_EQ(scanner.scan(std::string_view(head).substr(0, n)).verdict, head_verdict::need_more) << n;
    }
    const auto scan = scanner.scan(head);
    EXPECT_EQ(scan.verdict, head_verdict::complete);
    EXPECT_EQ(scan.skip, 2u);
    EXPECT_EQ(scan.size, head.size() - 2);
}

TEST(RequestHead, BareLineFeedsAndFoldedLinesAreBadRequests) {
    const std::string_view bad[] = {
        "GET / HTTP/1.1\nHost: a\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\n\n",
        "\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n Content-Length: 3\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n\tmore\r\n\r\n",
        "GET / HTTP/1.1\r\n Host: a\r\n\r\n",
        "GET / HTTP/1.1\r\nno colon here\r\n\r\n",
    };
    for (const auto bytes : bad) EXPECT_EQ(scan_once(bytes).verdict, head_verdict::bad_request) << bytes;
}

TEST(RequestHead, AHeadOverTheLimitIsTooLargeEvenBeforeItEnds) {
    const std::string line = "GET / HTTP/1.1\r\nX: " + std::string(2000, 'a') + "\r\n";
    EXPECT_EQ(scan_once(line + "\r\n", 1024).verdict, head_verdict::too_large);
    EXPECT_EQ(scan_once(line, 1024).verdict, head_verdict::too_large);
    EXPECT_EQ(scan_once("GET / HTTP/1.1\r\nX: " + std::string(2000, 'a'), 1024).verdict, head_verdict::too_large);
    EXPECT_EQ(scan_once(line + "\r\n", 4096).verdict, head_verdict::complete);
    // Blank lines count: an endless stream of them ends at the limit.
    std::string blanks;
    for (int i = 0; i < 600; ++i) blanks += "\r\n";
    EXPECT_EQ(scan_once(blanks, 1024).verdict, head_verdict::too_large);
}

TEST(RequestHead, AFieldBeastCannotHoldIsTooLarge) {
    const std::size_t big = 1024 * 1024;
    const std::string fits = "GET / HTTP/1.1\r\nX: " + std::string(gw::max_field_bytes - 1, 'a') + "\r\n\r\n";
    EXPECT_EQ(scan_once(fits, big).verdict, head_verdict::complete);
    const std::string value = "GET / HTTP/1.1\r\nX: " + std::string(gw::max_field_bytes, 'a') + "\r\n\r\n";
    EXPECT_EQ(scan_once(value, big).verdict, head_verdict::too_large);
    const std::string name = "GET / HTTP/1.1\r\n" + std::string(gw::max_field_bytes + 1, 'a') + ": b\r\n\r\n";
    EXPECT_EQ(scan_once(name, big).verdict, head_verdict::too_large);
}

TEST(RequestHead, ATargetBeastCannotTurnIntoAHostIsTooLong) {
    const std::size_t big = 1024 * 1024;
    const std::string target = "/" + std::string(gw::max_target_bytes, 'a');
    EXPECT_EQ(scan_once("GET " + target + " HTTP/1.1\r\nHost: a\r\n\r\n", big).verdict, head_verdict::target_too_long);
    // Known before the line ends.
    EXPECT_EQ(scan_once("GET " + target, big).verdict, head_verdict::target_too_long);
    const std::string fits = "/" + std::string(gw::max_target_bytes - 1, 'a');
    EXPECT_EQ(scan_once("GET " + fits + " HTTP/1.1\r\nHost: a\r\n\r\n", big).verdict, head_verdict::complete);
}

}  // namespace
