// The downstream connection coroutine: the request's path through the gateway.
// See connection.h for the order of steps.
#include "gateway/connection.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <optional>
#include <string>

#include "gateway/failure.h"
#include "gateway/forward.h"
#include "gateway/worker.h"
#include "http/buffer.h"
#include "http/h1_parser.h"
#include "http/path.h"
#include "http/reply.h"
#include "http/request_id.h"
#include "net/peek.h"

namespace basalt::gateway {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using observe::Reject;
constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);
constexpr size_t kReadChunk = 16 * 1024;

// A port of a Host field: 1 to 5 digits, at most 65535.
bool valid_port(std::string_view port) {
  if (port.empty() || port.size() > 5 ||
      port.find_first_not_of("0123456789") != std::string_view::npos)
    return false;
  uint32_t value = 0;
  for (char c : port) value = value * 10 + static_cast<uint32_t>(c - '0');
  return value <= 65535;
}

// Host without port, lower-cased; false if it holds characters a host cannot, or a bad port.
bool host_for_routing(std::string_view host, std::string& out) {
  out.clear();
  if (!host.empty() && host.front() == '[') {
    // An IPv6 literal (RFC 3986 3.2.2): hex digits, ':' and '.' (an embedded IPv4 address).
    size_t close = host.find(']');
    if (close == std::string_view::npos || close < 3) return false;
    std::string_view literal = host.substr(1, close - 1);
    if (literal.find_first_not_of("0123456789abcdefABCDEF:.") != std::string_view::npos)
      return false;
    std::string_view rest = host.substr(close + 1);
    if (!rest.empty() && (rest.front() != ':' || !valid_port(rest.substr(1)))) return false;
    for (char c : host.substr(0, close + 1))
      out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c);
    return true;
  }
  size_t colon = host.rfind(':');
  std::string_view name = host.substr(0, colon);
  if (colon != std::string_view::npos && (name.empty() || !valid_port(host.substr(colon + 1))))
    return false;  // a port needs a host before it
  // "api.example.com." is the same name, fully qualified; routing must not tell them apart.
  if (name.size() > 1 && name.back() == '.') name.remove_suffix(1);
  for (char c : name) {
    // Percent-encoding is legal in a URI's reg-name but names no real host; it is refused so
    // that one host has one spelling for routing.
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
              c == '_' || (c >= 'A' && c <= 'Z') || c == '~';
    if (!ok) return false;
    out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c);
  }
  return true;
}

uint64_t micros_since(Clock::time_point t) {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t).count());
}

// What one request did, for its metrics and access log line. Reused across requests.
struct Exchange {
  Clock::time_point start;
  std::chrono::system_clock::time_point wall;
  std::string request_id;
  std::string method;
  std::string path;
  // Owned copies, not views into the read buffer: a body read may move or reuse that buffer,
  // and a redirect builds its Location from the query after reading the body.
  std::string query;
  bool has_query = false;
  std::string host;
  std::string target_authority;  // of an absolute-form target
  std::string upstream_target;
  int route = -1;
  size_t slot = 0;  // metrics target slot: 0 = no upstream
  std::string_view upstream;
  std::string_view endpoint;
  int status = 0;
  std::optional<Reject> reject;
  uint64_t bytes_in = 0, bytes_out = 0;
  int64_t upstream_us = -1;
  bool head_request = false;
  bool close = false;  // close the client connection after this exchange

  void reset() {
    request_id.clear();
    method.clear();
    path.clear();
    query.clear();
    has_query = false;
    host.clear();
    target_authority.clear();
    route = -1;
    slot = 0;
    upstream = endpoint = {};
    status = 0;
    reject.reset();
    bytes_in = bytes_out = 0;
    upstream_us = -1;
    head_request = false;
    close = false;
  }
};

class ConnectionImpl final : public Connection {
 public:
  ConnectionImpl(Worker& w, tcp::socket s)
      : w_(w),
        socket_(std::move(s)),
        watchdog_(w.io()),
        parser_(
            {w.runtime().cfg->limits.max_header_bytes, w.runtime().cfg->limits.max_header_count}) {}

  void begin(std::list<std::unique_ptr<Connection>>::iterator self) {
    self_ = self;
    boost::system::error_code ec;
    auto peer = socket_.remote_endpoint(ec);
    if (!ec) {
      client_ip_ = peer.address().to_string();
      client_ = (peer.address().is_v6() ? "[" + client_ip_ + "]" : client_ip_) + ":" +
                std::to_string(peer.port());
    }
    socket_.set_option(tcp::no_delay(true), ec);
    asio::co_spawn(w_.io(), watch(), asio::detached);
    asio::co_spawn(w_.io(), run(), asio::detached);
  }

  void drain() override {
    close_after_ = true;
    if (idle_) {
      boost::system::error_code ec;
      socket_.cancel(ec);
    }
  }

  void check_client() override {
    if (!awaiting_upstream_ || closed_ || !in_.empty() ||
        net::peek(socket_.native_handle()) != net::Pending::closed)
      return;
    client_left_ = true;
    boost::system::error_code ec;
    if (upstream_) upstream_->socket.cancel(ec);
  }

  void abort() override {
    aborted_ = true;
    close_after_ = true;
    boost::system::error_code ec;
    socket_.cancel(ec);
    if (upstream_) upstream_->socket.cancel(ec);
    if (connecting_) connecting_->socket.cancel(ec);
  }

 private:
  // ---- deadlines ------------------------------------------------------------------------------

  // One timer per connection. The watchdog wakes at the deadline or after the shortest
  // configured timeout, whichever is first, and then re-checks. So arm() only stores the new
  // deadline: one that is at least the shortest timeout away can never be earlier than the
  // timer's. Only a deadline nearly spent (arm_until late in a route's timeout) re-arms it.
  void arm(std::chrono::milliseconds d) {
    deadline_ = Clock::now() + d;
    timed_out_ = false;
    if (deadline_ < armed_) {
      armed_ = deadline_;
      watchdog_.cancel();
    }
  }

  asio::awaitable<void> watch() {
    const auto period = w_.runtime().shortest_timeout;
    while (!closed_) {
      armed_ = std::min(deadline_, Clock::now() + period);
      watchdog_.expires_at(armed_);
      co_await watchdog_.async_wait(kAwait);
      if (closed_) break;
      if (Clock::now() >= deadline_) {
        timed_out_ = true;
        deadline_ = Clock::time_point::max();
        boost::system::error_code ec;
        socket_.cancel(ec);
        if (upstream_) upstream_->socket.cancel(ec);
      }
    }
    watch_done_ = true;
    if (run_done_) finish();
  }

  // Destroys this connection: nothing may touch a member after the call.
  void finish() { w_.connection_closed(self_); }

  // ---- the connection loop ----------------------------------------------------------------------

  asio::awaitable<void> run() {
    const auto& limits = w_.runtime().cfg->limits;
    w_.metrics().active_downstream.add(1);
    w_.metrics().downstream_connections.inc();

    bool first = true;
    while (!close_after_ || first) {
      x_.reset();
      parser_.start();
      head_seen_ = false;
      if (!co_await read_head(first ? limits.header_timeout : limits.idle_timeout)) break;
      head_seen_ = true;
      first = false;
      co_await handle();
      if (x_.close) break;
    }

    boost::system::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_send, ec);
    // Unread bytes: a refused head, pipelined requests, or the body of the last request.
    if (!aborted_ && (!in_.empty() || (head_seen_ && !parser_.body_done()))) co_await linger();
    socket_.close(ec);
    w_.metrics().active_downstream.add(-1);
    closed_ = true;
    watchdog_.cancel();
    run_done_ = true;
    if (watch_done_) finish();
  }

  // Reads until a complete head is buffered. False when the connection should just close
  // (peer gone, idle timeout, drain, or a rejected head that has been answered).
  asio::awaitable<bool> read_head(std::chrono::milliseconds first_wait) {
    const auto& limits = w_.runtime().cfg->limits;
    bool waiting_idle = in_.empty();
    if (waiting_idle) in_.shrink_if_grown();
    arm(waiting_idle ? first_wait : limits.header_timeout);
    for (;;) {
      skip_empty_lines();
      if (!in_.empty()) {
        auto r = parser_.parse_head(in_.view());
        if (r.state == http::HeadState::done) {
          x_.bytes_in += r.consumed;
          head_size_ = r.consumed;
          co_return true;
        }
        if (r.state == http::HeadState::failed) {
          co_await reject_head(r.failure);
          co_return false;
        }
      }
      if (in_.empty() && close_after_) co_return false;

      idle_ = in_.empty();
      auto space = in_.space(kReadChunk);
      auto [ec, n] =
          co_await socket_.async_read_some(asio::buffer(space.data(), space.size()), kAwait);
      idle_ = false;
      if (ec || n == 0) {
        if (!in_.empty()) co_await end_partial_head();
        co_return false;
      }
      in_.commit(n);
      w_.metrics().bytes_received.inc(n);
      if (waiting_idle) {
        waiting_idle = false;
        x_.start = Clock::now();
        arm(limits.header_timeout);
      }
    }
  }

  // A head that started but never completed: too slow (408), or the client left or the drain
  // ran out (logged 499, nothing to answer). Either way it is logged and counted.
  asio::awaitable<void> end_partial_head() {
    start_exchange();
    x_.bytes_in += in_.view().size();
    x_.close = true;
    if (!timed_out_) {
      x_.status = 499;
      x_.reject = aborted_ ? Reject::draining : Reject::client_closed;
      co_return complete();
    }
    co_await local_reply(408, Reject::header_timeout, "request head not received in time", true);
  }

  // RFC 9112 2.2: empty lines before a request line are ignored (some clients send a CRLF
  // after a request body). Only whole CRLFs go; the scanner judges anything else.
  void skip_empty_lines() {
    size_t n = 0;
    std::string_view v = in_.view();
    while (v.substr(n, 2) == "\r\n") n += 2;
    if (n == 0) return;
    in_.consume(n);
    x_.bytes_in += n;
  }

  void start_exchange() {
    if (x_.start == Clock::time_point{}) x_.start = Clock::now();
    x_.wall =
        std::chrono::system_clock::now() -
        std::chrono::duration_cast<std::chrono::system_clock::duration>(Clock::now() - x_.start);
    if (x_.request_id.empty()) http::generate_request_id(w_.random(), x_.request_id);
  }

  asio::awaitable<void> reject_head(const http::ParseFailure& f) {
    start_exchange();
    x_.bytes_in += in_.view().size();  // what was read of the refused head
    // For the access log: what of the request line was understood before the refusal.
    const auto& head = parser_.head();
    x_.method.assign(head.method);
    std::string_view query;
    if (!head.target.empty() &&
        http::normalize_target(head.target, x_.path, query) != http::PathError::none)
      x_.path.clear();
    co_await local_reply(f.status, reject_from(f.reason), f.detail, true);
  }

  static Reject reject_from(std::string_view reason) {
    static constexpr std::pair<std::string_view, Reject> kMap[] = {
        {"header_too_large", Reject::header_too_large},
        {"too_many_headers", Reject::too_many_headers},
        {"body_too_large", Reject::body_too_large},
        {"unsupported_transfer_coding", Reject::unsupported_transfer_coding},
        {"upstream_bad_response", Reject::upstream_bad_response},
        {"upstream_reset", Reject::upstream_reset},
    };
    for (const auto& [name, r] : kMap)
      if (name == reason) return r;
    return Reject::bad_request;
  }

  // ---- one request ------------------------------------------------------------------------------

  asio::awaitable<void> handle() {
    if (x_.start == Clock::time_point{}) x_.start = Clock::now();
    // The head's views stay valid until the next read into in_; everything that needs them
    // (routing, the upstream request head) runs before any body read.
    in_.consume(head_size_);
    head_size_ = 0;
    const auto& head = parser_.head();
    x_.method.assign(head.method);
    x_.head_request = head.method == "HEAD";
    if (auto id = head.fields.find("x-request-id"); id && http::valid_request_id(*id))
      x_.request_id.assign(*id);
    start_exchange();
    x_.close = !head.keep_alive || close_after_ || w_.draining();

    std::string_view detail = prepare_target(head);
    if (!detail.empty()) co_return co_await local_reply(400, Reject::bad_request, detail, true);

    const Runtime& rt = w_.runtime();
    x_.route = rt.table->match({head.method, x_.host, x_.path, &head.fields});
    if (x_.route < 0)
      co_return co_await local_reply(404, Reject::no_route, "no route matches the request",
                                     head.body != http::BodyKind::none);

    const RouteRuntime& route = rt.routes[static_cast<size_t>(x_.route)];
    if (head.body == http::BodyKind::length && head.content_length > route.max_body_bytes)
      co_return co_await local_reply(413, Reject::body_too_large, "request body too large", true);
    parser_.set_body_limit(route.max_body_bytes);

    if (route.cfg->direct_response) co_return co_await direct(route);
    if (route.cfg->redirect) co_return co_await redirect(route);
    co_await proxy(route);
  }

  // Fills x_.path, x_.query and x_.host from the target and Host; a non-empty detail on error.
  std::string_view prepare_target(const http::RequestHead& head) {
    std::string_view target = head.target;
    std::string_view authority = head.host;
    if (target.size() > 7 &&
        (target.substr(0, 7) == "http://" || target.substr(0, 8) == "https://")) {
      // absolute-form (RFC 9112 3.2.2): the target's authority replaces Host
      size_t scheme_end = target.find("://") + 3;
      size_t path_start = target.find_first_of("/?", scheme_end);
      authority = target.substr(scheme_end, path_start - scheme_end);
      if (authority.empty()) return "invalid request target";  // RFC 9110 4.2.1: no empty host
      x_.target_authority.assign(authority);
      target =
          path_start == std::string_view::npos ? std::string_view("/") : target.substr(path_start);
      if (!target.empty() && target.front() == '?') return "invalid request target";
    }
    std::string_view query;
    if (http::normalize_target(target, x_.path, query) != http::PathError::none) {
      x_.path.clear();  // the access log shows no path rather than a part of one
      return "invalid request target";
    }
    x_.query.assign(query);
    x_.has_query = target.find('?') != std::string_view::npos;
    if (!host_for_routing(authority, x_.host)) return "invalid Host";
    return {};
  }

  asio::awaitable<void> direct(const RouteRuntime& route) {
    const auto& d = *route.cfg->direct_response;
    if (!co_await settle_body(route)) co_return;
    x_.status = d.status;
    x_.close = x_.close || close_after_;
    extra_.assign(keep_alive_field());
    extra_.append(route.response_edit.append);
    out_.clear();
    http::append_simple(out_, d.status, d.content_type, d.body, extra_, x_.request_id, x_.close,
                        x_.head_request);
    co_await write_client(out_);
    complete();
  }

  asio::awaitable<void> redirect(const RouteRuntime& route) {
    const auto& r = *route.cfg->redirect;
    if (!co_await settle_body(route)) co_return;
    x_.status = r.status;
    x_.close = x_.close || close_after_;
    extra_.assign("Location: ");
    extra_.append(r.location);
    if (r.keep_query && x_.has_query && !x_.query.empty()) {
      extra_.push_back(r.location.find('?') == std::string::npos ? '?' : '&');  // its own query
      extra_.append(x_.query);
    }
    extra_.append("\r\n");
    extra_.append(keep_alive_field());
    extra_.append(route.response_edit.append);
    out_.clear();
    http::append_simple(out_, r.status, "", "", extra_, x_.request_id, x_.close, x_.head_request);
    co_await write_client(out_);
    complete();
  }

  // An HTTP/1.0 client that asked for keep-alive keeps its connection only when the response
  // says so (RFC 9112 9.3); HTTP/1.1 persists by default.
  std::string_view keep_alive_field() const {
    return !x_.close && parser_.head().version == 10 ? "Connection: keep-alive\r\n" : "";
  }

  // A local reply with a problem body; `close` when the request body will not be read. An
  // HTTP/1.0 client's connection closes after it.
  asio::awaitable<void> local_reply(int status, Reject reason, std::string_view detail,
                                    bool close) {
    x_.status = status;
    x_.reject = reason;
    x_.close = x_.close || close || close_after_ || parser_.head().version == 10;
    out_.clear();
    http::append_problem(out_, status, detail, x_.request_id, x_.close, x_.head_request);
    co_await write_client(out_);
    complete();
  }

  // Before a local answer: reads and drops the request body, unless the client waits for
  // "100 Continue" before sending it; then the answer goes out at once instead (RFC 9110
  // 10.1.1) and the connection closes after it. The route's timeout bounds the whole body, as
  // it does for a proxied one, so a trickle cannot hold the connection. False if the body
  // failed (it was answered).
  asio::awaitable<bool> settle_body(const RouteRuntime& route) {
    const auto& head = parser_.head();
    if (head.expect_continue && head.body != http::BodyKind::none && in_.empty()) {
      x_.close = true;
      co_return true;
    }
    co_return co_await discard_body(Clock::now() + route.cfg->timeout);
  }

  // Reads and drops a request body small enough to keep the connection, by `limit`; false if
  // it failed (the reply was sent).
  asio::awaitable<bool> discard_body(Clock::time_point limit) {
    if (parser_.head().body == http::BodyKind::none) co_return true;
    std::string sink;
    for (;;) {
      auto r = parser_.parse_body(in_.view(), sink);
      sink.clear();
      in_.consume(r.consumed);
      x_.bytes_in += r.consumed;
      if (r.failed) {
        co_await local_reply(r.failure.status, reject_from(r.failure.reason), r.failure.detail,
                             true);
        co_return false;
      }
      if (r.done) co_return true;
      if (!co_await read_client(limit)) {
        const Failure& f = aborted_     ? failure::draining
                           : timed_out_ ? failure::client_timeout
                                        : failure::client_gone;
        if (timed_out_ || aborted_) {
          co_await local_reply(f.status, f.reason, f.detail, true);
        } else {
          x_.reject = f.reason;  // client_closed: complete() logs 499, nothing was answered
          x_.close = true;
          complete();
        }
        co_return false;
      }
    }
  }

  // Closing a socket with unread bytes makes the kernel send a reset, and a client still
  // sending its body may then lose the reply it was sent (a 413, an upstream's early answer).
  // So the rest of what it sends is read and dropped, for a bounded time, until it closes.
  asio::awaitable<void> linger() {
    constexpr auto kLinger = std::chrono::seconds(2);
    arm(kLinger);
    in_.consume(in_.view().size());
    for (;;) {
      auto space = in_.space(kReadChunk);  // read into, never committed
      auto [ec, n] =
          co_await socket_.async_read_some(asio::buffer(space.data(), space.size()), kAwait);
      if (ec || n == 0) break;
      w_.metrics().bytes_received.inc(n);
    }
  }

  // Reads more request bytes under the read deadline, or `limit` if that comes first (the
  // route's timeout bounds a body upload too). False on EOF, error or timeout (x_ says which;
  // nothing has been answered).
  asio::awaitable<bool> read_client(Clock::time_point limit = Clock::time_point::max()) {
    arm_until(std::min(limit, Clock::now() + w_.runtime().cfg->limits.read_timeout));
    auto space = in_.space(kReadChunk);
    auto [ec, n] =
        co_await socket_.async_read_some(asio::buffer(space.data(), space.size()), kAwait);
    if (ec || n == 0) {
      if (timed_out_) x_.reject = Reject::read_timeout;
      co_return false;
    }
    in_.commit(n);
    w_.metrics().bytes_received.inc(n);
    co_return true;
  }

  asio::awaitable<bool> write_client(std::string_view data) {
    arm(w_.runtime().cfg->limits.read_timeout);
    auto [ec, n] = co_await asio::async_write(socket_, asio::buffer(data), kAwait);
    x_.bytes_out += n;
    w_.metrics().bytes_sent.inc(n);
    if (ec) {
      x_.close = true;
      if (!x_.reject) x_.reject = timed_out_ ? Reject::read_timeout : Reject::client_closed;
    }
    co_return !ec;
  }

  // ---- proxying ---------------------------------------------------------------------------------

  asio::awaitable<void> proxy(const RouteRuntime& route) {
    client_left_ = false;
    response_started_ = false;  // a connect can fail before exchange() would reset it
    const auto& split = w_.runtime().table->split(x_.route);
    size_t target = 0;
    if (split.size() > 1)
      target = split.pick(static_cast<uint32_t>(w_.random().next() % split.total()));
    size_t u = route.target_upstream[target];
    auto& cluster = w_.cluster(u);
    x_.slot = observe::target_slot(target);
    x_.upstream = cluster.name();

    auto ep = cluster.pick(w_.random().next());
    if (!ep) co_return co_await fail_before_response(failure::no_endpoint);
    x_.endpoint = ep->ep.resolved;

    build_upstream_head(route, ep->ep.configured);
    const auto& head = parser_.head();
    if (head.expect_continue && head.body != http::BodyKind::none && in_.empty()) {
      if (!co_await write_client("HTTP/1.1 100 Continue\r\n\r\n")) {
        x_.status = 499;  // the client left before sending its body
        co_return complete();
      }
    }

    auto deadline = Clock::now() + route.cfg->timeout;
    auto upstream_start = Clock::now();
    ep->active++;
    std::unique_ptr<upstream::Connection> conn;
    std::optional<Failure> failed;
    // A second attempt only when a pooled connection turns out closed before anything was
    // answered and the request can be sent again whole (the retry's connection is fresh).
    for (int attempt = 0; attempt < 2; ++attempt) {
      using Reuse = upstream::Cluster::Reuse;
      auto reuse = attempt > 0 ? Reuse::fresh : Reuse::pooled;
      conn = co_await connect(cluster, ep, reuse, deadline);
      if (!conn || aborted_) {
        failed = aborted_                   ? failure::draining
                 : Clock::now() >= deadline ? failure::timeout
                                            : failure::connect_failed;
        break;
      }
      upstream_ = conn.get();
      failed = co_await exchange(route, *conn, deadline);
      upstream_ = nullptr;
      if (failed && aborted_) failed = failure::draining;
      if (!failed || !failed->retryable || !conn->reused) break;
      cluster.release(std::move(conn), false);
    }
    ep->active--;
    x_.upstream_us = static_cast<int64_t>(micros_since(upstream_start));
    w_.metrics().upstream(u).upstream_duration.observe_us(static_cast<uint64_t>(x_.upstream_us));
    if (conn) cluster.release(std::move(conn), !failed && reusable_);

    if (!failed) co_return complete();
    if (client_left_ || (failed->reason == Reject::client_closed && !response_started_)) {
      // Nobody to answer: logged as nginx does, with 499.
      x_.status = 499;
      x_.reject = failed->reason;
      x_.close = true;
      co_return complete();
    }
    if (response_started_) {
      x_.reject = failed->reason;  // the status stays the upstream's; the client sees a cut
      x_.close = true;
      co_return complete();
    }
    co_await fail_before_response(*failed);
  }

  // A connection to `ep`, or, when connecting fails, to another endpoint of the cluster:
  // nothing was sent, so moving on is always safe. At most kConnectTries endpoints are tried;
  // `ep` ends as the one connected to (or the last tried), its `active` count moved with it.
  // No attempt runs past the route's `deadline`.
  asio::awaitable<std::unique_ptr<upstream::Connection>> connect(
      upstream::Cluster& cluster, std::shared_ptr<upstream::EndpointState>& ep,
      upstream::Cluster::Reuse reuse, Clock::time_point deadline) {
    constexpr int kConnectTries = 3;
    for (int tried = 1;; ++tried) {
      auto acquired = co_await cluster.acquire(ep, reuse, &connecting_, deadline);
      if (acquired.conn) co_return std::move(acquired.conn);
      if (tried >= kConnectTries || aborted_ || Clock::now() >= deadline) co_return nullptr;
      auto next = pick_other(cluster, *ep);
      if (!next) co_return nullptr;
      ep->active--;
      next->active++;
      ep = std::move(next);
      x_.endpoint = ep->ep.resolved;
    }
  }

  // An endpoint other than `not_this`, or nullptr when the balancer keeps choosing it (a
  // cluster of one, or bad luck a few times in a row).
  std::shared_ptr<upstream::EndpointState> pick_other(upstream::Cluster& cluster,
                                                      const upstream::EndpointState& not_this) {
    for (int i = 0; i < 4; ++i) {
      auto e = cluster.pick(w_.random().next());
      if (e && e.get() != &not_this) return e;
    }
    return nullptr;
  }

  // Answers `f` when nothing of a response was sent; closes when the request body is unread.
  asio::awaitable<void> fail_before_response(const Failure& f) {
    co_await local_reply(f.status, f.reason, f.detail, !parser_.body_done());
  }

  // `endpoint_name` is the Host of a request that carried none (HTTP/1.0), as the endpoint is
  // written in the config: an HTTP/1.1 request upstream must have one.
  void build_upstream_head(const RouteRuntime& route, std::string_view endpoint_name) {
    up_out_.clear();
    std::string_view path = x_.path;
    const auto& rewrite = route.cfg->rewrite_prefix;
    const auto& prefix = route.cfg->match.path_prefix;
    if (rewrite && prefix) {
      x_.upstream_target.clear();
      append_rewritten_path(x_.upstream_target, x_.path, *prefix, *rewrite);
      path = x_.upstream_target;
    }
    append_upstream_request(up_out_, parser_.head(),
                            {.path = path,
                             .query = x_.query,
                             .has_query = x_.has_query,
                             .client_ip = client_ip_,
                             .request_id = x_.request_id,
                             .routed_host = x_.host.empty() ? endpoint_name : x_.host,
                             .target_authority = x_.target_authority,
                             .edit = &route.request_edit});
  }

  // One attempt on one upstream connection: the request out, the response back to the client.
  asio::awaitable<std::optional<Failure>> exchange(const RouteRuntime& route,
                                                   upstream::Connection& conn,
                                                   Clock::time_point deadline) {
    response_started_ = false;
    reusable_ = false;
    size_t head_bytes = 0;
    if (auto f = co_await send_request(conn, deadline)) {
      // An upstream may answer before it has read the whole body (413, 401, ...) and close;
      // that answer is the client's, not a 502. What it did not read stays unread.
      if (f->reason != observe::Reject::upstream_reset || f->retryable || timed_out_) co_return f;
      if (co_await read_response_head(conn, deadline, head_bytes)) co_return f;
      x_.close = true;
      auto forwarded = co_await forward_response(route, conn, head_bytes, deadline);
      reusable_ = false;
      co_return forwarded;
    }

    awaiting_upstream_ = true;
    auto failed = co_await read_response_head(conn, deadline, head_bytes);
    awaiting_upstream_ = false;
    if (failed) co_return client_left_ ? failure::client_left : *failed;
    co_return co_await forward_response(route, conn, head_bytes, deadline);
  }

  // The request head with whatever body is buffered in one write, then the rest of the body as
  // it arrives: one read buffer at a time, so the client is only read as fast as the upstream
  // takes it.
  asio::awaitable<std::optional<Failure>> send_request(upstream::Connection& conn,
                                                       Clock::time_point deadline) {
    const bool replayable = parser_.head().body == http::BodyKind::none;
    out_.assign(up_out_);
    if (auto f = pump_request_body(out_)) co_return f;
    if (!co_await write_upstream(conn, out_, deadline)) {
      if (conn.reused && replayable && !timed_out_) co_return failure::stale;
      co_return upstream_error();
    }
    while (!parser_.body_done()) {
      out_.clear();
      if (!co_await read_client(deadline)) {
        x_.close = true;
        co_return timed_out_ ? failure::client_timeout : failure::client_gone;
      }
      if (auto f = pump_request_body(out_)) co_return f;
      if (!co_await write_upstream(conn, out_, deadline)) co_return upstream_error();
    }
    co_return std::nullopt;
  }

  // Reads the final response head into conn.rbuf, skipping 1xx interim responses (the gateway
  // answers Expect itself). `head_bytes` is the head's size at the front of conn.rbuf.
  asio::awaitable<std::optional<Failure>> read_response_head(upstream::Connection& conn,
                                                             Clock::time_point deadline,
                                                             size_t& head_bytes) {
    const bool replayable = parser_.head().body == http::BodyKind::none;
    bool got_bytes = false;
    for (;;) {
      response_parser_.start(x_.head_request);
      http::HeadResult hr;
      while ((hr = conn.rbuf.empty() ? http::HeadResult{}
                                     : response_parser_.parse_head(conn.rbuf.view()))
                 .state == http::HeadState::need_more) {
        if (co_await read_upstream(conn, deadline) == 0) {
          if (!got_bytes && conn.reused && replayable && !timed_out_) co_return failure::stale;
          co_return upstream_error();
        }
        got_bytes = true;
      }
      int status = response_parser_.head().status;
      if (hr.state == http::HeadState::failed || status == 101) co_return failure::bad_response;
      if (status >= 200) {
        head_bytes = hr.consumed;
        co_return std::nullopt;
      }
      conn.rbuf.consume(hr.consumed);
    }
  }

  Failure upstream_error() const { return timed_out_ ? failure::timeout : failure::reset; }

  // Moves buffered request body bytes through the parser into `out`; a failure when the body
  // is malformed or too large.
  std::optional<Failure> pump_request_body(std::string& out) {
    auto r = parser_.parse_body(in_.view(), out);
    in_.consume(r.consumed);
    x_.bytes_in += r.consumed;
    if (!r.failed) return std::nullopt;
    x_.close = true;
    return Failure{reject_from(r.failure.reason), Side::downstream, r.failure.status, false,
                   r.failure.detail};
  }

  asio::awaitable<bool> write_upstream(upstream::Connection& conn, std::string_view data,
                                       Clock::time_point deadline) {
    if (data.empty()) co_return true;
    arm_until(deadline);
    auto [ec, n] = co_await asio::async_write(conn.socket, asio::buffer(data), kAwait);
    co_return !ec;
  }

  // Bytes read into conn.rbuf; 0 on EOF, error or the deadline.
  asio::awaitable<size_t> read_upstream(upstream::Connection& conn, Clock::time_point deadline) {
    arm_until(deadline);
    auto space = conn.rbuf.space(kReadChunk);
    auto [ec, n] =
        co_await conn.socket.async_read_some(asio::buffer(space.data(), space.size()), kAwait);
    if (ec) co_return 0;
    conn.rbuf.commit(n);
    co_return n;
  }

  void arm_until(Clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    arm(left.count() > 0 ? left : std::chrono::milliseconds(0));
  }

  // The client head, then the body: what is buffered goes out with the head; then read,
  // re-frame, write, until the upstream's framing says the response is complete.
  asio::awaitable<std::optional<Failure>> forward_response(const RouteRuntime& route,
                                                           upstream::Connection& conn,
                                                           size_t head_bytes,
                                                           Clock::time_point deadline) {
    const auto& rh = response_parser_.head();
    x_.status = rh.status;
    out_.clear();
    ClientResponse info{.request_id = x_.request_id,
                        .edit = &route.response_edit,
                        .head_request = x_.head_request,
                        .client_version = parser_.head().version,
                        .close = x_.close || close_after_};  // a drain began meanwhile
    bool chunked_out = append_client_response(out_, rh, info);
    x_.close = info.close;
    conn.rbuf.consume(head_bytes);
    response_started_ = true;

    bool sent = false;  // out_ still holds the client head until the first write
    for (;;) {
      auto r = response_parser_.parse_body(conn.rbuf.view(), out_, chunked_out);
      conn.rbuf.consume(r.consumed);
      if (r.failed) {
        // Malformed framing before anything reached the client: it can still have a 502.
        response_started_ = sent;
        if (sent) co_await write_client(out_);
        co_return failure::bad_response;
      }
      if (r.done) break;
      if (!out_.empty()) {
        if (!co_await write_client(out_)) co_return client_write_failed();
        out_.clear();
        sent = true;
      }
      if (co_await read_upstream(conn, deadline) == 0) {
        if (!timed_out_ && rh.body == http::BodyKind::until_close) {
          response_parser_.finish_at_eof(out_, chunked_out);
          break;
        }
        const Failure f = upstream_error();  // before write_client re-arms the deadline
        co_await write_client(out_);
        co_return f;
      }
    }
    if (!co_await write_client(out_)) co_return client_write_failed();
    reusable_ = rh.keep_alive && response_parser_.body_done() && conn.rbuf.empty();
    co_return std::nullopt;
  }

  // The client stopped reading (gone, or slower than the read timeout allows).
  Failure client_write_failed() const {
    return {timed_out_ ? Reject::read_timeout : Reject::client_closed, Side::downstream, 0, false,
            ""};
  }

  // ---- completion -------------------------------------------------------------------------------

  // Metrics and the access log line for the finished exchange.
  void complete() {
    // The client left before a byte of the answer reached it: 499, whatever was to be sent.
    if (x_.reject == Reject::client_closed && x_.bytes_out == 0) x_.status = 499;
    uint64_t us = micros_since(x_.start);
    auto& m = w_.metrics();
    size_t route_slot = x_.route >= 0 ? static_cast<size_t>(x_.route) : w_.runtime().routes.size();
    auto& rs = m.route(route_slot);
    rs.count(x_.slot, x_.status);
    rs.duration.observe_us(us);
    if (x_.reject) m.rejected(*x_.reject).inc();

    if (auto* log = w_.access_log()) {
      observe::AccessRecord rec;
      rec.time = x_.wall;
      rec.request_id = x_.request_id;
      rec.client = client_;
      rec.method = x_.method;
      rec.path = x_.path;
      rec.route =
          x_.route >= 0
              ? std::string_view(w_.runtime().routes[static_cast<size_t>(x_.route)].cfg->name)
              : std::string_view();
      rec.upstream = x_.upstream;
      rec.endpoint = x_.endpoint;
      rec.reason = x_.reject ? observe::reject_name(*x_.reject) : std::string_view();
      rec.status = x_.status;
      rec.bytes_in = x_.bytes_in;
      rec.bytes_out = x_.bytes_out;
      rec.duration_us = us;
      rec.upstream_us = x_.upstream_us;
      log->write(w_.index(), rec);
    }
    x_.start = {};
  }

  Worker& w_;
  tcp::socket socket_;
  asio::steady_timer watchdog_;
  Clock::time_point deadline_ = Clock::time_point::max();
  Clock::time_point armed_ = Clock::time_point::max();
  bool timed_out_ = false;
  bool closed_ = false, run_done_ = false, watch_done_ = false;
  bool idle_ = false, close_after_ = false;
  bool aborted_ = false;                        // the drain timed out: end the request under way
  upstream::Connection* connecting_ = nullptr;  // a connect under way (Cluster::acquire)
  bool awaiting_upstream_ = false;              // the request is sent; the response head is awaited
  bool client_left_ = false;                    // the client closed while the upstream worked
  bool head_seen_ = false;  // the current request's head was parsed (its body may be unread)
  bool response_started_ = false, reusable_ = false;
  std::list<std::unique_ptr<Connection>>::iterator self_;
  std::string client_, client_ip_;
  std::string extra_;  // extra header lines of a direct response or redirect
  http::ReadBuffer in_;
  http::RequestParser parser_;
  http::ResponseParser response_parser_;
  size_t head_size_ = 0;
  Exchange x_;
  std::string out_, up_out_;
  upstream::Connection* upstream_ = nullptr;
};

}  // namespace

void Connection::start(Worker& worker, tcp::socket socket) {
  auto owned = std::make_unique<ConnectionImpl>(worker, std::move(socket));
  auto* c = owned.get();
  c->begin(worker.track(std::move(owned)));
}

}  // namespace basalt::gateway
