// Every kind of config error, each asserted with its exact file:line:column.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "config/loader.h"
#include "test_support.h"

namespace basalt::config {
namespace {

using test::errors;
using test::route_errors;
using Lines = std::vector<std::string>;

TEST(LoaderErrors, MissingFileIsADiagnostic) {
  LoadResult r = load_file("/nonexistent/basalt.yaml");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.config, nullptr);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].format(),
            "/nonexistent/basalt.yaml: cannot open: No such file or directory");
}

TEST(LoaderErrors, YamlSyntaxErrorIsOneDiagnosticAtTheParserMark) {
  EXPECT_EQ(errors("listeners: [1, 2\nadmin: {}\n"),
            Lines{"t.yaml:2:6: YAML syntax error: end of sequence flow not found"});
  EXPECT_EQ(errors("a: b: c\n"), Lines{"t.yaml:1:5: YAML syntax error: illegal map value"});
}

TEST(LoaderErrors, EmptyOrNonMappingDocument) {
  EXPECT_EQ(errors(""), Lines{"t.yaml:1:1: the config is empty; it needs at least 'listeners'"});
  EXPECT_EQ(errors("- 1\n"), Lines{"t.yaml:1:1: the config must be a mapping of keys to values"});
}

TEST(LoaderErrors, ListenersAreRequiredAndNonEmpty) {
  EXPECT_EQ(errors("admin: { enabled: false }\n"),
            Lines{"t.yaml:1:1: missing key 'listeners' in the top level"});
  EXPECT_EQ(errors("listeners: []\n"),
            Lines{"t.yaml:1:12: 'listeners' must have at least one listener"});
  EXPECT_EQ(errors("listeners: 5\n"),
            Lines{"t.yaml:1:12: 'listeners' must be a list, but it is a single value"});
}

TEST(LoaderErrors, AdminOffLoopbackNeedsALongEnoughToken) {
  const std::string listeners = "listeners: [ { name: l, address: 127.0.0.1:0 } ]\n";
  const std::string exposed =
      "t.yaml:2:19: admin address '0.0.0.0:9901' is not loopback: set admin.token (for example "
      "\"${BASALT_ADMIN_TOKEN}\") or bind it to 127.0.0.1";
  EXPECT_EQ(errors(listeners + "admin: { address: 0.0.0.0:9901 }\n"), Lines{exposed});
  // A refused token is no token: the exposure is reported too.
  EXPECT_EQ(errors(listeners + "admin: { address: 0.0.0.0:9901, token: abc }\n"),
            (Lines{exposed,
                   "t.yaml:2:40: 'token' must be at least 16 characters (or empty for "
                   "none)"}));
  EXPECT_EQ(
      errors(listeners + "admin: { address: 127.0.0.1:9901, token: \"0123456789 abcdef\" }\n"),
      Lines{"t.yaml:2:42: 'token' must not contain whitespace"});
  EXPECT_TRUE(errors(listeners + "admin: { address: 0.0.0.0:9901, enabled: false }\n").empty());
  EXPECT_TRUE(
      errors(listeners + "admin: { address: 10.0.0.1:9901, token: 0123456789abcdef }\n").empty());
}

TEST(LoaderErrors, TwoListenersOrAListenerAndTheAdminOnOneAddress) {
  EXPECT_EQ(errors("listeners:\n"
                   "  - { name: a, address: 127.0.0.1:8080 }\n"
                   "  - { name: b, address: 127.0.0.1:8080 }\n"
                   "  - { name: c, address: 127.0.0.1:0 }\n"
                   "  - { name: d, address: 127.0.0.1:0 }\n"
                   "admin: { address: 127.0.0.1:8080 }\n"),
            (Lines{
                "t.yaml:3:25: address '127.0.0.1:8080' of listener 'b' is already used by "
                "listener 'a'",
                "t.yaml:6:19: address '127.0.0.1:8080' of the admin listener is already used by "
                "listener 'a'",
            }));
}

TEST(LoaderErrors, UnknownKeysAreReportedAndLoadingGoesOn) {
  EXPECT_EQ(errors("listeners:\n"
                   "  - name: a\n"
                   "    adress: 127.0.0.1:80\n"
                   "limits: { max_conections: 5, max_header_count: 0 }\n"
                   "colour: red\n"),
            (Lines{
                "t.yaml:2:5: missing key 'address' in listener",
                "t.yaml:3:5: unknown key 'adress' in listener",
                "t.yaml:4:11: unknown key 'max_conections' in limits",
                "t.yaml:4:48: 'max_header_count' must be an integer >= 1, got '0'",
                "t.yaml:5:1: unknown key 'colour' in the top level",
            }));
}

TEST(LoaderErrors, UnknownKeyInRoute) {
  EXPECT_EQ(route_errors("  - name: r\n"        // 7
                         "    upstream: u\n"    // 8
                         "    timeuot: 5s\n"),  // 9
            Lines{"t.yaml:9:5: unknown key 'timeuot' in route"});
}

TEST(LoaderErrors, HeaderEditsCannotTouchFieldsTheGatewayWrites) {
  EXPECT_EQ(route_errors("  - name: r\n"                                            // 7
                         "    upstream: u\n"                                        // 8
                         "    request_headers: { set: { Content-Length: '0' } }\n"  // 9
                         "    response_headers:\n"                                  // 10
                         "      add: { transfer-encoding: chunked, x-ok: 1 }\n"     // 11
                         "      remove: [connection, host, x-gone]\n"),             // 12
            (Lines{
                "t.yaml:9:31: header 'content-length' is written by the gateway itself and "
                "cannot be edited",
                "t.yaml:11:14: header 'transfer-encoding' is written by the gateway itself and "
                "cannot be edited",
                "t.yaml:12:16: header 'connection' is written by the gateway itself and cannot "
                "be edited",
                "t.yaml:12:28: header 'host' is written by the gateway itself and cannot be "
                "edited",
            }));
}

TEST(LoaderErrors, PathsMustBeWhatARequestCanCarry) {
  EXPECT_EQ(route_errors("  - name: r\n"                                 // 7
                         "    match: { path: \"/a b\" }\n"               // 8
                         "    upstream: u\n"                             // 9
                         "  - name: s\n"                                 // 10
                         "    match: { path_prefix: \"/x%zz\" }\n"       // 11
                         "    upstream: u\n"                             // 12
                         "  - name: t\n"                                 // 13
                         "    match: { path_prefix: \"/ok%20x/~a\" }\n"  // 14
                         "    upstream: u\n"),
            (Lines{
                "t.yaml:8:20: 'path' holds a character a request path cannot (' '); "
                "percent-encode it, as in %20 for a space",
                "t.yaml:11:27: 'path_prefix' holds a character a request path cannot ('%'); "
                "percent-encode it, as in %20 for a space",
            }));
}

TEST(LoaderErrors, NoContentDirectResponseCannotHaveABody) {
  EXPECT_EQ(route_errors("  - name: r\n"
                         "    direct_response: { status: 204, body: hello }\n"),
            Lines{"t.yaml:8:22: a 204 direct_response cannot have a body (HTTP forbids one)"});
}

TEST(LoaderErrors, DuplicateYamlKey) {
  EXPECT_EQ(route_errors("  - name: r\n"
                         "    upstream: u\n"
                         "    upstream: u\n"),
            (Lines{"t.yaml:9:5: duplicate key 'upstream'",
                   "t.yaml:9:5: route 'r' has more than one action ('upstream' and 'upstream'); "
                   "set exactly one"}));
}

TEST(LoaderErrors, DuplicateNames) {
  EXPECT_EQ(errors("listeners:\n"
                   "  - { name: a, address: 127.0.0.1:80 }\n"
                   "  - { name: a, address: 127.0.0.1:81 }\n"
                   "upstreams:\n"
                   "  - { name: u, endpoints: [ { address: h:1 } ] }\n"
                   "  - { name: u, endpoints: [ { address: h:2 } ] }\n"
                   "routes:\n"
                   "  - { name: r, upstream: u }\n"
                   "  - { name: r, upstream: u }\n"),
            (Lines{
                "t.yaml:3:13: duplicate listener name 'a' (first defined at line 2)",
                "t.yaml:6:13: duplicate upstream name 'u' (first defined at line 5)",
                "t.yaml:9:13: duplicate route name 'r' (first defined at line 8)",
            }));
}

TEST(LoaderErrors, RouteToUnknownUpstream) {
  EXPECT_EQ(route_errors("  - name: r\n"
                         "    upstream: nope\n"
                         "  - name: s\n"
                         "    split: [ { upstream: u, weight: 1 }, { upstream: gone } ]\n"),
            (Lines{"t.yaml:8:15: route 'r' refers to unknown upstream 'nope'",
                   "t.yaml:10:54: route 's' refers to unknown upstream 'gone'"}));
}

TEST(LoaderErrors, UpstreamsMayBeDeclaredAfterRoutes) {
  EXPECT_EQ(errors("listeners: [ { name: l, address: 127.0.0.1:0 } ]\n"
                   "routes: [ { name: r, upstream: late } ]\n"
                   "upstreams: [ { name: late, endpoints: [ { address: h:1 } ] } ]\n"),
            Lines{});
}

TEST(LoaderErrors, EmptySplit) {
  EXPECT_EQ(route_errors("  - name: r\n"
                         "    split: []\n"),
            Lines{"t.yaml:8:12: 'split' must have at least one target"});
  EXPECT_EQ(route_errors("  - name: r\n"
                         "    split:\n"
                         "      - { upstream: u, weight: 0 }\n"
                         "      - { upstream: u, weight: 0 }\n"),
            Lines{"t.yaml:9:7: 'split' weights are all 0; at least one must be above 0"});
}

TEST(LoaderErrors, ExactlyOneAction) {
  EXPECT_EQ(route_errors("  - name: r\n"
                         "    match: { path: /x }\n"),
            Lines{"t.yaml:7:5: route 'r' has no action; set one of upstream, split, "
                  "direct_response, redirect"});
  EXPECT_EQ(route_errors("  - name: r\n"
                         "    upstream: u\n"
                         "    direct_response: { status: 204 }\n"),
            Lines{"t.yaml:9:5: route 'r' has more than one action ('upstream' and "
                  "'direct_response'); set exactly one"});
}

TEST(LoaderErrors, RedirectStatus) {
  EXPECT_EQ(route_errors("  - name: r\n"
                         "    redirect: { location: /new, status: 200 }\n"),
            Lines{"t.yaml:8:41: redirect 'status' must be one of 301, 302, 303, 307, 308, "
                  "got '200'"});
  EXPECT_EQ(route_errors("  - name: r\n"
                         "    redirect: { status: 301 }\n"),
            Lines{"t.yaml:8:15: missing key 'location' in redirect"});
  EXPECT_EQ(route_errors("  - name: r\n"
                         "    redirect: { location: new }\n"),
            Lines{"t.yaml:8:27: 'location' must be an absolute URL or a path starting with '/'"});
}

TEST(LoaderErrors, DirectResponseStatus) {
  EXPECT_EQ(route_errors("  - name: r\n"
                         "    direct_response: { status: 600 }\n"
                         "  - name: s\n"
                         "    direct_response: { status: 101 }\n"),
            (Lines{"t.yaml:8:32: 'status' must be an integer from 200 to 599, got '600'",
                   "t.yaml:10:32: 'status' must be an integer from 200 to 599, got '101'"}));
}

TEST(LoaderErrors, RewriteNeedsPathPrefix) {
  EXPECT_EQ(route_errors("  - name: r\n"
                         "    match: { path: /a }\n"
                         "    upstream: u\n"
                         "    rewrite: { path_prefix: /b }\n"),
            Lines{"t.yaml:10:5: 'rewrite' needs match.path_prefix (it replaces the matched "
                  "prefix)"});
}

TEST(LoaderErrors, InvalidRegexPointsIntoThePattern) {
  EXPECT_EQ(route_errors("  - name: r\n"
                         "    upstream: u\n"
                         "    match:\n"
                         "      path_regex: \"^/u/[0-9+$\"\n"
                         "      headers: [ { name: x-v, regex: 'v(1|2' } ]\n"),
            (Lines{
                "t.yaml:10:24: invalid regular expression in 'path_regex': missing ]: [0-9+$",
                "t.yaml:11:39: invalid regular expression in 'regex': missing ): v(1|2",
            }));
  // Escapes make the written text differ from the pattern: point at the value.
  EXPECT_EQ(route_errors("  - name: r\n"
                         "    upstream: u\n"
                         "    match: { path_regex: \"\\\\d++\" }\n"),
            Lines{"t.yaml:9:26: invalid regular expression in 'path_regex': bad repetition "
                  "operator: ++"});
}

TEST(LoaderErrors, AtMostOnePathMatcher) {
  EXPECT_EQ(route_errors("  - name: r\n"
                         "    upstream: u\n"
                         "    match: { path: /a, path_prefix: /b }\n"),
            Lines{"t.yaml:9:24: only one of path, path_prefix and path_regex may be set"});
}

TEST(LoaderErrors, PathsMustBeAbsolute) {
  EXPECT_EQ(route_errors("  - name: r\n"
                         "    upstream: u\n"
                         "    match: { path_prefix: users }\n"),
            Lines{"t.yaml:9:27: 'path_prefix' must start with '/', got 'users'"});
}

TEST(LoaderErrors, EmptyEndpoints) {
  EXPECT_EQ(errors("listeners: [ { name: l, address: 127.0.0.1:0 } ]\n"
                   "upstreams:\n"
                   "  - name: u\n"
                   "    endpoints: []\n"),
            Lines{"t.yaml:4:16: 'endpoints' must have at least one endpoint"});
}

TEST(LoaderErrors, BadHostPort) {
  EXPECT_EQ(errors("listeners:\n"
                   "  - { name: a, address: 127.0.0.1:65536 }\n"
                   "  - { name: b, address: 127.0.0.1 }\n"
                   "  - { name: c, address: ::1:80 }\n"
                   "admin: { address: 'localhost:' }\n"
                   "upstreams: [ { name: u, endpoints: [ { address: h:0 } ] } ]\n"),
            (Lines{
                "t.yaml:2:25: invalid 'address' '127.0.0.1:65536': port must be a number from 0 "
                "to 65535",
                "t.yaml:3:25: invalid 'address' '127.0.0.1': missing port (expected host:port)",
                "t.yaml:4:25: invalid 'address' '::1:80': IPv6 addresses need brackets, as in "
                "[::1]:8080",
                "t.yaml:5:19: invalid 'address' 'localhost:': missing port (expected host:port)",
                "t.yaml:6:49: invalid 'address' 'h:0': port 0 is not allowed here",
            }));
}

TEST(LoaderErrors, EndpointWeightZero) {
  EXPECT_EQ(errors("listeners: [ { name: l, address: 127.0.0.1:0 } ]\n"
                   "upstreams:\n"
                   "  - name: u\n"
                   "    endpoints:\n"
                   "      - { address: h:1, weight: 0 }\n"),
            Lines{"t.yaml:5:33: 'weight' must be an integer from 1 to 1000000, got '0'"});
}

TEST(LoaderErrors, HeaderNamesMustBeTokens) {
  EXPECT_EQ(route_errors("  - name: r\n"
                         "    upstream: u\n"
                         "    match:\n"
                         "      headers: [ { name: \"x canary\", exact: \"1\" } ]\n"
                         "    request_headers:\n"
                         "      set: { \"x:a\": \"1\" }\n"
                         "      remove: [ \"x(b)\" ]\n"),
            (Lines{
                "t.yaml:10:26: 'name' must be an HTTP token (letters, digits and "
                "!#$%&'*+-.^_`|~), got 'x canary'",
                "t.yaml:12:14: 'header name' must be an HTTP token (letters, digits and "
                "!#$%&'*+-.^_`|~), got 'x:a'",
                "t.yaml:13:17: 'remove' must be an HTTP token (letters, digits and "
                "!#$%&'*+-.^_`|~), got 'x(b)'",
            }));
}

TEST(LoaderErrors, HeaderMatchNeedsExactlyOnePredicate) {
  EXPECT_EQ(route_errors("  - name: r\n"
                         "    upstream: u\n"
                         "    match:\n"
                         "      headers:\n"
                         "        - { name: x-a }\n"
                         "        - { name: x-b, exact: \"1\", present: true }\n"),
            (Lines{"t.yaml:11:11: a header match needs exactly one of exact, regex and present",
                   "t.yaml:12:11: a header match needs exactly one of exact, regex and present"}));
}

TEST(LoaderErrors, WildcardHostsOnlyAsALeadingLabel) {
  EXPECT_EQ(
      route_errors("  - name: r\n"
                   "    upstream: u\n"
                   "    match: { hosts: [ \"*example.com\", \"a.*.com\", \"*.\", ok.com ] }\n"),
      (Lines{
          "t.yaml:9:23: invalid host '*example.com': use a name like api.example.com or a "
          "wildcard like *.example.com",
          "t.yaml:9:39: invalid host 'a.*.com': use a name like api.example.com or a "
          "wildcard like *.example.com",
          "t.yaml:9:50: invalid host '*.': use a name like api.example.com or a wildcard "
          "like *.example.com",
      }));
}

TEST(LoaderErrors, HeaderValuesMayNotSplitTheMessage) {
  EXPECT_EQ(route_errors("  - name: r\n"
                         "    upstream: u\n"
                         "    response_headers: { add: { x-a: \"1\\r\\nx-b: 2\" } }\n"),
            Lines{"t.yaml:9:37: 'x-a' must not contain CR, LF or NUL characters"});
}

TEST(LoaderErrors, BadDurationsAndSizes) {
  EXPECT_EQ(errors("listeners: [ { name: l, address: 127.0.0.1:0 } ]\n"
                   "limits:\n"
                   "  header_timeout: 15\n"
                   "  read_timeout: -1s\n"
                   "  idle_timeout: 0\n"
                   "  max_body_bytes: 1x\n"
                   "  max_header_bytes: 0\n"),
            (Lines{
                "t.yaml:3:19: 'header_timeout' must be a whole number of milliseconds with a "
                "unit (ms, s, m or h), like 250ms or 1.5s, got '15'",
                "t.yaml:4:17: 'read_timeout' must be a whole number of milliseconds with a unit "
                "(ms, s, m or h), like 250ms or 1.5s, got '-1s'",
                "t.yaml:5:17: 'idle_timeout' must be greater than 0",
                "t.yaml:6:19: 'max_body_bytes' must be a size in bytes, optionally with KiB, MiB, "
                "GiB or TiB, like 64KiB, got '1x'",
                "t.yaml:7:21: 'max_header_bytes' must be at least 1 bytes, got '0'",
            }));
}

TEST(LoaderErrors, ValuesPastTheirLimits) {
  EXPECT_EQ(errors("workers: 1025\n"
                   "listeners: [ { name: l, address: 127.0.0.1:0 } ]\n"
                   "limits: { idle_timeout: 721h, drain_timeout: 3000000h }\n"
                   "upstreams:\n"
                   "  - name: u\n"
                   "    endpoints: [ { address: h:1, weight: 1000001 } ]\n"
                   "routes:\n"
                   "  - name: r\n"
                   "    split: [ { upstream: u, weight: 4294967295 }, { upstream: u } ]\n"
                   "    timeout: 720h\n"),
            (Lines{
                "t.yaml:1:10: 'workers' must be an integer from 1 to 1024, got '1025'",
                "t.yaml:3:25: 'idle_timeout' must be at most 720h (30 days), got '721h'",
                "t.yaml:3:46: 'drain_timeout' must be at most 720h (30 days), got '3000000h'",
                "t.yaml:6:42: 'weight' must be an integer from 1 to 1000000, got '1000001'",
                "t.yaml:9:37: 'weight' must be an integer from 0 to 1000000, got '4294967295'",
            }));
}

TEST(LoaderErrors, ValuesAndKeysMustBeUtf8) {
  EXPECT_EQ(errors("listeners: [ { name: \"caf\xe9\", address: 127.0.0.1:0 } ]\n"
                   "x\xff: 1\n"),
            (Lines{"t.yaml:1:22: the value is not valid UTF-8",
                   "t.yaml:2:1: the key is not valid UTF-8"}));
  EXPECT_EQ(errors("listeners: [ { name: \"caf\xc3\xa9 \xe2\x82\xac\", address: 127.0.0.1:0 } ]\n"),
            Lines{});
}

TEST(LoaderErrors, HeaderLimitAtMostOneMebibyte) {
  EXPECT_EQ(errors("listeners: [ { name: l, address: 127.0.0.1:0 } ]\n"
                   "limits: { max_header_bytes: 4294967295 }\n"),
            Lines{"t.yaml:2:29: 'max_header_bytes' is too large (at most 1048576 bytes)"});
  EXPECT_EQ(errors("listeners: [ { name: l, address: 127.0.0.1:0 } ]\n"
                   "limits: { max_header_bytes: 1MiB }\n"),
            Lines{});
}

TEST(LoaderErrors, OneYamlDocumentPerFile) {
  EXPECT_EQ(errors("listeners: [ { name: l, address: 127.0.0.1:0 } ]\n"
                   "---\n"
                   "bogus_key: 1\n"),
            Lines{"t.yaml:3:1: a second YAML document ('---'); a config file holds exactly one"});
  EXPECT_EQ(errors("listeners: [ { name: l, address: 127.0.0.1:0 } ]\n---\n---\nx: 1\n"),
            Lines{"t.yaml:4:1: a second YAML document ('---'); a config file holds exactly one"});
  EXPECT_EQ(errors("---\nlisteners: [ { name: l, address: 127.0.0.1:0 } ]\n---\n"), Lines{});
}

TEST(LoaderErrors, WrongScalarTypes) {
  EXPECT_EQ(errors("workers: many\n"
                   "listeners: [ { name: l, address: 127.0.0.1:0 } ]\n"
                   "admin: { enabled: maybe }\n"
                   "log: { level: loud }\n"
                   "access_log: { path: [a] }\n"),
            (Lines{
                "t.yaml:1:10: 'workers' must be auto or an integer >= 1, got 'many'",
                "t.yaml:3:19: 'enabled' must be true or false, got 'maybe'",
                "t.yaml:4:15: 'level' must be one of debug, info, warn, error, got 'loud'",
                "t.yaml:5:21: 'path' must be a single value, but it is a list",
            }));
}

TEST(LoaderErrors, UnsetVariableIsAnErrorAtTheScalar) {
  unsetenv("BASALT_TEST_SURELY_UNSET");
  EXPECT_EQ(errors("listeners:\n"
                   "  - name: l\n"
                   "    address: 127.0.0.1:${BASALT_TEST_SURELY_UNSET}\n"),
            Lines{"t.yaml:3:14: environment variable 'BASALT_TEST_SURELY_UNSET' is not set "
                  "(write ${BASALT_TEST_SURELY_UNSET:-default} to allow that)"});
}

TEST(LoaderErrors, SelfReferringAliasIsRefusedNotFollowed) {
  EXPECT_EQ(errors("listeners: &a [ { name: l, address: 127.0.0.1:0, more: *a } ]\n"),
            (Lines{"t.yaml:1:25: values nested too deeply (a self-referring alias?)",
                   "t.yaml:1:50: unknown key 'more' in listener"}));
}

TEST(LoaderErrors, ErrorsComeInFileOrderAcrossSections) {
  // The unknown upstream (line 2) is found after decoding but reported before line 4.
  auto lines = errors(
      "listeners: [ { name: l, address: 127.0.0.1:0 } ]\n"
      "routes: [ { name: r, upstream: nope } ]\n"
      "upstreams:\n"
      "  - { name: u, endpoints: [] }\n");
  EXPECT_EQ(lines, (Lines{"t.yaml:2:32: route 'r' refers to unknown upstream 'nope'",
                          "t.yaml:4:27: 'endpoints' must have at least one endpoint"}));
}

}  // namespace
}  // namespace basalt::config
