#include "gatewayd/http/request_framing.hpp"

#include <gtest/gtest.h>

namespace {

using gw::acceptable_transfer_encoding;
using gw::normalize_target;

TEST(TransferEncoding, NoneOrOneChunkedIsAccepted) {
    EXPECT_TRUE(acceptable_transfer_encoding({}, 11));
    EXPECT_TRUE(acceptable_transfer_encoding({"chunked"}, 11));
    EXPECT_TRUE(acceptable_transfer_encoding({"Chunked"}, 11));
    EXPECT_TRUE(acceptable_transfer_encoding({" chunked\t"}, 11));
    EXPECT_TRUE(acceptable_transfer_encoding({"", "chunked"}, 11));
}

TEST(TransferEncoding, AnyOtherCodingRepeatedChunkedOrHttp10IsRefused) {
    EXPECT_FALSE(acceptable_transfer_encoding({"chunked, identity"}, 11));
    EXPECT_FALSE(acceptable_transfer_encoding({"identity"}, 11));
    EXPECT_FALSE(acceptable_transfer_encoding({"gzip"}, 11));
    EXPECT_FALSE(acceptable_transfer_encoding({"gzip, chunked"}, 11));  // we would have to decode it
    EXPECT_FALSE(acceptable_transfer_encoding({"xchunked"}, 11));
    EXPECT_FALSE(acceptable_transfer_encoding({"chunked, chunked"}, 11));
    EXPECT_FALSE(acceptable_transfer_encoding({"chunked", "chunked"}, 11));
    EXPECT_FALSE(acceptable_transfer_encoding({"identity chunked"}, 11));  // an unfolded obs-fold
    EXPECT_FALSE(acceptable_transfer_encoding({"chunked"}, 10));
}

TEST(NormalizeTarget, OriginFormStaysAsItIs) {
    const auto out = normalize_target("/a/b?c=d", false);
    ASSERT_TRUE(out.has_value());
    EXPECT_TRUE(out->path.empty());
    EXPECT_TRUE(out->authority.empty());
}

TEST(NormalizeTarget, AbsoluteFormBecomesOriginFormWithItsAuthority) {
    auto out = normalize_target("http://evil.example/abs/p?q=1", false);
    ASSERT_TRUE(out.has_value());
    EXPECT_EQ(out->path, "/abs/p?q=1");
    EXPECT_EQ(out->authority, "evil.example");
    out = normalize_target("HTTP://h:8080", false);
    ASSERT_TRUE(out.has_value());
    EXPECT_EQ(out->path, "/");
    EXPECT_EQ(out->authority, "h:8080");
    out = normalize_target("https://h?x=1", false);
    ASSERT_TRUE(out.has_value());
    EXPECT_EQ(out->path, "/?x=1");
}

TEST(NormalizeTarget, OtherFormsAreRefused) {
    EXPECT_FALSE(normalize_target("*", false).has_value());
    EXPECT_TRUE(normalize_target("*", true).has_value());
    EXPECT_FALSE(normalize_target("evil.example:80", false).has_value());
    EXPECT_FALSE(normalize_target("index.html", false).has_value());
    EXPECT_FALSE(normalize_target("", false).has_value());
    EXPECT_FALSE(normalize_target("http://", false).has_value());
    EXPECT_FALSE(normalize_target("http://user@h/", false).has_value());
    EXPECT_FALSE(normalize_target("ftp://h/", false).has_value());
}

}  // namespace
