// Runs the gateway for one loaded config until SIGTERM or SIGINT.
//
// Start: access log, workers (one per core by default) each with its own acceptor per listener,
// DNS resolution of upstream endpoints, the admin listener; then /ready turns true.
// Stop (SIGTERM/SIGINT): /ready turns false, listeners close, idle keep-alive connections close,
// in-flight requests finish within limits.drain_timeout, then the process exits 0.
//
//   auto loaded = config::load_file(path);
//   if (loaded.ok()) return gateway::run_server(loaded.config);
#pragma once

#include <memory>

#include "config/model.h"

namespace basalt::gateway {

// Returns the process exit code: 0 after a clean drain, 1 when startup failed (logged).
int run_server(std::shared_ptr<const config::Config> cfg);

}  // namespace basalt::gateway
