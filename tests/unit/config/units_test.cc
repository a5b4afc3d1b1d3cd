#include "config/units.h"

#include <gtest/gtest.h>

#include <optional>

#include "config/address.h"

namespace basalt::config {
namespace {

using std::chrono::milliseconds;

TEST(ParseDuration, AcceptsEachUnit) {
  EXPECT_EQ(parse_duration("250ms"), milliseconds(250));
  EXPECT_EQ(parse_duration("15s"), milliseconds(15'000));
  EXPECT_EQ(parse_duration("1m"), milliseconds(60'000));
  EXPECT_EQ(parse_duration("1h"), milliseconds(3'600'000));
}

TEST(ParseDuration, AcceptsFractionsThatAreWholeMilliseconds) {
  EXPECT_EQ(parse_duration("1.5s"), milliseconds(1'500));
  EXPECT_EQ(parse_duration("0.25m"), milliseconds(15'000));
  EXPECT_EQ(parse_duration("0.001s"), milliseconds(1));
  EXPECT_EQ(parse_duration("2.500s"), milliseconds(2'500));
  EXPECT_EQ(parse_duration("1.0ms"), milliseconds(1));
}

TEST(ParseDuration, AcceptsZeroWithOrWithoutUnit) {
  EXPECT_EQ(parse_duration("0"), milliseconds(0));
  EXPECT_EQ(parse_duration("0s"), milliseconds(0));
  EXPECT_EQ(parse_duration("0ms"), milliseconds(0));
}

TEST(ParseDuration, RefusesMissingOrUnknownUnits) {
  EXPECT_EQ(parse_duration("15"), std::nullopt);
  EXPECT_EQ(parse_duration("1x"), std::nullopt);
  EXPECT_EQ(parse_duration("1sec"), std::nullopt);
  EXPECT_EQ(parse_duration("1S"), std::nullopt);
  EXPECT_EQ(parse_duration("1us"), std::nullopt);
  EXPECT_EQ(parse_duration("1d"), std::nullopt);
}

TEST(ParseDuration, RefusesSignsSpacesAndMalformedNumbers) {
  EXPECT_EQ(parse_duration("-1s"), std::nullopt);
  EXPECT_EQ(parse_duration("+1s"), std::nullopt);
  EXPECT_EQ(parse_duration(" 1s"), std::nullopt);
  EXPECT_EQ(parse_duration("1 s"), std::nullopt);
  EXPECT_EQ(parse_duration(""), std::nullopt);
  EXPECT_EQ(parse_duration("s"), std::nullopt);
  EXPECT_EQ(parse_duration(".5s"), std::nullopt);
  EXPECT_EQ(parse_duration("1.s"), std::nullopt);
  EXPECT_EQ(parse_duration("1e3ms"), std::nullopt);
  EXPECT_EQ(parse_duration("1m30s"), std::nullopt);
}

TEST(ParseDuration, RefusesSubMillisecondPrecisionAndOverflow) {
  EXPECT_EQ(parse_duration("1.5ms"), std::nullopt);
  EXPECT_EQ(parse_duration("0.0001s"), std::nullopt);
  EXPECT_EQ(parse_duration("99999999999999999999s"), std::nullopt);
  EXPECT_EQ(parse_duration("9223372036854775807h"), std::nullopt);
}

TEST(ParseSize, AcceptsBytesAndBinaryUnits) {
  EXPECT_EQ(parse_size("0"), 0u);
  EXPECT_EQ(parse_size("1024"), 1024u);
  EXPECT_EQ(parse_size("64KiB"), 64u * 1024);
  EXPECT_EQ(parse_size("10MiB"), 10u * 1024 * 1024);
  EXPECT_EQ(parse_size("1GiB"), uint64_t{1} << 30);
  EXPECT_EQ(parse_size("2TiB"), uint64_t{2} << 40);
}

TEST(ParseSize, RefusesDecimalUnitsFractionsSignsAndOverflow) {
  EXPECT_EQ(parse_size("1KB"), std::nullopt);
  EXPECT_EQ(parse_size("1kib"), std::nullopt);
  EXPECT_EQ(parse_size("1.5MiB"), std::nullopt);
  EXPECT_EQ(parse_size("-1"), std::nullopt);
  EXPECT_EQ(parse_size("1x"), std::nullopt);
  EXPECT_EQ(parse_size("MiB"), std::nullopt);
  EXPECT_EQ(parse_size(""), std::nullopt);
  EXPECT_EQ(parse_size("1 KiB"), std::nullopt);
  EXPECT_EQ(parse_size("18446744073709551616"), std::nullopt);
  EXPECT_EQ(parse_size("17179869184GiB"), std::nullopt);
}

TEST(ParseHostPort, SplitsNamesIPv4AndBracketedIPv6) {
  auto a = parse_host_port("127.0.0.1:8080");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 8080);

  auto b = parse_host_port("[::1]:0");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->host, "::1");
  EXPECT_EQ(b->port, 0);

  auto c = parse_host_port("users.internal:65535");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->host, "users.internal");
  EXPECT_EQ(c->port, 65535);
}

TEST(ParseHostPort, ExplainsWhatIsWrong) {
  std::string why;
  EXPECT_FALSE(parse_host_port("127.0.0.1", &why));
  EXPECT_EQ(why, "missing port (expected host:port)");
  EXPECT_FALSE(parse_host_port("127.0.0.1:", &why));
  EXPECT_EQ(why, "missing port (expected host:port)");
  EXPECT_FALSE(parse_host_port("h:65536", &why));
  EXPECT_EQ(why, "port must be a number from 0 to 65535");
  EXPECT_FALSE(parse_host_port("h:-1", &why));
  EXPECT_EQ(why, "port must be a number from 0 to 65535");
  EXPECT_FALSE(parse_host_port(":80", &why));
  EXPECT_EQ(why, "missing host (expected host:port)");
  EXPECT_FALSE(parse_host_port("::1:80", &why));
  EXPECT_EQ(why, "IPv6 addresses need brackets, as in [::1]:8080");
  EXPECT_FALSE(parse_host_port("[::1]", &why));
  EXPECT_EQ(why, "missing port (expected [ipv6]:port)");
  EXPECT_FALSE(parse_host_port("bad host:80", &why));
  EXPECT_EQ(why, "invalid host name");
}

TEST(FormatHostPort, BracketsIPv6) {
  EXPECT_EQ(format_host_port(HostPort{"::1", 80}), "[::1]:80");
  EXPECT_EQ(format_host_port(HostPort{"example.com", 443}), "example.com:443");
}

TEST(DiagnosticFormat, NamesFileLineAndColumn) {
  EXPECT_EQ((Diagnostic{SourcePos{"a.yaml", 3, 7}, "bad"}).format(), "a.yaml:3:7: bad");
  EXPECT_EQ((Diagnostic{SourcePos{"a.yaml", 0, 0}, "cannot open"}).format(), "a.yaml: cannot open");
}

}  // namespace
}  // namespace basalt::config
