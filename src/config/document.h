// A parsed YAML config file as a small tree that remembers where each value was written.
//
// This is the layer between yaml-cpp and the typed model: it turns yaml-cpp's nodes into
// plain structs carrying 1-based positions, expands ${...} references in scalar values,
// reports YAML syntax errors and duplicate keys, and converts the tree to JSON (for the
// admin /config view, with references redacted, and for JSON Schema checks).
//
//   config::Document doc = config::parse_document(text, "gw.yaml", config::Expand::env);
//   for (const auto& e : doc.errors) std::cerr << e.format() << '\n';
//   if (doc.parsed) std::cout << config::to_json(doc.root, /*redact=*/true).dump(2);
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "config/model.h"
#include "config/substitute.h"

namespace basalt::config {

struct Entry;

struct Value {
  enum class Kind { null, scalar, sequence, map };

  Kind kind = Kind::null;
  SourcePos pos;  // for a null map value, the position of its key
  // Scalars only.
  std::string text;            // after ${...} expansion (as written under Expand::keep)
  bool quoted = false;         // quoted, block or !!str: a string, never a number/bool/null
  bool has_reference = false;  // contained ${...}: shown as "<redacted>"
  bool invalid = false;        // expansion failed and was reported; skip without new errors
  std::vector<Value> items;    // sequences, in file order
  std::vector<Entry> entries;  // maps, in file order

  bool is_map() const { return kind == Kind::map; }
  bool is_sequence() const { return kind == Kind::sequence; }
  bool is_scalar() const { return kind == Kind::scalar; }
  bool is_null() const { return kind == Kind::null; }
};

struct Entry {
  std::string key;  // keys are taken literally: no ${...} expansion
  SourcePos key_pos;
  Value value;
};

enum class Expand {
  env,   // replace ${...} in scalar values using the lookup; failures become diagnostics
  keep,  // leave values as written (offline checks where the environment is not the target's)
};

struct Document {
  Value root;                      // null for an empty file
  std::vector<Diagnostic> errors;  // syntax error, duplicate keys, failed expansions
  bool parsed = false;             // false after a YAML syntax error: `root` is then empty
};

// Parses the first YAML document in `yaml`. `file` names the source in positions.
// Never throws: a syntax error becomes one diagnostic at yaml-cpp's mark.
Document parse_document(std::string_view yaml, const std::string& file, Expand mode,
                        const EnvLookup& lookup = getenv_lookup);

// The tree as JSON. Plain scalars are typed by YAML 1.2 core rules (null, true/false,
// integers, floats, else string); quoted scalars stay strings. With `redact`, every scalar
// that had a ${...} reference becomes the string "<redacted>".
nlohmann::json to_json(const Value& value, bool redact);

}  // namespace basalt::config
