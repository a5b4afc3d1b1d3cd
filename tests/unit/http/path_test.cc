#include "http/path.h"

#include <gtest/gtest.h>

#include <string>

namespace basalt::http {
namespace {

struct Normalized {
  PathError error;
  std::string path;
  std::string query;
};

Normalized normalize(std::string_view target) {
  std::string out;
  std::string_view query;
  const PathError e = normalize_target(target, out, query);
  return {e, out, std::string(query)};
}

std::string path_of(std::string_view target) {
  const Normalized n = normalize(target);
  EXPECT_EQ(n.error, PathError::none) << target;
  return n.path;
}

PathError error_of(std::string_view target) { return normalize(target).error; }

TEST(NormalizeTarget, KeepsAnAlreadyCanonicalPath) {
  EXPECT_EQ(path_of("/"), "/");
  EXPECT_EQ(path_of("/users/42"), "/users/42");
  EXPECT_EQ(path_of("/users/42/"), "/users/42/");
  EXPECT_EQ(path_of("/a:b@c!$&'()*+,;=-._~"), "/a:b@c!$&'()*+,;=-._~");
}

TEST(NormalizeTarget, RefusesTargetsThatAreNotOriginForm) {
  EXPECT_EQ(error_of(""), PathError::not_origin_form);
  EXPECT_EQ(error_of("*"), PathError::not_origin_form);
  EXPECT_EQ(error_of("http://x/y"), PathError::not_origin_form);
  EXPECT_EQ(error_of("example.com:443"), PathError::not_origin_form);
  EXPECT_EQ(error_of("users"), PathError::not_origin_form);
}

TEST(NormalizeTarget, SplitsOffTheQueryUntouched) {
  Normalized n = normalize("/a/../b?x=%2e%2E&y=/../z");
  EXPECT_EQ(n.error, PathError::none);
  EXPECT_EQ(n.path, "/b");
  EXPECT_EQ(n.query, "x=%2e%2E&y=/../z");

  n = normalize("/search?");
  EXPECT_EQ(n.path, "/search");
  EXPECT_EQ(n.query, "");

  n = normalize("/?q");
  EXPECT_EQ(n.path, "/");
  EXPECT_EQ(n.query, "q");

  n = normalize("/a?b?c");
  EXPECT_EQ(n.path, "/a");
  EXPECT_EQ(n.query, "b?c");
}

TEST(NormalizeTarget, QueryIsEmptyWhenAbsent) {
  std::string out;
  std::string_view query = "stale";
  EXPECT_EQ(normalize_target("/a", out, query), PathError::none);
  EXPECT_TRUE(query.empty());
}

TEST(NormalizeTarget, QueryViewPointsIntoTheTarget) {
  const std::string target = "/p?k=v";
  std::string out;
  std::string_view query;
  ASSERT_EQ(normalize_target(target, out, query), PathError::none);
  EXPECT_EQ(query.data(), target.data() + 3);
}

TEST(NormalizeTarget, RefusesAFragmentAnywhere) {
  EXPECT_EQ(error_of("/a#frag"), PathError::bad_character);
  EXPECT_EQ(error_of("/a?q=1#frag"), PathError::bad_character);
  EXPECT_EQ(error_of("/#"), PathError::bad_character);
}

TEST(NormalizeTarget, RefusesCharactersOutsidePchar) {
  for (const char* bad : {"/a b", "/a\"b", "/a<b", "/a>b", "/a\\b", "/a^b", "/a`b", "/a{b", "/a|b",
                          "/a}b", "/a\tb", "/a\x7f", "/a\x01", "/caf\xc3\xa9"}) {
    EXPECT_EQ(error_of(bad), PathError::bad_character) << bad;
  }
  EXPECT_EQ(error_of(std::string_view("/a\0b", 4)), PathError::bad_character);
}

TEST(NormalizeTarget, AllowsUnusualCharactersInTheQuery) {
  const Normalized n = normalize("/a?q=a b|c");
  EXPECT_EQ(n.error, PathError::none);
  EXPECT_EQ(n.query, "q=a b|c");
}

TEST(NormalizeTarget, RefusesMalformedPercentEncoding) {
  EXPECT_EQ(error_of("/%zz"), PathError::bad_percent_encoding);
  EXPECT_EQ(error_of("/%4"), PathError::bad_percent_encoding);
  EXPECT_EQ(error_of("/%"), PathError::bad_percent_encoding);
  EXPECT_EQ(error_of("/a%/b"), PathError::bad_percent_encoding);
  EXPECT_EQ(error_of("/%g1"), PathError::bad_percent_encoding);
  EXPECT_EQ(error_of("/%1g"), PathError::bad_percent_encoding);
  EXPECT_EQ(error_of("/%4?1"), PathError::bad_percent_encoding);
}

TEST(NormalizeTarget, DecodesUnreservedCharacters) {
  EXPECT_EQ(path_of("/%61dmin"), "/admin");
  EXPECT_EQ(path_of("/%41%5a%30%39"), "/AZ09");
  EXPECT_EQ(path_of("/%2d%2E%5f%7E"), "/-._~");
}

TEST(NormalizeTarget, KeepsOtherEscapesWithUpperCaseHex) {
  EXPECT_EQ(path_of("/a%2fb"), "/a%2Fb");
  EXPECT_EQ(path_of("/a%2Fb"), "/a%2Fb");
  EXPECT_EQ(path_of("/%00"), "/%00");
  EXPECT_EQ(path_of("/%20%3a%c3%a9"), "/%20%3A%C3%A9");
  EXPECT_EQ(path_of("/%25"), "/%25");
  EXPECT_EQ(path_of("/%2541"), "/%2541");  // one level of decoding only
}

TEST(NormalizeTarget, EncodedSlashIsNeverASeparator) {
  EXPECT_EQ(path_of("/a/%2F/b"), "/a/%2F/b");
  EXPECT_EQ(path_of("/a/%2f/../b"), "/a/b");
  EXPECT_EQ(path_of("/a/..%2F../b"), "/a/..%2F../b");
}

TEST(NormalizeTarget, MergesRunsOfSlashes) {
  EXPECT_EQ(path_of("//"), "/");
  EXPECT_EQ(path_of("//a///b"), "/a/b");
  EXPECT_EQ(path_of("/a//"), "/a/");
  EXPECT_EQ(path_of("///"), "/");
}

TEST(NormalizeTarget, RemovesDotSegments) {
  EXPECT_EQ(path_of("/a/./b/../c"), "/a/c");
  EXPECT_EQ(path_of("/a/b/c/./../../g"), "/a/g");
  EXPECT_EQ(path_of("/mid/content=5/../6"), "/mid/6");
  EXPECT_EQ(path_of("/./a"), "/a");
  EXPECT_EQ(path_of("/a/b/../../c"), "/c");
}

TEST(NormalizeTarget, DotDotNeverClimbsAboveTheRoot) {
  EXPECT_EQ(path_of("/.."), "/");
  EXPECT_EQ(path_of("/../.."), "/");
  EXPECT_EQ(path_of("/../a"), "/a");
  EXPECT_EQ(path_of("/a/../../../b"), "/b");
}

TEST(NormalizeTarget, TrailingDotSegmentsLeaveATrailingSlash) {
  EXPECT_EQ(path_of("/a/b/.."), "/a/");
  EXPECT_EQ(path_of("/a/b/."), "/a/b/");
  EXPECT_EQ(path_of("/a/.."), "/");
  EXPECT_EQ(path_of("/."), "/");
  EXPECT_EQ(path_of("/a/b/../"), "/a/");
}

TEST(NormalizeTarget, EncodedDotSegmentsAreRemovedToo) {
  EXPECT_EQ(path_of("/%2e%2e/etc"), "/etc");
  EXPECT_EQ(path_of("/static/%2e%2e/%2E%2E/etc/passwd"), "/etc/passwd");
  EXPECT_EQ(path_of("/a/.%2e/b"), "/b");
  EXPECT_EQ(path_of("/a/%2e/b"), "/a/b");
}

TEST(NormalizeTarget, SegmentsThatOnlyLookLikeDotsStay) {
  EXPECT_EQ(path_of("/a/.../b"), "/a/.../b");
  EXPECT_EQ(path_of("/a/..b/.c"), "/a/..b/.c");
  EXPECT_EQ(path_of("/a/%2e%2e%2e"), "/a/...");
}

TEST(NormalizeTarget, ReusedOutputIsClearedAndNeverLongerThanTheTarget) {
  std::string out = "leftover from the previous request";
  std::string_view query;
  ASSERT_EQ(normalize_target("/x", out, query), PathError::none);
  EXPECT_EQ(out, "/x");

  for (std::string_view t : {"/%61%62%63/./d//e/..", "/a%2fb", "/", "/..", "/%2e%2e/x?y"}) {
    ASSERT_EQ(normalize_target(t, out, query), PathError::none) << t;
    EXPECT_LE(out.size(), t.size()) << t;
  }
}

TEST(NormalizeTarget, ReusedOutputDoesNotReallocate) {
  std::string out;
  out.reserve(64);
  const char* const before = out.data();
  std::string_view query;
  ASSERT_EQ(normalize_target("/a/%2e%2e/b//c/%7euser?x", out, query), PathError::none);
  EXPECT_EQ(out, "/b/c/~user");
  EXPECT_EQ(out.data(), before);
}

TEST(PathErrorName, NamesEveryError) {
  EXPECT_EQ(path_error_name(PathError::none), "none");
  EXPECT_EQ(path_error_name(PathError::not_origin_form), "not_origin_form");
  EXPECT_EQ(path_error_name(PathError::bad_percent_encoding), "bad_percent_encoding");
  EXPECT_EQ(path_error_name(PathError::bad_character), "bad_character");
}

}  // namespace
}  // namespace basalt::http
