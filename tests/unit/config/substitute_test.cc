#include "config/substitute.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace basalt::config {
namespace {

// A fixed environment, so these tests do not depend on the process's.
EnvLookup fake_env(std::map<std::string, std::string, std::less<>> vars) {
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

const EnvLookup kEnv = fake_env({{"HOST", "10.0.0.1"}, {"PORT", "9000"}, {"EMPTY", ""}});

TEST(ExpandEnv, LeavesTextWithoutReferencesAlone) {
  Expansion e = expand_env("plain $ text $5 {x}", kEnv);
  EXPECT_EQ(e.text, "plain $ text $5 {x}");
  EXPECT_FALSE(e.had_reference);
  EXPECT_FALSE(e.error);
}

TEST(ExpandEnv, ReplacesReferencesAnywhereInTheScalar) {
  Expansion e = expand_env("${HOST}:${PORT}", kEnv);
  EXPECT_EQ(e.text, "10.0.0.1:9000");
  EXPECT_TRUE(e.had_reference);
  EXPECT_EQ(expand_env("http://${HOST}/x", kEnv).text, "http://10.0.0.1/x");
}

TEST(ExpandEnv, UsesTheDefaultWhenUnsetOrEmpty) {
  EXPECT_EQ(expand_env("${NOPE:-127.0.0.1}", kEnv).text, "127.0.0.1");
  EXPECT_EQ(expand_env("${EMPTY:-d}", kEnv).text, "d");
  EXPECT_EQ(expand_env("${PORT:-1}", kEnv).text, "9000");
  EXPECT_EQ(expand_env("${NOPE:-}", kEnv).text, "");
}

TEST(ExpandEnv, SetButEmptyWithoutDefaultIsEmpty) {
  Expansion e = expand_env("[${EMPTY}]", kEnv);
  EXPECT_FALSE(e.error);
  EXPECT_EQ(e.text, "[]");
}

TEST(ExpandEnv, DoubleDollarIsALiteral) {
  Expansion e = expand_env("cost $${HOST} and ${PORT}", kEnv);
  EXPECT_EQ(e.text, "cost ${HOST} and 9000");
  EXPECT_TRUE(e.had_reference);
  EXPECT_FALSE(expand_env("$${X}", kEnv).had_reference);
}

TEST(ExpandEnv, UnsetWithoutDefaultIsAnError) {
  Expansion e = expand_env("x ${NOPE} y", kEnv);
  ASSERT_TRUE(e.error);
  EXPECT_EQ(*e.error,
            "environment variable 'NOPE' is not set (write ${NOPE:-default} to allow that)");
}

TEST(ExpandEnv, MalformedReferencesAreErrors) {
  EXPECT_EQ(expand_env("${HOST", kEnv).error,
            "unterminated '${' (missing '}'; write $${ for a literal ${)");
  EXPECT_EQ(expand_env("${}", kEnv).error, "invalid variable name '' in ${...}");
  EXPECT_EQ(expand_env("${1X}", kEnv).error, "invalid variable name '1X' in ${...}");
  EXPECT_EQ(expand_env("${A-B}", kEnv).error, "invalid variable name 'A-B' in ${...}");
  EXPECT_EQ(expand_env("${A:-${B}}", kEnv).error,
            "a ${...} default may not contain another ${...}");
}

}  // namespace
}  // namespace basalt::config
