#include "gatewayd/config/host_port.hpp"

#include <gtest/gtest.h>

namespace gw {
namespace {

TEST(parse_host_port, reads_ipv4_and_names) {
    EXPECT_EQ(parse_host_port("0.0.0.0:8080"), (host_port{"0.0.0.0", 8080}));
    EXPECT_EQ(parse_host_port("127.0.0.1:6379"), (host_port{"127.0.0.1", 6379}));
    EXPECT_EQ(parse_host_port("localhost:6379"), (host_port{"localhost", 6379}));
    EXPECT_EQ(parse_host_port("redis-1.internal_zone.example:1"),
              (host_port{"redis-1.internal_zone.example", 1}));
}

TEST(parse_host_port, reads_bracketed_ipv6_without_the_brackets) {
    EXPECT_EQ(parse_host_port("[::1]:9901"), (host_port{"::1", 9901}));
    EXPECT_EQ(parse_host_port("[::]:8080"), (host_port{"::", 8080}));
    EXPECT_EQ(parse_host_port("[2001:db8::7]:65535"), (host_port{"2001:db8::7", 65535}));
}

TEST(parse_host_port, reads_an_empty_host_as_every_address) {
    EXPECT_EQ(parse_host_port(":8080"), (host_port{"", 8080}));
}

TEST(parse_host_port, rejects_bad_ports) {
    for (auto text :
         {"localhost", "localhost:", "localhost:0", "localhost:65536", "localhost:-1", "localhost:+80",
          "localhost:80a", "localhost:http", "localhost:100000", "localhost: 80"}) {
        EXPECT_EQ(parse_host_port(text), std::nullopt) << text;
    }
}

TEST(parse_host_port, rejects_bad_hosts) {
    for (auto text : {"::1:80", "[::1:80", "[1.2.3.4]:80", "[fe80::1%eth0]:80", "[]:80", "1.2.3:80",
                      "01.2.3.4:80", "256.0.0.1:80", "http://host:80", "host/path:80", "a b:80",
                      " localhost:80", "-host:80", "host..example:80", ".host:80", "host.:80"}) {
        EXPECT_EQ(parse_host_port(text), std::nullopt) << text;
    }
}

}  // namespace
}  // namespace gw
