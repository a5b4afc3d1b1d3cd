// The admin listener: a small HTTP/1.1 server on its own thread, loopback by default, for
// operators and orchestrators. It never runs on a worker, so a slow scrape cannot delay traffic.
//
//   GET /live       200 while the process runs
//   GET /ready      200 when serving, 503 while starting or draining
//   GET /metrics    Prometheus text format
//   GET /config     the active config as JSON, ${...} values redacted
//   GET /upstreams  endpoints and their state, JSON
//
// With admin.token set (required off loopback), every endpoint but /live and /ready answers
// 401 unless the request carries "Authorization: Bearer <token>".
//
//   admin::Hooks hooks{.ready = [&] { return ready.load(); }, .metrics = ..., ...};
//   std::string err;
//   auto admin = admin::Server::start(cfg.admin, std::move(hooks), &err);
//   log("listening", admin->address());
//   ...
//   admin->stop();
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "config/model.h"

namespace basalt::admin {

// Each hook is called on the admin thread.
struct Hooks {
  std::function<bool()> ready;
  std::function<std::string()> metrics;    // Prometheus exposition text
  std::function<std::string()> config;     // JSON
  std::function<std::string()> upstreams;  // JSON
};

class Server {
 public:
  // Binds the admin address and starts serving on a new thread; nullptr and *error on failure.
  static std::unique_ptr<Server> start(const config::AdminConfig& cfg, Hooks hooks,
                                       std::string* error);
  virtual ~Server() = default;

  // "127.0.0.1:9901" with the real port.
  virtual std::string address() const = 0;

  // Stops accepting, ends open admin connections and joins the thread.
  virtual void stop() = 0;
};

}  // namespace basalt::admin
