#include "gatewayd/tls/sni.hpp"

#include <gtest/gtest.h>

namespace gw::tls {
namespace {

TEST(Sni, NamesMatchExactlyOrThroughAOneLabelWildcard) {
    struct row {
        std::string_view pattern;
        std::string_view host;
        name_match expected;
    };
    for (const auto& [pattern, host, expected] : std::vector<row>{
             {"api.example.com", "api.example.com", name_match::exact},
             {"api.example.com", "API.Example.COM", name_match::exact},
             {"api.example.com", "api.example.com.", name_match::exact},
             {"api.example.com", "www.example.com", name_match::none},
             {"*.example.com", "api.example.com", name_match::wildcard},
             {"*.example.com", "API.EXAMPLE.com", name_match::wildcard},
             {"*.example.com", "example.com", name_match::none},
             {"*.example.com", "a.b.example.com", name_match::none},
             {"*.example.com", ".example.com", name_match::none},
             {"*.example.com", "apiexample.com", name_match::none},
             {"*.com", "example.com", name_match::wildcard},
             {"*", "example", name_match::none},
             {"*.", "a.", name_match::none},
             {"a*.example.com", "ab.example.com", name_match::none},
             {"api.example.com", "", name_match::none},
             {"", "api.example.com", name_match::none},
         }) {
        EXPECT_EQ(match_name(pattern, host), expected) << pattern << " vs " << host;
    }
}

TEST(Sni, ChoosesTheExactNameFirstThenAWildcardThenTheDefault) {
    const std::vector<std::vector<std::string>> names{
        {"default.example.com"},
        {"*.example.com"},
        {"api.example.com", "api.other.test"},
        {"*.other.test"},
    };
    struct row {
        std::string_view server_name;
        std::size_t expected;
    };
    for (const auto& [server_name, expected] : std::vector<row>{
             {"", 0},                       // no SNI: the first certificate
             {"unknown.test", 0},           // no certificate names it: the first
             {"default.example.com", 0},
             {"api.example.com", 2},        // exact beats the wildcard listed before it
             {"API.Example.Com", 2},
             {"www.example.com", 1},
             {"api.other.test", 2},
             {"www.other.test", 3},
             {"a.b.example.com", 0},        // a wildcard covers one label only
             {"example.com", 0},
             {std::string_view("api.example.com\0x", 17), 0},
         }) {
        EXPECT_EQ(choose_certificate(names, server_name), expected) << server_name;
    }
}

TEST(Sni, TheFirstOfTwoCertificatesNamingTheSameHostWins) {
    const std::vector<std::vector<std::string>> names{{"a.test"}, {"*.test"}, {"b.test", "a.test"}, {"*.test"}};
    EXPECT_EQ(choose_certificate(names, "a.test"), 0u);
    EXPECT_EQ(choose_certificate(names, "b.test"), 2u);
    EXPECT_EQ(choose_certificate(names, "c.test"), 1u);
}

TEST(Sni, NoCertificatesMeansTheDefaultIndex) {
    EXPECT_EQ(choose_certificate({}, "a.test"), 0u);
}

}  // namespace
}  // namespace gw::tls
