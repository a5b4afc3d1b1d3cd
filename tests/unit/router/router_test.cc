#include "router/router.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>

#include "route_builder.h"

namespace basalt::router {
namespace {

using testing::config_of;
using testing::route;

// Compiles `cfg` and answers with the name of the route chosen, or "none".
class Router {
 public:
  explicit Router(config::Config cfg) : cfg_(std::move(cfg)), table_(Table::compile(cfg_)) {}

  std::string pick(std::string_view method, std::string_view host, std::string_view path,
                   const http::FieldList* fields = nullptr) const {
    const int i = table_->match({method, host, path, fields});
    return i < 0 ? "none" : cfg_.routes[i].name;
  }
  std::string get(std::string_view host, std::string_view path) const {
    return pick("GET", host, path);
  }
  const Table& table() const { return *table_; }

 private:
  config::Config cfg_;
  std::shared_ptr<const Table> table_;
};

TEST(RouterTable, EmptyTableMatchesNothing) {
  const Router r(config_of({}));
  EXPECT_EQ(r.get("example.com", "/"), "none");
  EXPECT_EQ(r.table().size(), 0u);
}

TEST(RouterTable, RouteIndexesFollowTheConfig) {
  const config::Config cfg = config_of({route("a").exact("/a"), route("b").exact("/b")});
  const auto table = Table::compile(cfg);
  EXPECT_EQ(table->size(), 2u);
  EXPECT_EQ(table->match({"GET", "h", "/a", nullptr}), 0);
  EXPECT_EQ(table->match({"GET", "h", "/b", nullptr}), 1);
  EXPECT_EQ(table->match({"GET", "h", "/c", nullptr}), -1);
}

TEST(RouterTable, ExactHostGroupBeatsWildcardAndHostless) {
  const Router r(config_of({
      route("any").prefix("/"),
      route("wild").host("*.example.com").prefix("/"),
      route("exact").host("api.example.com").prefix("/"),
  }));
  EXPECT_EQ(r.get("api.example.com", "/x"), "exact");
  EXPECT_EQ(r.get("www.example.com", "/x"), "wild");
  EXPECT_EQ(r.get("other.org", "/x"), "any");
}

TEST(RouterTable, FallsThroughToTheNextGroupWhenNoRouteInAGroupMatches) {
  const Router r(config_of({
      route("exact-users").host("api.example.com").prefix("/users"),
      route("wild-orders").host("*.example.com").prefix("/orders"),
      route("any").prefix("/"),
  }));
  EXPECT_EQ(r.get("api.example.com", "/users/1"), "exact-users");
  EXPECT_EQ(r.get("api.example.com", "/orders/1"), "wild-orders");
  EXPECT_EQ(r.get("api.example.com", "/health"), "any");
}

TEST(RouterTable, HostedRoutesWithoutAHostlessFallbackAnswerNone) {
  const Router r(config_of({route("api").host("api.example.com").prefix("/")}));
  EXPECT_EQ(r.get("api.example.com", "/"), "api");
  EXPECT_EQ(r.get("example.com", "/"), "none");
  EXPECT_EQ(r.get("", "/"), "none");
}

TEST(RouterTable, LongestWildcardSuffixIsTriedFirst) {
  const Router r(config_of({
      route("short").host("*.example.com").prefix("/"),
      route("long").host("*.eu.example.com").prefix("/"),
  }));
  EXPECT_EQ(r.get("a.eu.example.com", "/"), "long");
  EXPECT_EQ(r.get("a.b.eu.example.com", "/"), "long");
  EXPECT_EQ(r.get("eu.example.com", "/"), "short");
  EXPECT_EQ(r.get("a.us.example.com", "/"), "short");
}

TEST(RouterTable, WildcardMatchesAnyDepthButNotTheBareDomain) {
  const Router r(config_of({route("wild").host("*.example.com").prefix("/")}));
  EXPECT_EQ(r.get("a.example.com", "/"), "wild");
  EXPECT_EQ(r.get("a.b.example.com", "/"), "wild");
  EXPECT_EQ(r.get("example.com", "/"), "none");
  EXPECT_EQ(r.get(".example.com", "/"), "none");
  EXPECT_EQ(r.get("aexample.com", "/"), "none");
  EXPECT_EQ(r.get("a.example.com.evil.org", "/"), "none");
}

TEST(RouterTable, LongerWildcardFallsThroughToShorterOne) {
  const Router r(config_of({
      route("short").host("*.example.com").prefix("/"),
      route("long").host("*.eu.example.com").exact("/only"),
  }));
  EXPECT_EQ(r.get("a.eu.example.com", "/only"), "long");
  EXPECT_EQ(r.get("a.eu.example.com", "/other"), "short");
}

TEST(RouterTable, FileOrderDecidesWithinAGroup) {
  const Router r(config_of({
      route("first").host("api.example.com").prefix("/users"),
      route("second").host("api.example.com").prefix("/"),
  }));
  EXPECT_EQ(r.get("api.example.com", "/users/1"), "first");
  EXPECT_EQ(r.get("api.example.com", "/orders"), "second");
}

TEST(RouterTable, ARouteWithSeveralHostsServesEachOfThem) {
  const Router r(config_of({
      route("multi").host("a.com").host("*.b.com").host("A.COM").prefix("/"),
  }));
  EXPECT_EQ(r.get("a.com", "/"), "multi");
  EXPECT_EQ(r.get("x.b.com", "/"), "multi");
  EXPECT_EQ(r.get("b.com", "/"), "none");
}

TEST(RouterTable, HostPatternsAreCaseInsensitive) {
  const Router r(config_of({route("api").host("API.Example.com").prefix("/")}));
  EXPECT_EQ(r.get("api.example.com", "/"), "api");
}

TEST(RouterTable, ExactPathIsStringEquality) {
  const Router r(config_of({route("me").exact("/users/me")}));
  EXPECT_EQ(r.get("h", "/users/me"), "me");
  EXPECT_EQ(r.get("h", "/users/me/"), "none");
  EXPECT_EQ(r.get("h", "/users/mE"), "none");
  EXPECT_EQ(r.get("h", "/users"), "none");
}

TEST(RouterTable, PrefixIsSegmentAware) {
  const Router r(config_of({route("users").prefix("/users")}));
  EXPECT_EQ(r.get("h", "/users"), "users");
  EXPECT_EQ(r.get("h", "/users/"), "users");
  EXPECT_EQ(r.get("h", "/users/42"), "users");
  EXPECT_EQ(r.get("h", "/users/42/orders"), "users");
  EXPECT_EQ(r.get("h", "/usersx"), "none");
  EXPECT_EQ(r.get("h", "/user"), "none");
  EXPECT_EQ(r.get("h", "/"), "none");
}

TEST(RouterTable, PrefixWithATrailingSlashMatchesLikeWithout) {
  const Router r(config_of({route("users").prefix("/users/")}));
  EXPECT_EQ(r.get("h", "/users"), "users");
  EXPECT_EQ(r.get("h", "/users/1"), "users");
  EXPECT_EQ(r.get("h", "/usersx"), "none");
}

TEST(RouterTable, ConfiguredPathsAreNormalizedLikeRequestPaths) {
  const Router r(config_of({
      route("tilde").exact("/%7euser/./home"),
      route("docs").prefix("/a//b/../docs/"),
      route("odd").exact("/has space"),
  }));
  EXPECT_EQ(r.get("h", "/~user/home"), "tilde");
  EXPECT_EQ(r.get("h", "/a/docs"), "docs");
  EXPECT_EQ(r.get("h", "/a/docs/x"), "docs");
  EXPECT_EQ(r.get("h", "/has%20space"), "none");
}

TEST(RouterTable, RootPrefixMatchesEverything) {
  const Router r(config_of({route("all").prefix("/")}));
  EXPECT_EQ(r.get("h", "/"), "all");
  EXPECT_EQ(r.get("h", "/a/b/c"), "all");
}

TEST(RouterTable, RouteWithoutPathMatchesEveryPath) {
  const Router r(config_of({route("all").methods({"POST"})}));
  EXPECT_EQ(r.pick("POST", "h", "/x/y"), "all");
  EXPECT_EQ(r.pick("GET", "h", "/x/y"), "none");
}

TEST(RouterTable, RegexIsAFullMatchOnTheNormalizedPath) {
  const Router r(config_of({route("item").regex("/items/[0-9]+")}));
  EXPECT_EQ(r.get("h", "/items/42"), "item");
  EXPECT_EQ(r.get("h", "/items/42/x"), "none");
  EXPECT_EQ(r.get("h", "/v1/items/42"), "none");
  EXPECT_EQ(r.get("h", "/items/abc"), "none");
}

TEST(RouterTable, InvalidRegexNeverMatches) {
  const Router r(config_of({
      route("broken").regex("/items/(["),
      route("broken-header").prefix("/").header_regex("x-v", "(("),
      route("fallback").prefix("/"),
  }));
  EXPECT_EQ(r.get("h", "/items/("), "fallback");
  EXPECT_EQ(r.get("h", "/anything"), "fallback");
}

TEST(RouterTable, MethodsRestrictTheRoute) {
  const Router r(config_of({
      route("read").prefix("/users").methods({"GET", "HEAD"}),
      route("write").prefix("/users").methods({"POST"}),
  }));
  EXPECT_EQ(r.pick("GET", "h", "/users"), "read");
  EXPECT_EQ(r.pick("HEAD", "h", "/users"), "read");
  EXPECT_EQ(r.pick("POST", "h", "/users"), "write");
  EXPECT_EQ(r.pick("DELETE", "h", "/users"), "none");
  EXPECT_EQ(r.pick("get", "h", "/users"), "none");  // methods are case-sensitive
}

TEST(RouterTable, HeaderExactComparesTheFirstValue) {
  const Router r(config_of({
      route("v2").prefix("/").header_exact("x-version", "2"),
      route("default").prefix("/"),
  }));
  http::FieldList fields;
  fields.add("X-Version", "2");
  EXPECT_EQ(r.pick("GET", "h", "/", &fields), "v2");

  fields.clear();
  fields.add("x-version", "1");
  fields.add("x-version", "2");
  EXPECT_EQ(r.pick("GET", "h", "/", &fields), "default");

  fields.clear();
  fields.add("x-version", "20");
  EXPECT_EQ(r.pick("GET", "h", "/", &fields), "default");
  EXPECT_EQ(r.pick("GET", "h", "/", nullptr), "default");
}

TEST(RouterTable, HeaderRegexIsAFullMatchOnTheFirstValue) {
  const Router r(config_of({route("beta").prefix("/").header_regex("cookie", ".*beta=1.*")}));
  http::FieldList fields;
  fields.add("Cookie", "a=b; beta=1; c=d");
  EXPECT_EQ(r.pick("GET", "h", "/", &fields), "beta");

  fields.clear();
  fields.add("Cookie", "a=b");
  fields.add("Cookie", "beta=1");
  EXPECT_EQ(r.pick("GET", "h", "/", &fields), "none");
}

TEST(RouterTable, HeaderPresenceAndAbsence) {
  const Router r(config_of({
      route("authed").prefix("/").header_present("authorization", true),
      route("anonymous").prefix("/").header_present("authorization", false),
  }));
  http::FieldList fields;
  EXPECT_EQ(r.pick("GET", "h", "/", &fields), "anonymous");
  EXPECT_EQ(r.pick("GET", "h", "/", nullptr), "anonymous");
  fields.add("Authorization", "");
  EXPECT_EQ(r.pick("GET", "h", "/", &fields), "authed");
}

TEST(RouterTable, AllPredicatesMustMatch) {
  const Router r(config_of({
      route("strict")
          .host("api.example.com")
          .prefix("/admin")
          .methods({"POST"})
          .header_exact("x-admin", "yes"),
  }));
  http::FieldList ok;
  ok.add("x-admin", "yes");
  http::FieldList wrong;
  wrong.add("x-admin", "no");
  EXPECT_EQ(r.pick("POST", "api.example.com", "/admin/x", &ok), "strict");
  EXPECT_EQ(r.pick("GET", "api.example.com", "/admin/x", &ok), "none");
  EXPECT_EQ(r.pick("POST", "api.example.com", "/adminx", &ok), "none");
  EXPECT_EQ(r.pick("POST", "api.example.com", "/admin/x", &wrong), "none");
  EXPECT_EQ(r.pick("POST", "www.example.com", "/admin/x", &ok), "none");
}

TEST(RouterTable, ExposesEachRoutesSplit) {
  const config::Config cfg = config_of({
      route("canary").prefix("/").target("stable", 90).target("canary", 10),
      route("direct").exact("/ping"),
  });
  const auto table = Table::compile(cfg);
  EXPECT_EQ(table->split(0).total(), 100u);
  EXPECT_EQ(table->split(0).pick(95), 1u);
  EXPECT_EQ(table->split(1).size(), 0u);
}

TEST(RouterTable, ManyThreadsMatchTheSameTableConcurrently) {
  config::Config cfg;
  for (int i = 0; i < 200; ++i) {
    cfg.routes.push_back(route("r" + std::to_string(i))
                             .host(i % 2 ? "*.example.com" : "api.example.com")
                             .regex("/r" + std::to_string(i) + "/[0-9]+"));
  }
  const auto table = Table::compile(cfg);

  std::vector<std::thread> threads;
  std::vector<int> mismatches(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        const std::string path = "/r" + std::to_string(i) + "/7";
        const char* host = i % 2 ? "x.example.com" : "api.example.com";
        if (table->match({"GET", host, path, nullptr}) != i) ++mismatches[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int m : mismatches) EXPECT_EQ(m, 0);
}

}  // namespace
}  // namespace basalt::router
