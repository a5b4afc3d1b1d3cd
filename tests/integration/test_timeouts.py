"""Downstream timeouts: a slow or silent client cannot hold a connection past header_timeout,
read_timeout or idle_timeout, and each such close is counted."""

import time
import unittest

import harness

CONFIG = "workers: 2\n" + harness.LOOPBACK + """\
limits:
  header_timeout: 300ms
  read_timeout: 400ms
  idle_timeout: 700ms
upstreams:
  - name: demo
    endpoints: [ { address: "127.0.0.1:@a@" } ]
routes:
  - name: direct
    match: { path: /direct }
    direct_response: { status: 200, body: "here" }
  - name: direct-short
    match: { path: /direct-short }
    direct_response: { status: 200, body: "here" }
    timeout: 450ms
  - name: short
    match: { path_prefix: /short }
    upstream: demo
    timeout: 450ms
  - name: all
    match: { path_prefix: / }
    upstream: demo
"""

# Upper bounds leave room for a loaded machine and the sanitizer build; lower bounds are what
# prove the configured value (and not some shorter one) was applied.
SLACK = 2.5


class DownstreamTimeoutsTest(harness.GatewayCase):
    DEMOS = ("a",)
    CONFIG = CONFIG

    def time_until_closed(self, conn, limit):
        """Seconds from now until the gateway closes conn (fails if it does not in `limit`)."""
        t0 = time.monotonic()
        closed = conn.closed_within(limit)
        elapsed = time.monotonic() - t0
        self.assertTrue(closed, f"connection still open after {limit}s")
        return elapsed

    def assert_timeout_reply_if_any(self, conn):
        """A reply before the close is optional; if sent, it must be a 408."""
        if conn.buf:
            self.assertTrue(conn.buf.startswith(b"HTTP/1.1 408"), conn.buf[:100])

    def rejections(self, reason):
        return self.gw.metrics().get("basalt_rejections_total", reason=reason)

    def test_partial_head_is_closed_after_header_timeout(self):
        before = self.rejections("header_timeout")
        with self.gw.raw() as c:
            c.send(b"GET /slow HTTP/1.1\r\nHost: test.local\r\nX-Partial: ")
            elapsed = self.time_until_closed(c, 0.3 + SLACK)
            self.assert_timeout_reply_if_any(c)
        self.assertGreaterEqual(elapsed, 0.25)
        self.assertGreaterEqual(self.wait_metric("basalt_rejections_total", before + 1,
                                                 reason="header_timeout"), before + 1)

    def test_partial_head_timeout_and_abandonment_are_logged_with_their_bytes(self):
        # Nothing of an incomplete head is parsed, so the lines carry no method or path; each
        # is told apart by its status and its byte count, sizes no other test sends.
        slow = b"GET /partial HTTP/1.1\r\nHost: test.local\r\nX-Request-Id: times-out-"
        with self.gw.raw() as c:
            c.send(slow)
            self.assertTrue(c.closed_within(0.3 + SLACK))
        timed_out = self.gw.wait_access(
            lambda rec: rec["status"] == 408 and rec["bytes_in"] == len(slow))
        self.assertEqual(timed_out["reason"], "header_timeout")

        abandoned = b"GET /abandoned HTTP/1.1\r\nHost: te"
        with self.gw.raw() as c:
            c.send(abandoned)
        gone = self.gw.wait_access(
            lambda rec: rec["status"] == 499 and rec["bytes_in"] == len(abandoned))
        self.assertEqual(gone["reason"], "client_closed")

    def test_drip_fed_head_is_closed_after_header_timeout(self):
        # One byte every 50 ms keeps every read busy; only a deadline on the whole head ends it.
        head = b"GET /drip HTTP/1.1\r\nHost: test.local\r\nX-Drip: " + b"d" * 400
        with self.gw.raw() as c:
            t0 = time.monotonic()
            closed = False
            for i in range(len(head)):
                try:
                    c.send(head[i:i + 1])
                except OSError:
                    closed = True
                    break
                if c.closed_within(0.05):
                    closed = True
                    break
            elapsed = time.monotonic() - t0
        self.assertTrue(closed, "a drip-fed head was never cut off")
        self.assertLess(elapsed, 0.3 + SLACK)

    def test_silent_connection_is_closed(self):
        with self.gw.raw() as c:
            self.time_until_closed(c, 0.7 + SLACK)

    def test_idle_keep_alive_is_closed_after_idle_timeout(self):
        with self.gw.raw() as c:
            c.send(harness.request_bytes("GET", "/idle"))
            self.assertEqual(c.read_response().status, 200)
            elapsed = self.time_until_closed(c, 0.7 + SLACK)
        self.assertGreaterEqual(elapsed, 0.6, "closed before idle_timeout")

    def test_keep_alive_connection_survives_short_pauses(self):
        with self.gw.raw() as c:
            for i in range(3):
                c.send(harness.request_bytes("GET", f"/pause/{i}"))
                self.assertEqual(c.read_response().status, 200)
                self.assertFalse(c.closed_within(0.2), "closed well before idle_timeout")

    def test_stalled_body_is_closed_after_read_timeout(self):
        before = self.rejections("read_timeout")
        with self.gw.raw() as c:
            c.send(harness.request_bytes("POST", "/stall", [("Content-Length", "100")],
                                         b"only ten.."))
            elapsed = self.time_until_closed(c, 0.4 + SLACK)
            self.assert_timeout_reply_if_any(c)
        self.assertGreaterEqual(elapsed, 0.3)
        self.assertGreaterEqual(self.wait_metric("basalt_rejections_total", before + 1,
                                                 reason="read_timeout"), before + 1)

    def test_stalled_body_for_a_direct_response_gets_408_and_is_logged(self):
        before = self.rejections("read_timeout")
        with self.gw.raw() as c:
            c.send(harness.request_bytes("POST", "/direct", [("Content-Length", "100"),
                                                             ("X-Request-Id", "stalled-direct")],
                                         b"only ten.."))
            r = c.read_response(timeout=0.4 + SLACK)
            self.assertEqual(r.status, 408)
            self.assertTrue(c.closed_within(SLACK))
        line = self.gw.wait_access_for("stalled-direct")
        self.assertEqual(line["status"], 408)
        self.assertEqual(line["reason"], "read_timeout")
        self.assertGreaterEqual(self.wait_metric("basalt_rejections_total", before + 1,
                                                 reason="read_timeout"), before + 1)

    def assert_trickle_cut_by_route_timeout(self, path):
        """A body trickled in pieces, each within read_timeout, to a route whose timeout is
        450ms: it must end in a 408 soon after that timeout, not run on."""
        with self.gw.raw() as c:
            c.send(harness.request_bytes("POST", path, [("Content-Length", "20")]))
            t0 = time.monotonic()
            for _ in range(10):
                if c.closed_within(0.15):
                    break
                try:
                    c.send(b"ab")
                except OSError:
                    break
            elapsed = time.monotonic() - t0
            self.assertTrue(c.buf.startswith(b"HTTP/1.1 408"), c.buf[:100])
        self.assertGreaterEqual(elapsed, 0.4)
        self.assertLess(elapsed, 1.4, "the body ran past the route's timeout")

    def test_route_timeout_bounds_a_body_upload_too(self):
        self.assert_trickle_cut_by_route_timeout("/short/upload")

    def test_route_timeout_bounds_a_body_a_local_route_drops(self):
        self.assert_trickle_cut_by_route_timeout("/direct-short")

    def test_slow_but_steady_body_is_not_cut_by_read_timeout(self):
        # Every piece arrives well within read_timeout, the whole body takes longer than it.
        with self.gw.raw() as c:
            c.send(harness.request_bytes("POST", "/steady", [("Content-Length", "8")]))
            for _ in range(4):
                self.assertFalse(c.closed_within(0.15))
                c.send(b"ab")
            self.assertEqual(c.read_response().json()["body_bytes"], 8)


if __name__ == "__main__":
    unittest.main()
