// The one error type of the data path: what failed, which side failed, what the client is
// answered, and whether trying again is safe. Retry and (later) breaker logic read these fields;
// nothing parses a message.
//
//   std::optional<Failure> f = co_await exchange(...);
//   if (f && f->retryable && first_attempt) retry on a fresh connection;
//   else if (f) answer f->status with f->detail, count f->reason;
#pragma once

#include <string_view>

#include "observe/metrics.h"

namespace basalt::gateway {

enum class Side : uint8_t { downstream, upstream, internal };

struct Failure {
  observe::Reject reason;  // metric label and access-log reason
  Side side;
  int status;               // the reply when nothing of the response was sent yet
  bool retryable;           // nothing reached the upstream application: a new attempt is safe
  std::string_view detail;  // shown to the client: never an address or internal name
};

namespace failure {

constexpr Failure connect_failed{observe::Reject::upstream_connect_failed, Side::upstream, 502,
                                 true, "could not connect to the upstream"};
constexpr Failure no_endpoint{observe::Reject::upstream_connect_failed, Side::upstream, 502, true,
                              "no upstream endpoint available"};
constexpr Failure timeout{observe::Reject::upstream_timeout, Side::upstream, 504, false,
                          "the upstream did not answer in time"};
constexpr Failure reset{observe::Reject::upstream_reset, Side::upstream, 502, false,
                        "the upstream closed the connection"};
// A pooled connection the upstream had closed while idle: nothing was processed.
constexpr Failure stale{observe::Reject::upstream_reset, Side::upstream, 502, true,
                        "the upstream closed the connection"};
constexpr Failure bad_response{observe::Reject::upstream_bad_response, Side::upstream, 502, false,
                               "the upstream sent a malformed response"};
constexpr Failure client_timeout{observe::Reject::read_timeout, Side::downstream, 408, false,
                                 "request body not received in time"};
// The client closed its connection before its request body was complete.
constexpr Failure client_gone{observe::Reject::client_closed, Side::downstream, 400, false,
                              "request body incomplete"};
// The client closed its connection while the upstream worked on its request.
constexpr Failure client_left{observe::Reject::client_closed, Side::downstream, 499, false,
                              "client closed the connection"};
// The drain ran out of time (limits.drain_timeout) with the request still under way.
constexpr Failure draining{observe::Reject::draining, Side::internal, 503, false,
                           "the gateway is shutting down"};

}  // namespace failure
}  // namespace basalt::gateway
