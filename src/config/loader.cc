#include "config/loader.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <tuple>

#include "config/address.h"
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

// True for "localhost" and loopback literals; a DNS name cannot be known to be loopback.
bool is_loopback(const std::string& host) {
  if (host == "localhost") return true;
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, host.c_str(), &v6) == 1) return IN6_IS_ADDR_LOOPBACK(&v6);
  return false;
}

// Secure by default: the admin listener shows the config and upstreams and will grow controls,
// so off loopback it must be protected by a token.
void check_admin_exposure(Reader& r, const Config& cfg) {
  const auto& a = cfg.admin;
  if (!a.enabled || !a.token.empty() || is_loopback(a.address.host)) return;
  const SourcePos& pos = a.address_pos.line ? a.address_pos : a.pos;
  r.error(pos, "admin address '" + format_host_port(a.address) +
                   "' is not loopback: set admin.token (for example \"${BASALT_ADMIN_TOKEN}\") "
                   "or bind it to 127.0.0.1");
}

// Two sockets of one config on one address would share it (listeners use SO_REUSEPORT) or
// fail at start; either way it is a mistake, so it is named here. Port 0 is always fresh.
void check_address_clashes(Reader& r, const Config& cfg) {
  std::map<std::string, std::string, std::less<>> seen;  // "host:port" -> who holds it
  auto note = [&](const HostPort& a, const SourcePos& pos, const std::string& who) {
    if (a.port == 0 || pos.line == 0) return;
    std::string key = format_host_port(a);
    auto [it, fresh] = seen.emplace(key, who);
    if (!fresh)
      r.error(pos, "address '" + key + "' of " + who + " is already used by " + it->second);
  };
  for (const auto& l : cfg.listeners) note(l.address, l.address_pos, "listener '" + l.name + "'");
  if (cfg.admin.enabled) note(cfg.admin.address, cfg.admin.address_pos, "the admin listener");
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
  check_admin_exposure(reader, *cfg);
  check_address_clashes(reader, *cfg);

  // Publish only a clean config.
  for (auto& e : reader.take_errors()) result.errors.push_back(std::move(e));
  sort_and_dedupe(result.errors);
  if (!result.errors.empty()) return result;
  nlohmann::json shown = to_json(doc.root, /*redact=*/true);
  if (auto admin = shown.find("admin"); admin != shown.end() && admin->is_object())
    if (auto token = admin->find("token"); token != admin->end()) *token = "<redacted>";
  cfg->redacted_json = shown.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
  result.config = std::move(cfg);
  return result;
}

}  // namespace basalt::config
