// The `routes:` section: what a request must look like, and what to do with it.
#include <algorithm>
#include <array>
#include <cctype>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "config/decode.h"

namespace basalt::config {
namespace {

// A route while it is decoded: the model plus what the per-route checks need to know.
struct RouteDraft {
  RouteConfig route;
  std::vector<std::pair<std::string, SourcePos>> actions;  // action keys seen, in file order
  std::optional<SourcePos> rewrite_pos;
};

// A map key read as a value, so key text gets the same checks and positions as values.
Value key_as_value(const Entry& e) {
  Value v;
  v.kind = Value::Kind::scalar;
  v.text = e.key;
  v.pos = e.key_pos;
  return v;
}

std::string lower(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  return s;
}

bool is_host_char(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || c == '-' || c == '.' || c == '_' ||
         c == ':' || c == '[' || c == ']';
}

// A host to match: a name ("api.example.com", lower-cased) or a wildcard "*.example.com".
std::optional<std::string> read_host(Reader& r, const Value& v) {
  auto text = r.nonempty_string(v, "hosts");
  if (!text) return std::nullopt;
  std::string host = lower(*text);
  // "api.example.com." names the same host; requests lose the trailing dot, so must this.
  if (host.size() > 1 && host.back() == '.') host.pop_back();
  std::string_view name = host;
  if (name.substr(0, 2) == "*.") name.remove_prefix(2);
  bool ok = !name.empty() && name.front() != '.';
  for (char c : name) ok = ok && is_host_char(c);
  if (!ok) {
    r.error(v.pos, "invalid host '" + *text +
                       "': use a name like api.example.com or a wildcard like *.example.com");
    return std::nullopt;
  }
  return host;
}

// path and path_prefix are absolute; the prefix loses trailing '/' so "/users/" and
// "/users" match the same segments.
std::optional<std::string> read_path(Reader& r, const Entry& e, bool is_prefix) {
  auto text = r.string(e.value, e.key);
  if (!text) return std::nullopt;
  if (text->empty() || text->front() != '/') {
    r.error(e.value.pos, "'" + e.key + "' must start with '/', got '" + *text + "'");
    return std::nullopt;
  }
  // What a request path can hold (RFC 3986 pchar and '/'); anything else could never match.
  auto hex = [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; };
  for (size_t i = 0; i < text->size(); ++i) {
    const char c = (*text)[i];
    if (std::isalnum(static_cast<unsigned char>(c)) ||
        std::string_view("-._~!$&'()*+,;=:@/").find(c) != std::string_view::npos)
      continue;
    if (c == '%' && i + 2 < text->size() && hex((*text)[i + 1]) && hex((*text)[i + 2])) continue;
    r.error(e.value.pos, "'" + e.key + "' holds a character a request path cannot ('" +
                             std::string(1, c) + "'); percent-encode it, as in %20 for a space");
    return std::nullopt;
  }
  while (is_prefix && text->size() > 1 && text->back() == '/') text->pop_back();
  return text;
}

// Refuses a second path matcher; the router needs one unambiguous path rule per route.
bool first_path_rule(Reader& r, const Entry& e, const RouteMatch& m) {
  if (!m.path && !m.path_prefix && !m.path_regex) return true;
  r.error(e.key_pos, "only one of path, path_prefix and path_regex may be set");
  return false;
}

constexpr std::array<Key<HeaderMatch>, 4> kHeaderMatchKeys{{
    {"name", true,
     [](Reader& r, const Entry& e, HeaderMatch& h) {
       assign(h.name, r.token(e.value, e.key, Reader::Case::lower));
     }},
    {"exact", false,
     [](Reader& r, const Entry& e, HeaderMatch& h) {
       assign(h.exact, r.field_value(e.value, e.key));
     }},
    {"regex", false,
     [](Reader& r, const Entry& e, HeaderMatch& h) { assign(h.regex, r.regex(e.value, e.key)); }},
    {"present", false,
     [](Reader& r, const Entry& e, HeaderMatch& h) {
       assign(h.present, r.boolean(e.value, e.key));
     }},
}};

void read_header_match(Reader& r, const Value& v, HeaderMatch& h) {
  h.pos = v.pos;
  read_map(r, v, "header match", kHeaderMatchKeys, h);
  if (!v.is_map()) return;
  int predicates = 0;
  for (const Entry& e : v.entries)
    predicates += e.key == "exact" || e.key == "regex" || e.key == "present";
  if (predicates != 1)
    r.error(v.pos, "a header match needs exactly one of exact, regex and present");
}

constexpr std::array<Key<RouteMatch>, 6> kMatchKeys{{
    {"hosts", false,
     [](Reader& r, const Entry& e, RouteMatch& m) {
       if (!r.expect_sequence(e.value, e.key)) return;
       for (const Value& item : e.value.items)
         if (auto host = read_host(r, item)) m.hosts.push_back(std::move(*host));
     }},
    {"path", false,
     [](Reader& r, const Entry& e, RouteMatch& m) {
       if (first_path_rule(r, e, m)) assign(m.path, read_path(r, e, /*is_prefix=*/false));
     }},
    {"path_prefix", false,
     [](Reader& r, const Entry& e, RouteMatch& m) {
       if (first_path_rule(r, e, m)) assign(m.path_prefix, read_path(r, e, /*is_prefix=*/true));
     }},
    {"path_regex", false,
     [](Reader& r, const Entry& e, RouteMatch& m) {
       if (first_path_rule(r, e, m)) assign(m.path_regex, r.regex(e.value, e.key));
     }},
    {"methods", false,
     [](Reader& r, const Entry& e, RouteMatch& m) {
       if (!r.expect_sequence(e.value, e.key)) return;
       for (const Value& item : e.value.items)
         if (auto method = r.token(item, "methods", Reader::Case::upper))
           m.methods.push_back(std::move(*method));
     }},
    {"headers", false,
     [](Reader& r, const Entry& e, RouteMatch& m) {
       read_list(r, e.value, e.key, m.headers, read_header_match);
     }},
}};

// Fields the gateway writes itself: framing and hop-by-hop fields (an edit could make a
// message whose framing two parsers read differently, a smuggling set-up), Host (exactly one,
// the one routing used) and the fields it sets for the upstream.
constexpr std::array<std::string_view, 13> kManagedFields{"host",
                                                          "content-length",
                                                          "transfer-encoding",
                                                          "connection",
                                                          "keep-alive",
                                                          "te",
                                                          "trailer",
                                                          "upgrade",
                                                          "proxy-connection",
                                                          "x-request-id",
                                                          "x-forwarded-for",
                                                          "x-forwarded-proto",
                                                          "x-forwarded-host"};

// A lower-case header name for an edit, or nullopt after an error.
std::optional<std::string> edit_name(Reader& r, const Value& v, std::string_view what) {
  auto name = r.token(v, what, Reader::Case::lower);
  if (!name) return std::nullopt;
  if (std::find(kManagedFields.begin(), kManagedFields.end(), *name) != kManagedFields.end()) {
    r.error(v.pos, "header '" + *name + "' is written by the gateway itself and cannot be edited");
    return std::nullopt;
  }
  return name;
}

// set/add: a mapping of header name to value, in file order.
void read_header_pairs(Reader& r, const Entry& e,
                       std::vector<std::pair<std::string, std::string>>& out) {
  if (!r.expect_map(e.value, e.key)) return;
  for (const Entry& field : e.value.entries) {
    auto name = edit_name(r, key_as_value(field), "header name");
    auto value = r.field_value(field.value, field.key);
    if (name && value) out.emplace_back(std::move(*name), std::move(*value));
  }
}

constexpr std::array<Key<HeaderOps>, 3> kHeaderOpsKeys{{
    {"set", false,
     [](Reader& r, const Entry& e, HeaderOps& ops) { read_header_pairs(r, e, ops.set); }},
    {"add", false,
     [](Reader& r, const Entry& e, HeaderOps& ops) { read_header_pairs(r, e, ops.add); }},
    {"remove", false,
     [](Reader& r, const Entry& e, HeaderOps& ops) {
       if (!r.expect_sequence(e.value, e.key)) return;
       for (const Value& item : e.value.items)
         if (auto name = edit_name(r, item, "remove")) ops.remove.push_back(std::move(*name));
     }},
}};

constexpr std::array<Key<WeightedTarget>, 2> kTargetKeys{{
    {"upstream", true,
     [](Reader& r, const Entry& e, WeightedTarget& t) {
       assign(t.upstream, r.nonempty_string(e.value, e.key));
       t.pos = e.value.pos;
     }},
    // 0 keeps a target listed but sends it nothing (a canary at rest).
    {"weight", false,
     [](Reader& r, const Entry& e, WeightedTarget& t) {
       assign(t.weight, r.integer(e.value, e.key, 0, kMaxWeight));
     }},
}};

constexpr std::array<Key<DirectResponse>, 3> kDirectKeys{{
    {"status", false,
     [](Reader& r, const Entry& e, DirectResponse& d) {
       assign(d.status, r.integer(e.value, e.key, 200, 599));
     }},
    {"body", false,
     [](Reader& r, const Entry& e, DirectResponse& d) {
       assign(d.body, r.string(e.value, e.key));
     }},
    {"content_type", false,
     [](Reader& r, const Entry& e, DirectResponse& d) {
       assign(d.content_type, r.field_value(e.value, e.key));
     }},
}};

constexpr std::array<uint64_t, 5> kRedirectStatuses{301, 302, 303, 307, 308};

constexpr std::array<Key<Redirect>, 3> kRedirectKeys{{
    {"location", true,
     [](Reader& r, const Entry& e, Redirect& d) {
       auto loc = r.field_value(e.value, e.key);
       if (loc && (loc->empty() || (loc->front() != '/' && loc->find("://") == std::string::npos)))
         r.error(e.value.pos, "'location' must be an absolute URL or a path starting with '/'");
       else
         assign(d.location, loc);
     }},
    {"status", false,
     [](Reader& r, const Entry& e, Redirect& d) {
       auto status = r.integer(e.value, e.key, 0, 999);
       if (!status) return;
       if (std::find(kRedirectStatuses.begin(), kRedirectStatuses.end(), *status) ==
           kRedirectStatuses.end()) {
         r.error(e.value.pos, "redirect 'status' must be one of 301, 302, 303, 307, 308, got '" +
                                  e.value.text + "'");
         return;
       }
       d.status = static_cast<int>(*status);
     }},
    {"keep_query", false,
     [](Reader& r, const Entry& e, Redirect& d) {
       assign(d.keep_query, r.boolean(e.value, e.key));
     }},
}};

constexpr std::array<Key<RouteConfig>, 1> kRewriteKeys{{
    {"path_prefix", true,
     [](Reader& r, const Entry& e, RouteConfig& route) {
       assign(route.rewrite_prefix, read_path(r, e, /*is_prefix=*/true));
     }},
}};

// split: weighted targets; at least one, and not all of them at weight 0.
void read_split(Reader& r, const Value& v, std::vector<WeightedTarget>& split) {
  std::vector<WeightedTarget> targets;
  read_list(r, v, "split", targets, [](Reader& r, const Value& item, WeightedTarget& t) {
    t.pos = item.pos;
    read_map(r, item, "split target", kTargetKeys, t);
  });
  if (!v.is_sequence()) return;
  uint64_t total = 0;
  for (const auto& t : targets) total += t.weight;
  if (targets.empty())
    r.error(v.pos, "'split' must have at least one target");
  else if (total == 0)
    r.error(v.pos, "'split' weights are all 0; at least one must be above 0");
  split.insert(split.end(), targets.begin(), targets.end());
}

// Records an action key; the route checks refuse zero or several.
void note_action(const Entry& e, RouteDraft& d) { d.actions.emplace_back(e.key, e.key_pos); }

constexpr std::array<Key<RouteDraft>, 11> kRouteKeys{{
    {"name", true,
     [](Reader& r, const Entry& e, RouteDraft& d) {
       assign(d.route.name, r.nonempty_string(e.value, e.key));
       if (!d.route.name.empty()) r.note_name("route", d.route.name, e.value.pos);
     }},
    {"match", false,
     [](Reader& r, const Entry& e, RouteDraft& d) {
       d.route.match.pos = e.value.pos;
       read_map(r, e.value, "match", kMatchKeys, d.route.match);
     }},
    {"upstream", false,
     [](Reader& r, const Entry& e, RouteDraft& d) {
       note_action(e, d);
       if (auto name = r.nonempty_string(e.value, e.key))
         d.route.split.push_back(WeightedTarget{*name, 1, e.value.pos});
     }},
    {"split", false,
     [](Reader& r, const Entry& e, RouteDraft& d) {
       note_action(e, d);
       read_split(r, e.value, d.route.split);
     }},
    {"direct_response", false,
     [](Reader& r, const Entry& e, RouteDraft& d) {
       note_action(e, d);
       auto& direct = d.route.direct_response.emplace();
       read_map(r, e.value, "direct_response", kDirectKeys, direct);
       if ((direct.status == 204 || direct.status == 304) && !direct.body.empty())
         r.error(e.value.pos, "a " + std::to_string(direct.status) +
                                  " direct_response cannot have a body (HTTP forbids one)");
     }},
    {"redirect", false,
     [](Reader& r, const Entry& e, RouteDraft& d) {
       note_action(e, d);
       read_map(r, e.value, "redirect", kRedirectKeys, d.route.redirect.emplace());
     }},
    {"timeout", false,
     [](Reader& r, const Entry& e, RouteDraft& d) {
       assign(d.route.timeout, r.duration(e.value, e.key, /*allow_zero=*/false));
     }},
    {"rewrite", false,
     [](Reader& r, const Entry& e, RouteDraft& d) {
       d.rewrite_pos = e.key_pos;
       read_map(r, e.value, "rewrite", kRewriteKeys, d.route);
     }},
    {"request_headers", false,
     [](Reader& r, const Entry& e, RouteDraft& d) {
       read_map(r, e.value, "request_headers", kHeaderOpsKeys, d.route.request_headers);
     }},
    {"response_headers", false,
     [](Reader& r, const Entry& e, RouteDraft& d) {
       read_map(r, e.value, "response_headers", kHeaderOpsKeys, d.route.response_headers);
     }},
    {"max_body_bytes", false,
     [](Reader& r, const Entry& e, RouteDraft& d) {
       assign(d.route.max_body_bytes, r.size(e.value, e.key, 0, UINT64_MAX));
     }},
}};

// Checks that need the whole route: exactly one action, and a prefix for rewrite to replace.
void check_route(Reader& r, const RouteDraft& d) {
  const RouteConfig& route = d.route;
  std::string label = route.name.empty() ? "this route" : "route '" + route.name + "'";
  if (d.actions.empty())
    r.error(route.pos,
            label + " has no action; set one of upstream, split, direct_response, " + "redirect");
  if (d.actions.size() > 1)
    r.error(d.actions[1].second, label + " has more than one action ('" + d.actions[0].first +
                                     "' and '" + d.actions[1].first + "'); set exactly one");
  if (d.rewrite_pos && !route.match.path_prefix)
    r.error(*d.rewrite_pos, "'rewrite' needs match.path_prefix (it replaces the matched prefix)");
}

}  // namespace

void decode_routes(Reader& r, const Value& list, std::vector<RouteConfig>& out) {
  if (!r.expect_sequence(list, "routes")) return;
  for (const Value& item : list.items) {
    RouteDraft d;
    d.route.pos = item.pos;
    read_map(r, item, "route", kRouteKeys, d);
    if (item.is_map()) check_route(r, d);
    out.push_back(std::move(d.route));
  }
}

}  // namespace basalt::config
