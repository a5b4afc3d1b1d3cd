// Forwarded heads. See forward.h.
#include "gateway/forward.h"

#include "http/reply.h"

namespace basalt::gateway {
namespace {

// Hop-by-hop fields (RFC 9110 7.6.1) plus Content-Length, which the gateway writes itself.
bool is_hop_or_framing(std::string_view name) {
  static constexpr std::string_view kNames[] = {"connection", "keep-alive",    "proxy-connection",
                                                "te",         "trailer",       "transfer-encoding",
                                                "upgrade",    "content-length"};
  for (auto n : kNames)
    if (http::iequals(n, name)) return true;
  return false;
}

// Fields the gateway sets on the upstream request in place of the client's.
bool is_replaced_upstream(std::string_view name) {
  static constexpr std::string_view kNames[] = {"x-request-id", "x-forwarded-proto",
                                                "x-forwarded-host", "expect"};
  for (auto n : kNames)
    if (http::iequals(n, name)) return true;
  return false;
}

bool listed(const std::vector<std::string_view>& names, std::string_view name) {
  for (auto n : names)
    if (http::iequals(n, name)) return true;
  return false;
}

void append_field(std::string& out, std::string_view name, std::string_view value) {
  out.append(name);
  out.append(": ");
  out.append(value);
  out.append("\r\n");
}

}  // namespace

void append_upstream_request(std::string& out, const http::RequestHead& head,
                             const UpstreamRequest& r) {
  out.append(head.method);
  out.push_back(' ');
  out.append(r.path);
  if (r.has_query) {
    out.push_back('?');
    out.append(r.query);
  }
  out.append(" HTTP/1.1\r\n");

  // X-Forwarded-For: every value the client sent, in order, then the client's address.
  bool xff_started = false;
  std::string_view xff_field = "X-Forwarded-For: ";
  for (const auto& f : head.fields.all()) {
    // Connection may name hop-by-hop fields to drop, never Host: an HTTP/1.1 request must
    // carry it, and routing used it.
    bool named_by_connection =
        listed(head.connection_tokens, f.name) && !http::iequals(f.name, "host");
    // An empty Host is replaced below like a missing one: exactly one Host goes upstream.
    bool replaced_host =
        http::iequals(f.name, "host") && (!r.target_authority.empty() || head.host.empty());
    if (is_hop_or_framing(f.name) || named_by_connection || is_replaced_upstream(f.name) ||
        http::iequals(f.name, "x-forwarded-for") || (r.edit && r.edit->drops(f.name)) ||
        replaced_host)
      continue;
    append_field(out, f.name, f.value);
  }
  std::string_view host = r.target_authority.empty() ? head.host : r.target_authority;
  if (!r.target_authority.empty())
    append_field(out, "Host", r.target_authority);
  else if (head.host.empty() && !r.routed_host.empty())
    append_field(out, "Host", r.routed_host);
  out.append(xff_field);
  for (const auto& f : head.fields.all()) {
    if (!http::iequals(f.name, "x-forwarded-for")) continue;
    if (xff_started) out.append(", ");
    out.append(f.value);
    xff_started = true;
  }
  if (xff_started) out.append(", ");
  out.append(r.client_ip);
  out.append("\r\nX-Forwarded-Proto: http\r\n");
  if (!host.empty()) append_field(out, "X-Forwarded-Host", host);
  append_field(out, "X-Request-Id", r.request_id);
  if (r.edit) out.append(r.edit->append);
  if (head.body == http::BodyKind::chunked) {
    out.append("Transfer-Encoding: chunked\r\n");
  } else if (head.body == http::BodyKind::length) {
    out.append("Content-Length: ");
    http::append_decimal(out, head.content_length);
    out.append("\r\n");
  }
  out.append("\r\n");
}

bool append_client_response(std::string& out, const http::ResponseHead& head, ClientResponse& r) {
  out.append("HTTP/1.1 ");
  http::append_decimal(out, static_cast<uint64_t>(head.status));
  out.push_back(' ');
  out.append(head.reason.empty() ? http::reason_phrase(head.status) : head.reason);
  out.append("\r\n");
  for (const auto& f : head.fields.all()) {
    if (is_hop_or_framing(f.name) || listed(head.connection_tokens, f.name) ||
        http::iequals(f.name, "x-request-id") || (r.edit && r.edit->drops(f.name)))
      continue;
    append_field(out, f.name, f.value);
  }
  append_field(out, "X-Request-Id", r.request_id);
  if (r.edit) out.append(r.edit->append);

  bool chunked = false;
  switch (head.body) {
    case http::BodyKind::length:
      out.append("Content-Length: ");
      http::append_decimal(out, head.content_length);
      out.append("\r\n");
      break;
    case http::BodyKind::chunked:
    case http::BodyKind::until_close:
      if (r.client_version == 11) {
        out.append("Transfer-Encoding: chunked\r\n");
        chunked = true;
      } else {
        r.close = true;
      }
      break;
    case http::BodyKind::none:
      // A HEAD answer describes the GET's body: its Content-Length is passed on, and with
      // none (a chunked GET) nothing is said, since "0" would be wrong.
      if (r.head_request) {
        if (auto cl = head.fields.find("content-length")) append_field(out, "Content-Length", *cl);
      } else if (head.status >= 200 && head.status != 204 && head.status != 304) {
        out.append("Content-Length: 0\r\n");
      }
      break;
  }
  if (r.close)
    out.append("Connection: close\r\n");
  else if (r.client_version == 10)
    out.append("Connection: keep-alive\r\n");  // HTTP/1.0 closes unless told otherwise
  out.append("\r\n");
  return chunked;
}

void append_rewritten_path(std::string& out, std::string_view path, std::string_view prefix,
                           std::string_view rewrite) {
  std::string_view rest = path;
  if (prefix != "/") rest.remove_prefix(std::min(prefix.size(), rest.size()));
  size_t mark = out.size();
  out.append(rewrite);
  if (!rest.empty()) {
    if (out.size() > mark && out.back() == '/' && rest.front() == '/') out.pop_back();
    out.append(rest);
  }
  if (out.size() == mark) out.push_back('/');
}

}  // namespace basalt::gateway
