// Helpers shared by the config unit tests: the repo root, and loading YAML text to a list
// of formatted diagnostics so a test can assert exact "file:line:column: message" lines.
//
//   EXPECT_EQ(test::errors("listeners: 5\n"),
//             (std::vector<std::string>{"t.yaml:1:12: 'listeners' must be a list, ..."}));
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "config/loader.h"

namespace basalt::config::test {

// The repository root: $BASALT_SOURCE_DIR (set by ctest), else found from this file's path.
inline std::filesystem::path source_dir() {
  if (const char* dir = std::getenv("BASALT_SOURCE_DIR")) return dir;
  return std::filesystem::path(__FILE__).parent_path().parent_path().parent_path().parent_path();
}

// Every diagnostic of loading `yaml` as "t.yaml", formatted.
inline std::vector<std::string> errors(std::string_view yaml) {
  std::vector<std::string> out;
  for (const auto& e : load_string(yaml, "t.yaml").errors) out.push_back(e.format());
  return out;
}

// A valid prefix for tests about routes: the route list starts on line 7.
inline constexpr std::string_view kBase =
    "listeners:\n"                                      // 1
    "  - { name: l, address: 127.0.0.1:0 }\n"           // 2
    "upstreams:\n"                                      // 3
    "  - name: u\n"                                     // 4
    "    endpoints: [ { address: 127.0.0.1:9001 } ]\n"  // 5
    "routes:\n";                                        // 6

inline std::vector<std::string> route_errors(std::string_view routes) {
  return errors(std::string(kBase) + std::string(routes));
}

}  // namespace basalt::config::test
