// Replies the gateway writes itself: RFC 9457 problem details for rejections and failures,
// direct responses and redirects from routes. Serialized straight into a connection's output
// buffer; no allocation once the buffer has grown.
//
//   std::string out;
//   http::append_problem(out, 404, "no route matches the request", request_id, /*close=*/false);
//   co_await write(socket, out);
#pragma once

#include <string>
#include <string_view>

namespace basalt::http {

// "Not Found" for 404; "Unknown" for codes without a registered phrase.
std::string_view reason_phrase(int status);

// A complete HTTP/1.1 response: application/problem+json body with type, title, status,
// detail and request_id; X-Request-Id header; "Connection: close" when `close`. With
// `head_only` (a HEAD request) the body is left out and Content-Length still gives its size.
void append_problem(std::string& out, int status, std::string_view detail,
                    std::string_view request_id, bool close, bool head_only = false);

// A complete HTTP/1.1 response with the given body. `extra_headers` is zero or more
// "Name: value\r\n" lines added verbatim. `head_only` leaves the body out (HEAD requests) while
// keeping its Content-Length.
void append_simple(std::string& out, int status, std::string_view content_type,
                   std::string_view body, std::string_view extra_headers,
                   std::string_view request_id, bool close, bool head_only);

// Appends `n` in decimal.
void append_decimal(std::string& out, uint64_t n);

}  // namespace basalt::http
