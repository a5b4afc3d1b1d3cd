// Section decoders: the YAML format's keys, one table per kind of object.
//
// Internal to the loader (loader.cc calls decode_config). Each decoder fills defaults from
// model.h, reads every key it knows in file order and reports the rest; checks that span
// sections (a route naming an upstream) run afterwards in the loader.
//
//   Reader reader(source);
//   Config cfg;
//   decode_config(reader, document.root, cfg);
//   std::vector<Diagnostic> errors = reader.take_errors();
#pragma once

#include <vector>

#include "config/document.h"
#include "config/model.h"
#include "config/reader.h"

namespace basalt::config {

// The whole file: top-level keys, listeners, admin, logs and limits (decode_server.cc).
void decode_config(Reader& r, const Value& root, Config& out);

// The `upstreams:` list (decode_upstream.cc).
void decode_upstreams(Reader& r, const Value& list, std::vector<UpstreamConfig>& out);

// The `routes:` list, with per-route checks (decode_route.cc).
void decode_routes(Reader& r, const Value& list, std::vector<RouteConfig>& out);

}  // namespace basalt::config
