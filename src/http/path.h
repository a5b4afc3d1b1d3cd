// Request-target normalization: turns the raw origin-form target of a request line into the
// canonical path the router, policies and access log all see, and splits off the query.
//
// One canonical form per resource is what keeps path-based rules honest: without it
// "/admin", "//admin", "/x/../admin" and "/%61dmin" would be four different strings to a
// prefix rule but one resource to the upstream.
//
//   std::string path;          // owned by the connection, reused for every request
//   std::string_view query;
//   if (http::normalize_target(target, path, query) != http::PathError::none)
//     return reply_400(...);
//   http::RequestView req{method, host, path, &fields};
#pragma once

#include <string>
#include <string_view>

namespace basalt::http {

enum class PathError {
  none,
  not_origin_form,       // does not start with '/': "*", absolute-form, authority-form, empty
  bad_percent_encoding,  // '%' not followed by two hex digits
  bad_character,         // a byte outside pchar and '/' in the path, or a '#' anywhere
};

// Stable lower-case name for metrics labels and access logs ("bad_character", ...).
std::string_view path_error_name(PathError e);

// Normalizes the path of an origin-form request target (the part before the first '?').
//
// Accepts: a target starting with '/'. The query (after the first '?', without it) is
// returned in `query` as a view into `target`, untouched; it is empty when there is no
// query or the query is empty ("/a?").
//
// Refuses, with the error named:
//  - not_origin_form: the target is empty or does not start with '/';
//  - bad_character: any '#' in the target, or a path byte that is not RFC 3986 pchar or '/'
//    (space, control bytes, '"', '<', '>', '\\', '^', '`', '{', '|', '}', bytes >= 0x80);
//  - bad_percent_encoding: a '%' not followed by two hex digits.
//
// Produces in `out` (cleared first; its capacity is reused, and it never grows past
// target.size(), so a reused string does not allocate):
//  - %XX of an unreserved character (ALPHA DIGIT - . _ ~) decoded; every other %XX kept
//    encoded with upper-case hex, so "%2F" never becomes a separator and "%00" stays as is;
//  - runs of '/' merged into one;
//  - dot segments ("." and "..", also when they were spelled %2E) removed as in RFC 3986
//    5.2.4; ".." at the root stays at the root, and a trailing "/." or "/.." leaves a
//    trailing '/'.
// On error `out` and `query` hold unspecified values.
PathError normalize_target(std::string_view target, std::string& out, std::string_view& query);

}  // namespace basalt::http
