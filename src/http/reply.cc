// Local replies. See reply.h.
#include "http/reply.h"

#include <array>
#include <charconv>

namespace basalt::http {
namespace {

struct Phrase {
  int status;
  std::string_view text;
};

constexpr std::array kPhrases = {
    Phrase{100, "Continue"},
    Phrase{101, "Switching Protocols"},
    Phrase{200, "OK"},
    Phrase{201, "Created"},
    Phrase{202, "Accepted"},
    Phrase{204, "No Content"},
    Phrase{206, "Partial Content"},
    Phrase{301, "Moved Permanently"},
    Phrase{302, "Found"},
    Phrase{303, "See Other"},
    Phrase{304, "Not Modified"},
    Phrase{307, "Temporary Redirect"},
    Phrase{308, "Permanent Redirect"},
    Phrase{400, "Bad Request"},
    Phrase{401, "Unauthorized"},
    Phrase{403, "Forbidden"},
    Phrase{404, "Not Found"},
    Phrase{405, "Method Not Allowed"},
    Phrase{408, "Request Timeout"},
    Phrase{409, "Conflict"},
    Phrase{413, "Content Too Large"},
    Phrase{414, "URI Too Long"},
    Phrase{415, "Unsupported Media Type"},
    Phrase{417, "Expectation Failed"},
    Phrase{429, "Too Many Requests"},
    Phrase{431, "Request Header Fields Too Large"},
    Phrase{500, "Internal Server Error"},
    Phrase{501, "Not Implemented"},
    Phrase{502, "Bad Gateway"},
    Phrase{503, "Service Unavailable"},
    Phrase{504, "Gateway Timeout"},
    Phrase{505, "HTTP Version Not Supported"},
};

// JSON string content; the texts passed here are ours or a validated request id, but escape
// anyway so a future caller cannot break the document.
void append_json_text(std::string& out, std::string_view s) {
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out.append("\\u00");
      out.push_back("0123456789abcdef"[(c >> 4) & 0xf]);
      out.push_back("0123456789abcdef"[c & 0xf]);
    } else {
      out.push_back(c);
    }
  }
}

void append_status_line(std::string& out, int status) {
  out.append("HTTP/1.1 ");
  append_decimal(out, static_cast<uint64_t>(status));
  out.push_back(' ');
  out.append(reason_phrase(status));
  out.append("\r\n");
}

}  // namespace

std::string_view reason_phrase(int status) {
  for (const auto& p : kPhrases)
    if (p.status == status) return p.text;
  return "Unknown";
}

void append_decimal(std::string& out, uint64_t n) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, n);
  out.append(buf, static_cast<size_t>(end - buf));
}

void append_problem(std::string& out, int status, std::string_view detail,
                    std::string_view request_id, bool close, bool head_only) {
  std::string body;
  body.reserve(160);
  body.append("{\"type\":\"about:blank\",\"title\":\"");
  append_json_text(body, reason_phrase(status));
  body.append("\",\"status\":");
  append_decimal(body, static_cast<uint64_t>(status));
  body.append(",\"detail\":\"");
  append_json_text(body, detail);
  body.append("\",\"request_id\":\"");
  append_json_text(body, request_id);
  body.append("\"}\n");
  append_simple(out, status, "application/problem+json", body, {}, request_id, close, head_only);
}

void append_simple(std::string& out, int status, std::string_view content_type,
                   std::string_view body, std::string_view extra_headers,
                   std::string_view request_id, bool close, bool head_only) {
  append_status_line(out, status);
  // 1xx, 204 and 304 carry no body and no Content-Length (RFC 9110 8.6, 15.3.5, 15.4.5).
  const bool bodiless = status < 200 || status == 204 || status == 304;
  if (bodiless) body = {};
  if (!content_type.empty() && !bodiless) {
    out.append("Content-Type: ");
    out.append(content_type);
    out.append("\r\n");
  }
  if (!bodiless) {
    out.append("Content-Length: ");
    append_decimal(out, body.size());
    out.append("\r\n");
  }
  if (!request_id.empty()) {
    out.append("X-Request-Id: ");
    out.append(request_id);
    out.append("\r\n");
  }
  out.append(extra_headers);
  if (close) out.append("Connection: close\r\n");
  out.append("\r\n");
  if (!head_only) out.append(body);
}

}  // namespace basalt::http
