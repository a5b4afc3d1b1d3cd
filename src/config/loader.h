// Loading a basalt YAML config file into the typed model (model.h), with every problem
// reported as "file:line:column: message" rather than stopping at the first.
//
// The format is documented in docs/config.md and described by docs/config.schema.json.
// Loading never throws: unreadable files, YAML syntax errors, unknown keys, bad values,
// unset ${VARS} and cross-reference errors all come back as diagnostics.
//
//   config::LoadResult r = config::load_file("/etc/basalt/gateway.yaml");
//   if (!r.ok()) {
//     for (const auto& e : r.errors) std::cerr << e.format() << '\n';
//     return 1;   // keep running the previous snapshot on reload
//   }
//   std::shared_ptr<const config::Config> snapshot = r.config;
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/model.h"
#include "config/units.h"  // parse_duration, parse_size are part of this API

namespace basalt::config {

struct LoadResult {
  std::shared_ptr<const Config> config;  // set only when errors is empty
  std::vector<Diagnostic> errors;        // every problem found, in file order
  bool ok() const { return errors.empty(); }
};

// Reads and loads `path`; a file that cannot be read is one diagnostic naming `path`.
LoadResult load_file(const std::string& path);

// Loads YAML text; `file_name` is what diagnostics and Config::file call it.
// ${VAR} references are expanded from the process environment.
LoadResult load_string(std::string_view yaml, const std::string& file_name);

}  // namespace basalt::config
