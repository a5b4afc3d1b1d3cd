// The heads the gateway writes when it forwards: the request head sent upstream and the
// response head sent back to the client. Pure functions over parsed heads, so the header rules
// are unit-tested without sockets (tests/unit/gateway/forward_test.cc).
//
// Rules applied in both directions: hop-by-hop fields (Connection and every field it names,
// Keep-Alive, Proxy-Connection, TE, Trailer, Upgrade, Transfer-Encoding) are dropped, framing is
// rewritten by the gateway (Content-Length or chunked), the route's header edits apply, and
// X-Request-Id carries the gateway's id. Upstream-bound heads also get X-Forwarded-For (appended
// to what the client sent), X-Forwarded-Proto and X-Forwarded-Host.
//
//   std::string out;
//   gateway::append_upstream_request(out, parser.head(), {.path = "/v2/users", ...});
//   bool chunked = gateway::append_client_response(out, response.head(), info);
#pragma once

#include <string>
#include <string_view>

#include "gateway/runtime.h"
#include "http/h1_parser.h"

namespace basalt::gateway {

struct UpstreamRequest {
  std::string_view path;  // normalized, rewritten
  std::string_view query;
  bool has_query = false;
  std::string_view client_ip;
  std::string_view request_id;
  // Written as Host when the request carried none (HTTP/1.0): the host it was routed by, or
  // else the endpoint's name, since every HTTP/1.1 request must carry a Host.
  std::string_view routed_host;
  // The authority of an absolute-form target (RFC 9112 3.2.2: it replaces Host). Routing used
  // it, so the upstream must see it too, never a Host field that says something else.
  std::string_view target_authority;
  const HeaderEdit* edit = nullptr;
};

void append_upstream_request(std::string& out, const http::RequestHead& head,
                             const UpstreamRequest& r);

struct ClientResponse {
  std::string_view request_id;
  const HeaderEdit* edit = nullptr;
  bool head_request = false;
  unsigned client_version = 11;
  bool close = false;  // in: the gateway will close; out: also true when the body is
                       // delimited by closing (HTTP/1.0 client, body of unknown length)
};

// Returns true when the body must be sent chunked (the upstream's length is not known ahead).
bool append_client_response(std::string& out, const http::ResponseHead& head, ClientResponse& r);

// The upstream path for a route with `rewrite: { path_prefix: R }` matched by prefix P:
// P is replaced by R ("/users/42" with P "/users", R "/v2" gives "/v2/42").
void append_rewritten_path(std::string& out, std::string_view path, std::string_view prefix,
                           std::string_view rewrite);

}  // namespace basalt::gateway
