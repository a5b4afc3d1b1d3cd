// Top-level keys and the server-wide sections: workers, listeners, admin, logs, limits.
#include <array>
#include <string>
#include <utility>

#include "config/decode.h"

namespace basalt::config {
namespace {

// workers: "auto" (0 in the model: one per core) or a positive integer.
void read_workers(Reader& r, const Entry& e, Config& c) {
  if (e.value.is_scalar() && e.value.text == "auto") {
    c.workers = 0;
    return;
  }
  if (e.value.is_scalar() && !e.value.invalid &&
      e.value.text.find_first_not_of("0123456789") != std::string::npos) {
    r.error(e.value.pos, "'workers' must be auto or an integer >= 1, got '" + e.value.text + "'");
    return;
  }
  assign(c.workers, r.integer(e.value, e.key, 1, kMaxWorkers));
}

constexpr std::array<Key<ListenerConfig>, 2> kListenerKeys{{
    {"name", true,
     [](Reader& r, const Entry& e, ListenerConfig& l) {
       assign(l.name, r.nonempty_string(e.value, e.key));
       if (!l.name.empty()) r.note_name("listener", l.name, e.value.pos);
     }},
    {"address", true,
     [](Reader& r, const Entry& e, ListenerConfig& l) {
       l.address_pos = e.value.pos;
       assign(l.address, r.address(e.value, e.key, /*allow_port_0=*/true));
     }},
}};

void read_listeners(Reader& r, const Entry& e, Config& c) {
  read_list(r, e.value, e.key, c.listeners, [](Reader& r, const Value& v, ListenerConfig& l) {
    l.pos = v.pos;
    read_map(r, v, "listener", kListenerKeys, l);
  });
  if (e.value.is_sequence() && e.value.items.empty())
    r.error(e.value.pos, "'listeners' must have at least one listener");
}

// Long enough that guessing it over the network is hopeless.
constexpr size_t kMinAdminToken = 16;

void read_admin_token(Reader& r, const Entry& e, AdminConfig& a) {
  auto token = r.string(e.value, e.key);
  if (!token) return;
  if (!token->empty() && token->size() < kMinAdminToken) {
    r.error(e.value.pos, "'token' must be at least " + std::to_string(kMinAdminToken) +
                             " characters (or empty for none)");
    return;
  }
  if (token->find_first_of(" \t\r\n") != std::string::npos) {
    r.error(e.value.pos, "'token' must not contain whitespace");
    return;
  }
  a.token = std::move(*token);
}

constexpr std::array<Key<AdminConfig>, 3> kAdminKeys{{
    {"enabled", false,
     [](Reader& r, const Entry& e, AdminConfig& a) {
       assign(a.enabled, r.boolean(e.value, e.key));
     }},
    {"address", false,
     [](Reader& r, const Entry& e, AdminConfig& a) {
       a.address_pos = e.value.pos;
       assign(a.address, r.address(e.value, e.key, /*allow_port_0=*/true));
     }},
    {"token", false, read_admin_token},
}};

constexpr std::array<Key<AccessLogConfig>, 1> kAccessLogKeys{{
    {"path", true,
     [](Reader& r, const Entry& e, AccessLogConfig& a) {
       assign(a.path, r.nonempty_string(e.value, e.key));
     }},
}};

constexpr std::array<std::pair<std::string_view, LogLevel>, 4> kLogLevels{{
    {"debug", LogLevel::debug},
    {"info", LogLevel::info},
    {"warn", LogLevel::warn},
    {"error", LogLevel::error},
}};

constexpr std::array<Key<LogConfig>, 2> kLogKeys{{
    {"level", false,
     [](Reader& r, const Entry& e, LogConfig& l) {
       assign(l.level, r.choice(e.value, e.key, kLogLevels));
     }},
    {"path", false,
     [](Reader& r, const Entry& e, LogConfig& l) {
       assign(l.path, r.nonempty_string(e.value, e.key));
     }},
}};

constexpr std::array<Key<LimitsConfig>, 8> kLimitsKeys{{
    {"max_header_bytes", false,
     [](Reader& r, const Entry& e, LimitsConfig& l) {
       assign(l.max_header_bytes, r.size(e.value, e.key, 1, kMaxHeaderBytes));
     }},
    {"max_header_count", false,
     [](Reader& r, const Entry& e, LimitsConfig& l) {
       assign(l.max_header_count, r.integer(e.value, e.key, 1, kU32Max));
     }},
    {"max_body_bytes", false,
     [](Reader& r, const Entry& e, LimitsConfig& l) {
       assign(l.max_body_bytes, r.size(e.value, e.key, 0, UINT64_MAX));
     }},
    {"header_timeout", false,
     [](Reader& r, const Entry& e, LimitsConfig& l) {
       assign(l.header_timeout, r.duration(e.value, e.key, /*allow_zero=*/false));
     }},
    {"read_timeout", false,
     [](Reader& r, const Entry& e, LimitsConfig& l) {
       assign(l.read_timeout, r.duration(e.value, e.key, /*allow_zero=*/false));
     }},
    {"idle_timeout", false,
     [](Reader& r, const Entry& e, LimitsConfig& l) {
       assign(l.idle_timeout, r.duration(e.value, e.key, /*allow_zero=*/false));
     }},
    // 0: close in-flight connections at once on shutdown.
    {"drain_timeout", false,
     [](Reader& r, const Entry& e, LimitsConfig& l) {
       assign(l.drain_timeout, r.duration(e.value, e.key, /*allow_zero=*/true));
     }},
    {"max_connections", false,
     [](Reader& r, const Entry& e, LimitsConfig& l) {
       assign(l.max_connections, r.integer(e.value, e.key, 1, kU32Max));
     }},
}};

constexpr std::array<Key<Config>, 8> kTopKeys{{
    {"workers", false, read_workers},
    {"listeners", true, read_listeners},
    {"admin", false,
     [](Reader& r, const Entry& e, Config& c) {
       c.admin.pos = e.value.pos;
       read_map(r, e.value, "admin", kAdminKeys, c.admin);
     }},
    {"access_log", false,
     [](Reader& r, const Entry& e, Config& c) {
       c.access_log.pos = e.value.pos;
       read_map(r, e.value, "access_log", kAccessLogKeys, c.access_log);
     }},
    {"log", false,
     [](Reader& r, const Entry& e, Config& c) { read_map(r, e.value, "log", kLogKeys, c.log); }},
    {"limits", false,
     [](Reader& r, const Entry& e, Config& c) {
       read_map(r, e.value, "limits", kLimitsKeys, c.limits);
     }},
    {"upstreams", false,
     [](Reader& r, const Entry& e, Config& c) { decode_upstreams(r, e.value, c.upstreams); }},
    {"routes", false,
     [](Reader& r, const Entry& e, Config& c) { decode_routes(r, e.value, c.routes); }},
}};

}  // namespace

void decode_config(Reader& r, const Value& root, Config& out) {
  if (!root.is_map()) {
    r.error(root.pos, root.is_null() ? "the config is empty; it needs at least 'listeners'"
                                     : "the config must be a mapping of keys to values");
    return;
  }
  read_map(r, root, "the top level", kTopKeys, out);
}

}  // namespace basalt::config
