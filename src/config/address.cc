#include "config/address.h"

#include <charconv>

namespace basalt::config {
namespace {

bool is_alnum(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// DNS names and IPv4 literals: letters, digits, '-', '.', and '_' (seen in SRV-style names).
bool valid_name_host(std::string_view h) {
  for (char c : h)
    if (!is_alnum(c) && c != '-' && c != '.' && c != '_') return false;
  return true;
}

// Inside brackets: hex digits, ':' and '.' (IPv4-mapped), plus '%' and a zone id.
bool valid_v6_host(std::string_view h) {
  if (h.find(':') == std::string_view::npos) return false;
  for (char c : h)
    if (!is_alnum(c) && c != ':' && c != '.' && c != '%') return false;
  return true;
}

std::optional<HostPort> fail(std::string* why, std::string reason) {
  if (why) *why = std::move(reason);
  return std::nullopt;
}

std::optional<uint16_t> parse_port(std::string_view s) {
  if (s.empty() || s.size() > 5) return std::nullopt;
  unsigned v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size() || v > 65535) return std::nullopt;
  return static_cast<uint16_t>(v);
}

}  // namespace

std::optional<HostPort> parse_host_port(std::string_view text, std::string* why) {
  // Split host from port; IPv6 literals carry their own colons, hence the brackets.
  std::string_view host;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos) return fail(why, "missing ']' after IPv6 address");
    host = text.substr(1, close - 1);
    std::string_view rest = text.substr(close + 1);
    if (rest.empty() || rest.front() != ':')
      return fail(why, "missing port (expected [ipv6]:port)");
    port = rest.substr(1);
    if (!valid_v6_host(host)) return fail(why, "invalid IPv6 address");
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return fail(why, "missing port (expected host:port)");
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos)
      return fail(why, "IPv6 addresses need brackets, as in [::1]:8080");
    if (host.empty()) return fail(why, "missing host (expected host:port)");
    if (!valid_name_host(host)) return fail(why, "invalid host name");
  }

  // Then the port, which must be a plain decimal number in range.
  if (port.empty()) return fail(why, "missing port (expected host:port)");
  auto number = parse_port(port);
  if (!number) return fail(why, "port must be a number from 0 to 65535");
  return HostPort{std::string(host), *number};
}

std::string format_host_port(const HostPort& hp) {
  std::string port = std::to_string(hp.port);
  if (hp.host.find(':') != std::string::npos) return "[" + hp.host + "]:" + port;
  return hp.host + ":" + port;
}

}  // namespace basalt::config
