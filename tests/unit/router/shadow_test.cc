#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "route_builder.h"
#include "router/router.h"

namespace basalt::router {
namespace {

using testing::config_of;
using testing::route;

std::vector<std::string> messages(const config::Config& cfg) {
  std::vector<std::string> out;
  for (const auto& d : find_shadowed(cfg)) out.push_back(d.message);
  return out;
}

// Number of routes reported as shadowed among `routes`.
size_t shadowed(std::initializer_list<config::RouteConfig> routes) {
  return find_shadowed(config_of(routes)).size();
}

bool clean(std::initializer_list<config::RouteConfig> routes) { return shadowed(routes) == 0; }

TEST(FindShadowed, PrefixThenExactUnderItIsShadowed) {
  const config::Config cfg = config_of({
      route("users").line(12).prefix("/users"),
      route("me").line(20).exact("/users/me"),
  });
  const auto diags = find_shadowed(cfg);
  ASSERT_EQ(diags.size(), 1u);
  EXPECT_EQ(diags[0].message,
            "route 'me' is shadowed by route 'users' (line 12) and can never match");
  EXPECT_EQ(diags[0].pos.line, 20);
  EXPECT_EQ(diags[0].pos.file, "basalt.yaml");
}

TEST(FindShadowed, ExactThenPrefixIsFine) {
  EXPECT_TRUE(clean({route("me").exact("/users/me"), route("users").prefix("/users")}));
}

TEST(FindShadowed, PrefixCoversOnlyWholeSegments) {
  EXPECT_TRUE(clean({route("a").prefix("/users"), route("b").exact("/usersx")}));
  EXPECT_TRUE(clean({route("a").prefix("/users"), route("b").prefix("/usersx")}));
  EXPECT_EQ(shadowed({route("a").prefix("/users"), route("b").prefix("/users/admin")}), 1u);
  EXPECT_EQ(shadowed({route("a").prefix("/users/"), route("b").exact("/users")}), 1u);
}

TEST(FindShadowed, RootPrefixCoversEveryPathIncludingRegexes) {
  EXPECT_EQ(shadowed({route("all").prefix("/"), route("re").regex("/x/[0-9]+")}), 1u);
  EXPECT_EQ(shadowed({route("all").prefix("/"), route("none")}), 1u);
  EXPECT_TRUE(clean({route("x").prefix("/x"), route("none")}));
}

TEST(FindShadowed, ComparesConfiguredPathsInNormalizedForm) {
  EXPECT_EQ(shadowed({route("a").prefix("/a/"), route("b").exact("/a/x/../%7ey")}), 1u);
  EXPECT_EQ(shadowed({route("a").exact("/%7ey"), route("b").exact("/~y")}), 1u);
}

TEST(FindShadowed, NarrowPrefixDoesNotCoverARegex) {
  EXPECT_TRUE(clean({route("a").prefix("/x"), route("b").regex("/x/[0-9]+")}));
}

TEST(FindShadowed, RouteWithoutPathCoversEveryPath) {
  EXPECT_EQ(shadowed({route("any"), route("b").exact("/b")}), 1u);
}

TEST(FindShadowed, ExactCoversOnlyTheSameExactPath) {
  EXPECT_EQ(shadowed({route("a").exact("/a"), route("b").exact("/a")}), 1u);
  EXPECT_TRUE(clean({route("a").exact("/a"), route("b").exact("/a/")}));
  EXPECT_TRUE(clean({route("a").exact("/a"), route("b").prefix("/a")}));
}

TEST(FindShadowed, RegexCoversTheSameRegexAndExactPathsItMatches) {
  EXPECT_EQ(shadowed({route("a").regex("/x/.*"), route("b").regex("/x/.*")}), 1u);
  EXPECT_EQ(shadowed({route("a").regex("/x/.*"), route("b").exact("/x/1")}), 1u);
  EXPECT_TRUE(clean({route("a").regex("/x/.*"), route("b").regex("/x/[0-9]+")}));
  EXPECT_TRUE(clean({route("a").regex("/x/[0-9]+"), route("b").exact("/x/a")}));
  EXPECT_TRUE(clean({route("a").regex("/x/.*"), route("b").prefix("/x")}));
}

TEST(FindShadowed, InvalidRegexShadowsNothing) {
  EXPECT_TRUE(clean({route("a").regex("(("), route("b").regex("((")}));
  EXPECT_TRUE(clean({route("a").regex("(("), route("b").exact("/x")}));
}

TEST(FindShadowed, MethodsMustBeASuperset) {
  EXPECT_EQ(shadowed({route("a").prefix("/").methods({"GET", "POST"}),
                      route("b").exact("/x").methods({"GET"})}),
            1u);
  EXPECT_EQ(shadowed({route("a").prefix("/"), route("b").exact("/x").methods({"GET"})}), 1u);
  EXPECT_TRUE(clean(
      {route("a").prefix("/").methods({"GET"}), route("b").exact("/x").methods({"GET", "POST"})}));
  EXPECT_TRUE(clean({route("a").prefix("/").methods({"GET"}), route("b").exact("/x")}));
}

TEST(FindShadowed, HeaderPredicatesMustBeASubset) {
  // A with no header predicate covers B with some.
  EXPECT_EQ(shadowed({route("a").prefix("/"), route("b").prefix("/").header_exact("x-v", "2")}),
            1u);
  // The same predicate on both.
  EXPECT_EQ(
      shadowed({route("a").prefix("/").header_exact("x-v", "2"),
                route("b").prefix("/x").header_exact("x-v", "2").header_present("x-debug", true)}),
      1u);
  // A more demanding A does not cover B.
  EXPECT_TRUE(clean({route("a").prefix("/").header_exact("x-v", "2"), route("b").prefix("/x")}));
  EXPECT_TRUE(clean({route("a").prefix("/").header_exact("x-v", "2"),
                     route("b").prefix("/x").header_exact("x-v", "3")}));
  EXPECT_TRUE(clean({route("a").prefix("/").header_present("x-v", true),
                     route("b").prefix("/x").header_present("x-v", false)}));
}

TEST(FindShadowed, HeaderPredicatesThatImplyOthersCount) {
  // Requiring a value implies the header is present.
  EXPECT_EQ(shadowed({route("a").prefix("/").header_present("x-v", true),
                      route("b").prefix("/").header_exact("x-v", "2")}),
            1u);
  EXPECT_EQ(shadowed({route("a").prefix("/").header_present("x-v", true),
                      route("b").prefix("/").header_regex("x-v", "[0-9]")}),
            1u);
  // An exact value the earlier regex accepts.
  EXPECT_EQ(shadowed({route("a").prefix("/").header_regex("x-v", "[0-9]+"),
                      route("b").prefix("/").header_exact("x-v", "42")}),
            1u);
  EXPECT_TRUE(clean({route("a").prefix("/").header_regex("x-v", "[0-9]+"),
                     route("b").prefix("/").header_exact("x-v", "4a")}));
  // Absence is implied only by absence.
  EXPECT_TRUE(clean({route("a").prefix("/").header_present("x-v", false),
                     route("b").prefix("/").header_exact("x-v", "1")}));
}

TEST(FindShadowed, HostlessRouteShadowsHostlessRoutes) {
  EXPECT_EQ(shadowed({route("a").prefix("/"), route("b").prefix("/b")}), 1u);
}

TEST(FindShadowed, HostlessRouteNeverShadowsAHostedOne) {
  // The hosted route's group is tried before any host-less route.
  EXPECT_TRUE(clean({route("a").prefix("/"), route("b").host("api.example.com").prefix("/b")}));
}

TEST(FindShadowed, HostedRouteNeverShadowsAHostlessOne) {
  EXPECT_TRUE(clean({route("a").host("api.example.com").prefix("/"), route("b").prefix("/b")}));
}

TEST(FindShadowed, SameHostsShadow) {
  EXPECT_EQ(shadowed({route("a").host("api.example.com").prefix("/"),
                      route("b").host("api.example.com").prefix("/b")}),
            1u);
  EXPECT_EQ(shadowed({route("a").host("*.example.com").prefix("/"),
                      route("b").host("*.example.com").exact("/b")}),
            1u);
}

TEST(FindShadowed, EarlierRouteMustServeEveryHostOfTheLaterOne) {
  EXPECT_EQ(shadowed({route("a").host("a.com").host("b.com").prefix("/"),
                      route("b").host("b.com").prefix("/b")}),
            1u);
  EXPECT_TRUE(clean(
      {route("a").host("a.com").prefix("/"), route("b").host("a.com").host("b.com").prefix("/b")}));
}

TEST(FindShadowed, BroaderWildcardDoesNotShadowALongerOne) {
  // "*.eu.example.com" is tried before "*.example.com", whatever the file order.
  EXPECT_TRUE(clean({route("a").host("*.example.com").prefix("/"),
                     route("b").host("*.eu.example.com").prefix("/")}));
  // An exact host is tried before any wildcard.
  EXPECT_TRUE(clean({route("a").host("*.example.com").prefix("/"),
                     route("b").host("api.example.com").prefix("/")}));
}

TEST(FindShadowed, LaterRouteNeverShadowsAnEarlierOne) {
  EXPECT_TRUE(clean({route("me").exact("/users/me"), route("all").prefix("/")}));
}

TEST(FindShadowed, OneDiagnosticPerShadowedRouteNamingTheFirstShadower) {
  const config::Config cfg = config_of({
      route("api").line(3).prefix("/api"),
      route("all").line(7).prefix("/"),
      route("v1").line(11).prefix("/api/v1"),
      route("ping").line(15).exact("/ping"),
  });
  EXPECT_EQ(messages(cfg),
            (std::vector<std::string>{
                "route 'v1' is shadowed by route 'api' (line 3) and can never match",
                "route 'ping' is shadowed by route 'all' (line 7) and can never match"}));
}

TEST(FindShadowed, UnnamedRoutesAreNamedByIndexAndUnknownLinesOmitted) {
  EXPECT_EQ(messages(config_of({route("").prefix("/"), route("").exact("/x")})),
            std::vector<std::string>{"route #1 is shadowed by route #0 and can never match"});
}

TEST(FindShadowed, DistinctRoutesAreClean) {
  EXPECT_TRUE(clean({
      route("users").prefix("/users"),
      route("orders").prefix("/orders"),
      route("admin").host("admin.example.com").prefix("/"),
      route("item").regex("/items/[0-9]+"),
  }));
}

}  // namespace
}  // namespace basalt::router
