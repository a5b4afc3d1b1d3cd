// X-Request-Id: keep a client's id when it is safe to log and forward, otherwise make one.
//
// A valid id is 1..128 characters of [A-Za-z0-9._:-]. Generated ids are 32 lower-case hex
// digits from a per-worker generator (not for security: they only need to be unique).
//
//   http::RequestIdGenerator ids(seed);
//   std::string id;
//   if (auto v = fields.find("x-request-id"); v && http::valid_request_id(*v)) id = *v;
//   else ids.next(id);
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace basalt::http {

inline bool valid_request_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              c == '.' || c == '_' || c == ':' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// splitmix64: fast, well mixed, one word of state per worker.
class Random {
 public:
  explicit Random(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

 private:
  uint64_t state_;
};

inline void generate_request_id(Random& rng, std::string& out) {
  out.resize(32);
  for (int half = 0; half < 2; ++half) {
    uint64_t v = rng.next();
    for (int i = 0; i < 16; ++i, v >>= 4) out[half * 16 + i] = "0123456789abcdef"[v & 0xf];
  }
}

}  // namespace basalt::http
