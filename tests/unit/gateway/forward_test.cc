// Header rules of forwarded requests and responses (gateway/forward.h).
#include "gateway/forward.h"

#include <gtest/gtest.h>

namespace basalt::gateway {
namespace {

// Parses `raw` as a request head; the string must outlive the returned parser's views.
std::unique_ptr<http::RequestParser> parse_request(const std::string& raw) {
  auto p = std::make_unique<http::RequestParser>(http::RequestLimits{});
  p->start();
  auto r = p->parse_head(raw);
  EXPECT_EQ(r.state, http::HeadState::done) << raw;
  return p;
}

std::unique_ptr<http::ResponseParser> parse_response(const std::string& raw, bool head = false) {
  auto p = std::make_unique<http::ResponseParser>();
  p->start(head);
  auto r = p->parse_head(raw);
  EXPECT_EQ(r.state, http::HeadState::done) << raw;
  return p;
}

bool has_line(const std::string& head, const std::string& line) {
  return head.find("\r\n" + line + "\r\n") != std::string::npos;
}

bool has_field(const std::string& head, const std::string& lower_name) {
  std::string lower;
  for (char c : head) lower.push_back(static_cast<char>(std::tolower(c)));
  return lower.find("\r\n" + lower_name + ":") != std::string::npos;
}

UpstreamRequest basic(const HeaderEdit* edit = nullptr) {
  return {.path = "/users/1",
          .query = "",
          .has_query = false,
          .client_ip = "10.1.2.3",
          .request_id = "rid-1",
          .routed_host = "api.example.com",
          .edit = edit};
}

TEST(ForwardRequest, AbsoluteFormAuthorityReplacesTheHostField) {
  std::string raw =
      "GET http://api.example.com:8080/users/1 HTTP/1.1\r\nHost: other.example.com\r\n\r\n";
  auto p = parse_request(raw);
  auto r = basic();
  r.target_authority = "api.example.com:8080";
  std::string out;
  append_upstream_request(out, p->head(), r);
  EXPECT_TRUE(has_line(out, "Host: api.example.com:8080")) << out;
  EXPECT_TRUE(has_line(out, "X-Forwarded-Host: api.example.com:8080")) << out;
  EXPECT_EQ(out.find("other.example.com"), std::string::npos) << out;
}

TEST(ForwardRequest, ConnectionCannotDropHost) {
  std::string raw = "GET /users/1 HTTP/1.1\r\nHost: api.example.com\r\nConnection: host\r\n\r\n";
  auto p = parse_request(raw);
  std::string out;
  append_upstream_request(out, p->head(), basic());
  EXPECT_TRUE(has_line(out, "Host: api.example.com")) << out;
}

TEST(ForwardRequest, DropsHopByHopFieldsAndFieldsNamedByConnection) {
  std::string raw =
      "GET /users/1 HTTP/1.1\r\nHost: api.example.com\r\nConnection: keep-alive, X-Secret\r\n"
      "X-Secret: s\r\nKeep-Alive: timeout=5\r\nProxy-Connection: x\r\nTE: trailers\r\n"
      "Trailer: x\r\nUpgrade: websocket\r\nAccept: */*\r\n\r\n";
  auto p = parse_request(raw);
  std::string out;
  append_upstream_request(out, p->head(), basic());
  for (auto name :
       {"connection", "x-secret", "keep-alive", "proxy-connection", "te", "trailer", "upgrade"})
    EXPECT_FALSE(has_field(out, name)) << name << " in\n" << out;
  EXPECT_TRUE(has_line(out, "Accept: */*"));
  EXPECT_TRUE(has_line(out, "Host: api.example.com"));
  EXPECT_EQ(out.rfind("GET /users/1 HTTP/1.1\r\n", 0), 0u);
}

TEST(ForwardRequest, AppendsClientAddressToForwardedForAndSetsProtoAndHost) {
  std::string raw =
      "GET / HTTP/1.1\r\nHost: a.example:8080\r\nX-Forwarded-For: 1.1.1.1\r\n"
      "X-Forwarded-For: 2.2.2.2\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Host: evil\r\n\r\n";
  auto p = parse_request(raw);
  std::string out;
  append_upstream_request(out, p->head(), basic());
  EXPECT_TRUE(has_line(out, "X-Forwarded-For: 1.1.1.1, 2.2.2.2, 10.1.2.3")) << out;
  EXPECT_TRUE(has_line(out, "X-Forwarded-Proto: http")) << out;
  EXPECT_TRUE(has_line(out, "X-Forwarded-Host: a.example:8080")) << out;
  EXPECT_FALSE(has_line(out, "X-Forwarded-Host: evil"));
  EXPECT_FALSE(has_line(out, "X-Forwarded-Proto: https"));
}

TEST(ForwardRequest, ReplacesClientRequestIdWithTheGatewaysOne) {
  std::string raw = "GET / HTTP/1.1\r\nHost: h\r\nX-Request-Id: client\r\n\r\n";
  auto p = parse_request(raw);
  std::string out;
  append_upstream_request(out, p->head(), basic());
  EXPECT_TRUE(has_line(out, "X-Request-Id: rid-1"));
  EXPECT_FALSE(has_line(out, "X-Request-Id: client"));
}

TEST(ForwardRequest, RewritesFramingForChunkedAndLengthBodies) {
  std::string chunked = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";
  auto p = parse_request(chunked);
  std::string out;
  append_upstream_request(out, p->head(), basic());
  EXPECT_TRUE(has_line(out, "Transfer-Encoding: chunked"));

  std::string length =
      "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 12\r\nExpect: 100-continue\r\n\r\n";
  auto q = parse_request(length);
  out.clear();
  append_upstream_request(out, q->head(), basic());
  EXPECT_TRUE(has_line(out, "Content-Length: 12"));
  EXPECT_FALSE(has_field(out, "expect"));
}

TEST(ForwardRequest, AppliesRouteHeaderEdits) {
  HeaderEdit edit;
  edit.drop = {"x-remove", "x-set"};
  edit.append = "X-Set: new\r\nX-Add: added\r\n";
  std::string raw = "GET / HTTP/1.1\r\nHost: h\r\nX-Remove: 1\r\nX-Set: old\r\nX-Keep: k\r\n\r\n";
  auto p = parse_request(raw);
  std::string out;
  append_upstream_request(out, p->head(), basic(&edit));
  EXPECT_FALSE(has_line(out, "X-Remove: 1"));
  EXPECT_FALSE(has_line(out, "X-Set: old"));
  EXPECT_TRUE(has_line(out, "X-Set: new"));
  EXPECT_TRUE(has_line(out, "X-Add: added"));
  EXPECT_TRUE(has_line(out, "X-Keep: k"));
}

TEST(ForwardRequest, Http10WithoutHostGetsTheRoutedHost) {
  std::string raw = "GET / HTTP/1.0\r\n\r\n";
  auto p = parse_request(raw);
  std::string out;
  append_upstream_request(out, p->head(), basic());
  EXPECT_TRUE(has_line(out, "Host: api.example.com")) << out;
  EXPECT_EQ(out.rfind("GET /users/1 HTTP/1.1\r\n", 0), 0u);
}

TEST(ForwardResponse, DropsHopByHopAndKeepsLength) {
  std::string raw =
      "HTTP/1.1 200 OK\r\nConnection: x-hop\r\nX-Hop: 1\r\nKeep-Alive: timeout=4\r\n"
      "Content-Length: 5\r\nX-Request-Id: upstream\r\nServer: demo\r\n\r\n";
  auto p = parse_response(raw);
  std::string out;
  ClientResponse info{.request_id = "rid-1"};
  EXPECT_FALSE(append_client_response(out, p->head(), info));
  EXPECT_FALSE(has_field(out, "x-hop"));
  EXPECT_FALSE(has_field(out, "keep-alive"));
  EXPECT_FALSE(has_field(out, "connection"));
  EXPECT_TRUE(has_line(out, "Content-Length: 5"));
  EXPECT_TRUE(has_line(out, "X-Request-Id: rid-1"));
  EXPECT_FALSE(has_line(out, "X-Request-Id: upstream"));
  EXPECT_TRUE(has_line(out, "Server: demo"));
}

TEST(ForwardResponse, ChunkedUpstreamIsChunkedForHttp11AndCloseDelimitedForHttp10) {
  std::string raw = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  auto p = parse_response(raw);
  std::string out;
  ClientResponse v11{.request_id = "r", .client_version = 11};
  EXPECT_TRUE(append_client_response(out, p->head(), v11));
  EXPECT_TRUE(has_line(out, "Transfer-Encoding: chunked"));
  EXPECT_FALSE(v11.close);

  out.clear();
  ClientResponse v10{.request_id = "r", .client_version = 10};
  EXPECT_FALSE(append_client_response(out, p->head(), v10));
  EXPECT_TRUE(v10.close);
  EXPECT_TRUE(has_line(out, "Connection: close"));
  EXPECT_FALSE(has_field(out, "transfer-encoding"));
}

TEST(ForwardResponse, Http10KeepAliveClientIsToldTheConnectionStaysOpen) {
  std::string raw = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
  auto p = parse_response(raw);
  std::string out;
  ClientResponse info{.request_id = "r", .client_version = 10};
  append_client_response(out, p->head(), info);
  EXPECT_TRUE(has_line(out, "Connection: keep-alive")) << out;
}

TEST(ForwardResponse, HeadResponseKeepsUpstreamContentLength) {
  std::string raw = "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n";
  auto p = parse_response(raw, /*head=*/true);
  std::string out;
  ClientResponse info{.request_id = "r", .head_request = true};
  append_client_response(out, p->head(), info);
  EXPECT_TRUE(has_line(out, "Content-Length: 1234")) << out;
}

TEST(ForwardResponse, HeadResponseOfAChunkedGetSaysNoLength) {
  std::string raw = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  auto p = parse_response(raw, /*head=*/true);
  std::string out;
  ClientResponse info{.request_id = "r", .head_request = true};
  append_client_response(out, p->head(), info);
  EXPECT_FALSE(has_field(out, "content-length")) << out;
  EXPECT_FALSE(has_field(out, "transfer-encoding")) << out;
}

TEST(ForwardResponse, NoContentHasNoLength) {
  std::string raw = "HTTP/1.1 204 No Content\r\n\r\n";
  auto p = parse_response(raw);
  std::string out;
  ClientResponse info{.request_id = "r"};
  append_client_response(out, p->head(), info);
  EXPECT_FALSE(has_field(out, "content-length")) << out;
}

TEST(RewritePath, ReplacesTheMatchedPrefix) {
  auto rw = [](std::string_view path, std::string_view prefix, std::string_view rewrite) {
    std::string out;
    append_rewritten_path(out, path, prefix, rewrite);
    return out;
  };
  EXPECT_EQ(rw("/users/42", "/users", "/v2"), "/v2/42");
  EXPECT_EQ(rw("/users", "/users", "/v2"), "/v2");
  EXPECT_EQ(rw("/users/42", "/users", "/"), "/42");
  EXPECT_EQ(rw("/users", "/users", "/"), "/");
  EXPECT_EQ(rw("/x/y", "/", "/api"), "/api/x/y");
  EXPECT_EQ(rw("/users/42", "/users", "/v2/"), "/v2/42");
}

}  // namespace
}  // namespace basalt::gateway
