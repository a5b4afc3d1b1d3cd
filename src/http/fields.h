// Header fields as views into a connection's read buffer, plus the request head the
// router and policies see. No allocation per field beyond the vector's reused capacity.
//
//   http::FieldList fields;
//   fields.add("Host", "example.com");
//   if (auto v = fields.find("host")) use(*v);   // case-insensitive
#pragma once

#include <optional>
#include <string_view>
#include <vector>

namespace basalt::http {

// ASCII case-insensitive equality; header names are ASCII tokens.
inline bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x + 32);
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y + 32);
    if (x != y) return false;
  }
  return true;
}

struct Field {
  std::string_view name;
  std::string_view value;
};

class FieldList {
 public:
  void clear() { fields_.clear(); }
  void add(std::string_view name, std::string_view value) { fields_.push_back({name, value}); }

  // First value of `name`, compared case-insensitively.
  std::optional<std::string_view> find(std::string_view name) const {
    for (const auto& f : fields_)
      if (iequals(f.name, name)) return f.value;
    return std::nullopt;
  }

  size_t count(std::string_view name) const {
    size_t n = 0;
    for (const auto& f : fields_) n += iequals(f.name, name) ? 1 : 0;
    return n;
  }

  const std::vector<Field>& all() const { return fields_; }
  std::vector<Field>& all() { return fields_; }
  size_t size() const { return fields_.size(); }

 private:
  std::vector<Field> fields_;
};

// What the router matches on. host is lower-case without port; path is normalized
// (see http/path.h) and carries no query.
struct RequestView {
  std::string_view method;
  std::string_view host;
  std::string_view path;
  const FieldList* fields = nullptr;
};

}  // namespace basalt::http
