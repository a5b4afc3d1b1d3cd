#include "config/loader.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <set>
#include <tuple>

#include "config/decode.h"
#include "config/document.h"
#include "config/reader.h"

namespace basalt::config {
namespace {

// Routes may only name upstreams that exist; sections can come in any order, so this runs
// after everything is decoded.
void check_upstream_refs(Reader& r, const Config& cfg) {
  std::set<std::string, std::less<>> known;
  for (const auto& u : cfg.upstreams) known.insert(u.name);
  for (const auto& route : cfg.routes) {
    for (const auto& target : route.split) {
      if (target.upstream.empty() || known.count(target.upstream)) continue;
      r.error(target.pos,
              "route '" + route.name + "' refers to unknown upstream '" + target.upstream + "'");
    }
  }
}

// File order; an aliased value can report the same problem twice, which says nothing new.
void sort_and_dedupe(std::vector<Diagnostic>& errors) {
  auto key = [](const Diagnostic& d) { return std::tie(d.pos.line, d.pos.column); };
  std::stable_sort(errors.begin(), errors.end(),
                   [&](const Diagnostic& a, const Diagnostic& b) { return key(a) < key(b); });
  auto same = [&](const Diagnostic& a, const Diagnostic& b) {
    return key(a) == key(b) && a.message == b.message;
  };
  errors.erase(std::unique(errors.begin(), errors.end(), same), errors.end());
}

LoadResult failed(const std::string& path, std::string why) {
  LoadResult result;
  result.errors.push_back(Diagnostic{SourcePos{path, 0, 0}, std::move(why)});
  return result;
}

}  // namespace

LoadResult load_file(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return failed(path, "cannot read: is a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) return failed(path, std::string("cannot open: ") + std::strerror(errno));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return failed(path, std::string("cannot read: ") + std::strerror(errno));
  return load_string(text, path);
}

LoadResult load_string(std::string_view yaml, const std::string& file_name) {
  // Parse (syntax errors end it here), then decode every section and cross-check.
  LoadResult result;
  Document doc = parse_document(yaml, file_name, Expand::env);
  result.errors = std::move(doc.errors);
  if (!doc.parsed) return result;

  auto cfg = std::make_shared<Config>();
  cfg->file = file_name;
  Reader reader(yaml);
  decode_config(reader, doc.root, *cfg);
  check_upstream_refs(reader, *cfg);

  // Publish only a clean config.
  for (auto& e : reader.take_errors()) result.errors.push_back(std::move(e));
  sort_and_dedupe(result.errors);
  if (!result.errors.empty()) return result;
  cfg->redacted_json = to_json(doc.root, /*redact=*/true).dump(2);
  result.config = std::move(cfg);
  return result;
}

}  // namespace basalt::config
