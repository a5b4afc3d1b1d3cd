// Admin HTTP server. See admin.h.
#include "admin/admin.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <thread>

#include "net/listener.h"

namespace basalt::admin {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using asio::ip::tcp;
constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);

struct Page {
  int status;
  std::string_view content_type;
  std::string body;
};

class ServerImpl final : public Server {
 public:
  ServerImpl(const config::AdminConfig& cfg, Hooks hooks)
      : token_(cfg.token), hooks_(std::move(hooks)) {}
  ~ServerImpl() override { stop(); }

  bool bind(const config::AdminConfig& cfg, std::string* error) {
    auto a = net::listen(io_, cfg.address, net::Sharing::exclusive, error);
    if (!a) return false;
    acceptor_.emplace(std::move(*a));
    address_ = net::format(acceptor_->local_endpoint());
    return true;
  }

  void run() {
    asio::co_spawn(io_, accept_loop(), asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }

  std::string address() const override { return address_; }

  void stop() override {
    if (!thread_.joinable()) return;
    asio::post(io_, [this] {
      boost::system::error_code ec;
      acceptor_->close(ec);
      io_.stop();
    });
    thread_.join();
  }

 private:
  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_->async_accept(kAwait);
      if (ec) co_return;
      asio::co_spawn(io_, serve(beast::tcp_stream(std::move(socket))), asio::detached);
    }
  }

  // One admin connection: keep-alive, 10 s to send each request, small request bodies only.
  asio::awaitable<void> serve(beast::tcp_stream stream) {
    beast::flat_buffer buffer;
    for (;;) {
      bhttp::request_parser<bhttp::string_body> parser;
      parser.body_limit(64 * 1024);
      stream.expires_after(std::chrono::seconds(10));
      auto [ec, n] = co_await bhttp::async_read(stream, buffer, parser, kAwait);
      if (ec) break;
      const auto& req = parser.get();
      Page page = authorized(req) ? route(req.method(), req.target())
                                  : Page{401, "text/plain; charset=utf-8", "unauthorized\n"};
      bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(page.status),
                                              req.version()};
      res.set(bhttp::field::content_type, page.content_type);
      res.set(bhttp::field::cache_control, "no-store");
      if (page.status == 401)
        res.set(bhttp::field::www_authenticate, "Bearer realm=\"basalt-admin\"");
      res.body() = std::move(page.body);
      res.keep_alive(req.keep_alive());
      res.prepare_payload();
      // HEAD: the Content-Length a GET would get, and no body (it would be read as the next
      // response on a keep-alive connection).
      if (req.method() == bhttp::verb::head) res.body().clear();
      auto [wec, wn] = co_await bhttp::async_write(stream, res, kAwait);
      if (wec || !res.keep_alive()) break;
    }
    boost::system::error_code ec;
    stream.socket().shutdown(tcp::socket::shutdown_both, ec);
  }

  // With a token configured, everything but the probes (/live, /ready: orchestrators call them
  // without credentials, and they reveal nothing) needs "Authorization: Bearer <token>".
  bool authorized(const bhttp::request<bhttp::string_body>& req) const {
    if (token_.empty()) return true;
    std::string_view path = req.target().substr(0, req.target().find('?'));
    if (path == "/live" || path == "/ready") return true;
    auto it = req.find(bhttp::field::authorization);
    if (it == req.end()) return false;
    std::string_view value = it->value();
    constexpr std::string_view kScheme = "Bearer ";
    if (value.size() < kScheme.size() || !beast::iequals(value.substr(0, 6), "Bearer") ||
        value[6] != ' ')
      return false;
    return same_secret(value.substr(kScheme.size()), token_);
  }

  // Compares in time that depends only on the lengths, so a wrong token's timing says nothing
  // about how much of it was right.
  static bool same_secret(std::string_view given, std::string_view expected) {
    unsigned char diff = given.size() == expected.size() ? 0 : 1;
    for (size_t i = 0; i < given.size(); ++i)
      diff |= static_cast<unsigned char>(given[i] ^ expected[i % expected.size()]);
    return diff == 0;
  }

  Page route(bhttp::verb method, std::string_view target) {
    std::string_view path = target.substr(0, target.find('?'));
    if (method != bhttp::verb::get && method != bhttp::verb::head)
      return {405, "text/plain; charset=utf-8", "method not allowed\n"};
    if (path == "/live") return {200, "text/plain; charset=utf-8", "live\n"};
    if (path == "/ready") {
      bool ready = hooks_.ready();
      return {ready ? 200 : 503, "text/plain; charset=utf-8", ready ? "ready\n" : "not ready\n"};
    }
    if (path == "/metrics")
      return {200, "text/plain; version=0.0.4; charset=utf-8", hooks_.metrics()};
    if (path == "/config") return {200, "application/json", hooks_.config()};
    if (path == "/upstreams") return {200, "application/json", hooks_.upstreams()};
    if (path == "/")
      return {200, "text/plain; charset=utf-8",
              "basalt admin: /live /ready /metrics /config /upstreams\n"};
    return {404, "text/plain; charset=utf-8", "not found\n"};
  }

  const std::string token_;
  Hooks hooks_;
  asio::io_context io_{1};
  std::optional<tcp::acceptor> acceptor_;
  std::string address_;
  std::thread thread_;
};

}  // namespace

std::unique_ptr<Server> Server::start(const config::AdminConfig& cfg, Hooks hooks,
                                      std::string* error) {
  auto s = std::make_unique<ServerImpl>(cfg, std::move(hooks));
  if (!s->bind(cfg, error)) return nullptr;
  s->run();
  return s;
}

}  // namespace basalt::admin
