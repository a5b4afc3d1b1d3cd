// Parsing of "host:port" addresses as written in the config (listeners, admin, endpoints).
//
//   std::string why;
//   auto hp = config::parse_host_port("[::1]:8080", &why);   // {"::1", 8080}
//   if (!hp) report(why);                                    // e.g. "missing port"
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "config/model.h"

namespace basalt::config {

// Accepts "host:port" where host is an IPv4 literal or a DNS name, and "[v6]:port" for
// IPv6 literals (the brackets are dropped in the result). The port is decimal, 0..65535;
// port 0 is accepted here (listeners bind an ephemeral port) and refused by callers that
// need a real one. On failure returns nullopt and, if `why` is set, a one-line reason.
std::optional<HostPort> parse_host_port(std::string_view text, std::string* why = nullptr);

// "host:port", bracketing IPv6 literals; the inverse of parse_host_port.
std::string format_host_port(const HostPort& hp);

}  // namespace basalt::config
