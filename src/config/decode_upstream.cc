// The `upstreams:` section: named clusters of endpoints with balancing and pooling.
#include <array>
#include <utility>

#include "config/decode.h"

namespace basalt::config {
namespace {

constexpr std::array<Key<EndpointConfig>, 2> kEndpointKeys{{
    {"address", true,
     [](Reader& r, const Entry& e, EndpointConfig& ep) {
       assign(ep.address, r.address(e.value, e.key, /*allow_port_0=*/false));
     }},
    {"weight", false,
     [](Reader& r, const Entry& e, EndpointConfig& ep) {
       assign(ep.weight, r.integer(e.value, e.key, 1, kMaxWeight));
     }},
}};

constexpr std::array<Key<UpstreamConfig>, 2> kPoolKeys{{
    // 0: no idle connections are kept (a new connection per request).
    {"max_idle", false,
     [](Reader& r, const Entry& e, UpstreamConfig& u) {
       assign(u.max_idle_per_endpoint, r.integer(e.value, e.key, 0, kU32Max));
     }},
    {"idle_timeout", false,
     [](Reader& r, const Entry& e, UpstreamConfig& u) {
       assign(u.idle_timeout, r.duration(e.value, e.key, /*allow_zero=*/false));
     }},
}};

constexpr std::array<std::pair<std::string_view, Balancer>, 2> kBalancers{{
    {"round_robin", Balancer::round_robin},
    {"least_request", Balancer::least_request},
}};

void read_endpoints(Reader& r, const Entry& e, UpstreamConfig& u) {
  read_list(r, e.value, e.key, u.endpoints, [](Reader& r, const Value& v, EndpointConfig& ep) {
    ep.pos = v.pos;
    read_map(r, v, "endpoint", kEndpointKeys, ep);
  });
  if (e.value.is_sequence() && e.value.items.empty())
    r.error(e.value.pos, "'endpoints' must have at least one endpoint");
}

constexpr std::array<Key<UpstreamConfig>, 6> kUpstreamKeys{{
    {"name", true,
     [](Reader& r, const Entry& e, UpstreamConfig& u) {
       assign(u.name, r.nonempty_string(e.value, e.key));
       if (!u.name.empty()) r.note_name("upstream", u.name, e.value.pos);
     }},
    {"endpoints", true, read_endpoints},
    {"balancer", false,
     [](Reader& r, const Entry& e, UpstreamConfig& u) {
       assign(u.balancer, r.choice(e.value, e.key, kBalancers));
     }},
    {"connect_timeout", false,
     [](Reader& r, const Entry& e, UpstreamConfig& u) {
       assign(u.connect_timeout, r.duration(e.value, e.key, /*allow_zero=*/false));
     }},
    // 0: resolve DNS names once, at load.
    {"dns_refresh", false,
     [](Reader& r, const Entry& e, UpstreamConfig& u) {
       assign(u.dns_refresh, r.duration(e.value, e.key, /*allow_zero=*/true));
     }},
    {"pool", false,
     [](Reader& r, const Entry& e, UpstreamConfig& u) {
       read_map(r, e.value, "pool", kPoolKeys, u);
     }},
}};

}  // namespace

void decode_upstreams(Reader& r, const Value& list, std::vector<UpstreamConfig>& out) {
  read_list(r, list, "upstreams", out, [](Reader& r, const Value& v, UpstreamConfig& u) {
    u.pos = v.pos;
    read_map(r, v, "upstream", kUpstreamKeys, u);
  });
}

}  // namespace basalt::config
