#include "gatewayd/http/host_header.hpp"

#include <gtest/gtest.h>

#include <string>

namespace {

TEST(HostHeader, NamesAddressesAndPortsAreValid) {
    for (const auto value : {"example.com", "example.com:8080", "EXAMPLE.com", "127.0.0.1", "127.0.0.1:80", "[::1]",
                             "[::1]:8080", "[2001:db8::1]:443", "a-b_c.d~e", "host:", "xn--bcher-kva.example",
                             "a%41b", "sub!$&'()*+,;=delims"}) {
        EXPECT_TRUE(gw::valid_host(value)) << value;
    }
}

TEST(HostHeader, AnythingElseIsInvalid) {
    for (const auto value : {"", "a b", "[::1", "::1", "[::1]x", "[::1]:x", "[zz::1]", "host:port", "host:99999",
                             "host:123456", "a@b", "exa mple.com", "a/b", "a?b", "a#b", "%zz", ":80", "a:1:2",
                             "h\tx", "[]"}) {
        EXPECT_FALSE(gw::valid_host(value)) << value;
    }
    EXPECT_FALSE(gw::valid_host(std::string(256, 'a')));
    // An address that inet_pton would read only up to a NUL byte (found by the fuzzer).
    EXPECT_FALSE(gw::valid_host(std::string("[::1\0\0\0\x14]:0880", 14)));
    EXPECT_TRUE(gw::valid_host(std::string(255, 'a')));
}

}  // namespace
