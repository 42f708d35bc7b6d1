#include "gatewayd/http/request_path.hpp"

#include <gtest/gtest.h>

#include <string>

namespace {

using gw::normalize_path;
using gw::path_problem;
using gw::path_rules;

// The target the backend would get: the normalised one, or the original when nothing changed.
std::string forwarded(std::string_view target, path_rules rules = {}) {
    const auto out = normalize_path(target, rules);
    EXPECT_FALSE(out.problem) << target;
    return out.target ? *out.target : std::string(target);
}

std::optional<path_problem> problem(std::string_view target, path_rules rules = {}) {
    return normalize_path(target, rules).problem;
}

TEST(RequestPath, NormalPathsAreLeftAlone) {
    for (const auto target : {"/", "/a/b", "/a/b/", "/a.b/c..d/.e", "/a?x=/../y", "/~user", "/a:b@c"}) {
        const auto out = normalize_path(target, {});
        EXPECT_FALSE(out.target) << target;
        EXPECT_FALSE(out.problem) << target;
    }
}

TEST(RequestPath, DotSegmentsAreRemoved) {
    EXPECT_EQ(forwarded("/public/../admin"), "/admin");
    EXPECT_EQ(forwarded("/public/./x"), "/public/x");
    EXPECT_EQ(forwarded("/public/a/../b"), "/public/b");
    EXPECT_EQ(forwarded("/a/b/.."), "/a/");
    EXPECT_EQ(forwarded("/a/."), "/a/");
    EXPECT_EQ(forwarded("/."), "/");
    EXPECT_EQ(forwarded("/a/.."), "/");
    EXPECT_EQ(forwarded("/a/b/../../c"), "/c");
    EXPECT_EQ(forwarded("/public/./../admin"), "/admin");
}

TEST(RequestPath, EscapedDotsAreDotsAndOtherUnreservedCharactersAreDecoded) {
    EXPECT_EQ(forwarded("/public/%2e%2e/admin"), "/admin");
    EXPECT_EQ(forwarded("/public/%2E%2E/admin"), "/admin");
    EXPECT_EQ(forwarded("/public/.%2e/admin"), "/admin");
    EXPECT_EQ(forwarded("/public/%7Euser"), "/public/~user");
    EXPECT_EQ(forwarded("/%41%62%2D%5f"), "/Ab-_");
}

TEST(RequestPath, OtherEscapesStayEscapedInUpperCase) {
    EXPECT_EQ(forwarded("/a%20b"), "/a%20b");
    EXPECT_EQ(forwarded("/a%2fb", {.reject_encoded_slashes = false}), "/a%2Fb");
    EXPECT_EQ(forwarded("/a%3fb%e2%82%ac"), "/a%3Fb%E2%82%AC");
}

TEST(RequestPath, TheQueryIsNeverTouched) {
    EXPECT_EQ(forwarded("/public/a/../b?x=%2e%2e/../y"), "/public/b?x=%2e%2e/../y");
    EXPECT_EQ(forwarded("/a/./b?%2F"), "/a/b?%2F");
}

TEST(RequestPath, ClimbingAboveTheRootIsRefused) {
    for (const auto target : {"/..", "/../x", "/public/../../x", "/%2e%2e/x", "/./../x", "/a/%2E%2E/.."}) {
        EXPECT_EQ(problem(target), path_problem::above_root) << target;
    }
}

TEST(RequestPath, EncodedSlashesAreRefusedOrKeptAsPartOfASegment) {
    for (const auto target : {"/public/a%2Fb", "/public/a%2fb", "/a%5Cb", "/a%5cb"}) {
        EXPECT_EQ(problem(target), path_problem::encoded_slash) << target;
    }
    const path_rules keep{.reject_encoded_slashes = false};
    // Not a separator: "..%2Fadmin" is an ordinary segment, and nothing is resolved across it.
    EXPECT_FALSE(normalize_path("/public/..%2Fadmin", keep).target);
    EXPECT_EQ(forwarded("/public/a%2Fb/../c", keep), "/public/c");
}

TEST(RequestPath, DoubleSlashesAreMergedOrKept) {
    EXPECT_EQ(forwarded("//public//x"), "/public/x");
    EXPECT_EQ(forwarded("/a//"), "/a/");
    EXPECT_EQ(forwarded("//"), "/");
    EXPECT_EQ(forwarded("/a//../b"), "/b");
    const path_rules keep{.merge_slashes = false};
    EXPECT_FALSE(normalize_path("//public/x", keep).target);
    EXPECT_EQ(forwarded("/a//../b", keep), "/a/b");
}

TEST(RequestPath, MalformedEscapesAndCharactersAreRefused) {
    for (const auto target : {"/public/%zz", "/public/%4", "/public/%", "/a%g0", "/public\\..\\admin", "/a#frag", "/a?q=1#frag", "x/y", ""}) {
        EXPECT_EQ(problem(target), path_problem::malformed) << target;
    }
}

}  // namespace
