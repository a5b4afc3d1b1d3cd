"""Local error replies: problem+json bodies for 404 / 502 / 504 that carry the request id and
reveal nothing internal, and each rejection counted by reason on /metrics and in the access
log."""

import json
import re
import socket
import struct
import time
import unittest

import harness

CONFIG = "workers: 2\n" + harness.LOOPBACK + """\
upstreams:
  - name: demo
    endpoints: [ { address: "127.0.0.1:@a@" } ]
  - name: dead
    endpoints: [ { address: "127.0.0.1:@dead@" } ]
    connect_timeout: 1s
  - name: garbage
    endpoints: [ { address: "127.0.0.1:@garbage@" } ]
  - name: early
    endpoints: [ { address: "127.0.0.1:@early@" } ]
  - name: half-dead
    endpoints: [ { address: "127.0.0.1:@dead@" }, { address: "127.0.0.1:@a@" } ]
  - name: ejecting
    endpoints: [ { address: "127.0.0.1:@dead@" }, { address: "127.0.0.1:@a@" } ]
  - name: scripted
    endpoints: [ { address: "127.0.0.1:@scripted@" } ]
routes:
  - name: scripted
    match: { path_prefix: /scripted }
    upstream: scripted
    timeout: 500ms
  - name: api
    match: { path_prefix: /api }
    upstream: demo
    timeout: 500ms
  - name: dead
    match: { path_prefix: /dead }
    upstream: dead
  - name: garbage
    match: { path_prefix: /garbage }
    upstream: garbage
  - name: early
    match: { path_prefix: /early }
    upstream: early
  - name: half-dead
    match: { path_prefix: /half-dead }
    upstream: half-dead
  - name: ejecting
    match: { path_prefix: /ejecting }
    upstream: ejecting
  - name: slow
    match: { path_prefix: /slow }
    upstream: demo
    timeout: 20s
  - name: small
    match: { path_prefix: /small }
    upstream: demo
    max_body_bytes: 1KiB
"""

IPV4_RE = re.compile(r"\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b")


class ErrorRepliesTest(harness.GatewayCase):
    DEMOS = ("a",)
    CONFIG = CONFIG

    @classmethod
    def placeholders(cls):
        cls.dead_port = harness.free_port()
        cls.garbage = harness.GarbageUpstream()
        cls.addClassCleanup(cls.garbage.stop)
        cls.early = harness.EarlyReplyUpstream()
        cls.addClassCleanup(cls.early.stop)
        cls.scripted = harness.ScriptedUpstream({
            "/scripted/bad-chunk": (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                    b"zz\r\nok\r\n0\r\n\r\n", False),
            "/scripted/status-099": (b"HTTP/1.1 099 Odd\r\nContent-Length: 2\r\n\r\nok", False),
            "/scripted/status-600": (b"HTTP/1.1 600 Odd\r\nContent-Length: 2\r\n\r\nok", False),
            "/scripted/stall": (b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nx", True),
        })
        cls.addClassCleanup(cls.scripted.stop)
        return {"dead": cls.dead_port, "garbage": cls.garbage.port, "early": cls.early.port,
                "scripted": cls.scripted.port}

    def assert_problem(self, r, status):
        """r is a problem+json reply for `status` whose request_id matches x-request-id and
        whose text names no address or port of ours."""
        self.assertEqual(r.status, status, r)
        self.assertTrue((r.header("content-type") or "").startswith("application/problem+json"),
                        r)
        problem = r.json()
        self.assertEqual(problem.get("type"), "about:blank")
        self.assertEqual(problem.get("status"), status)
        self.assertIsInstance(problem.get("title"), str)
        self.assertTrue(problem["title"])
        self.assertIn("detail", problem)
        rid = r.header("x-request-id")
        self.assertRegex(rid or "", harness.REQUEST_ID_RE)
        self.assertEqual(problem.get("request_id"), rid)
        visible = json.dumps({k: v for k, v in problem.items() if k != "request_id"})
        self.assertIsNone(IPV4_RE.search(visible), visible)
        for port in (self.demos["a"].port, self.dead_port, self.garbage.port, self.gw.port):
            self.assertNotIn(str(port), visible)
        for word in ("127.0.0.1", "localhost", "errno", "boost", "asio"):
            self.assertNotIn(word.lower(), visible.lower())
        return problem

    def access_reason(self, r):
        return self.gw.wait_access_for(r.header("x-request-id"))

    def test_no_route_is_404_problem(self):
        r = self.gw.request("GET", "/nowhere")
        self.assert_problem(r, 404)
        rec = self.access_reason(r)
        self.assertEqual((rec["status"], rec["reason"], rec["route"]), (404, "no_route", ""))

    def test_head_no_route_is_404_without_body(self):
        with self.gw.raw() as c:
            c.send(harness.request_bytes("HEAD", "/nowhere"))
            r = c.read_response(method="HEAD")
            self.assertEqual(r.status, 404)
            c.send(harness.request_bytes("GET", "/api/after-head"))
            try:
                after = c.read_response()
            except ConnectionError as e:
                self.fail(f"the HEAD reply was followed by body bytes: {e}")
            self.assertEqual(after.status, 200)

    def test_connect_failure_is_502_problem(self):
        r = self.gw.request("GET", "/dead/x")
        self.assert_problem(r, 502)
        rec = self.access_reason(r)
        self.assertEqual((rec["status"], rec["reason"]), (502, "upstream_connect_failed"))

    def test_upstream_closing_without_answer_is_502_problem(self):
        r = self.gw.request("GET", "/api/x?drop=1")
        self.assert_problem(r, 502)
        self.assertEqual(self.access_reason(r)["reason"], "upstream_reset")

    def test_upstream_answering_garbage_is_502_problem(self):
        r = self.gw.request("GET", "/garbage/x")
        self.assert_problem(r, 502)
        self.assertEqual(self.access_reason(r)["reason"], "upstream_bad_response")

    def test_upstream_slower_than_route_timeout_is_504_problem(self):
        t0 = time.monotonic()
        r = self.gw.request("GET", "/api/slow?delay=3000")
        elapsed = time.monotonic() - t0
        self.assert_problem(r, 504)
        self.assertGreaterEqual(elapsed, 0.45)
        self.assertLess(elapsed, 2.5)
        self.assertEqual(self.access_reason(r)["reason"], "upstream_timeout")

    def test_upstream_cut_mid_body_is_not_passed_off_as_complete(self):
        # The head may already be on its way, so either a 502 or a truncated, closed response
        # is right; a complete-looking response is not.
        with self.gw.raw() as c:
            c.send(harness.request_bytes("GET", "/api/x?drop=mid&size=100000"))
            status, _, headers = c.read_head()
            if status == 502:
                return
            self.assertEqual(status, 200)
            length = dict((k.lower(), v) for k, v in headers).get("content-length")
            closed, data = c.read_until_closed(10.0)
            self.assertTrue(closed, "connection left open after a truncated body")
            if length is not None:
                self.assertLess(len(data), int(length))
            else:  # chunked: the final zero-size chunk must never be sent
                self.assertFalse(data.endswith(b"0\r\n\r\n"))

    def test_error_connection_stays_usable_after_502_and_404(self):
        with self.gw.raw() as c:
            c.send(harness.request_bytes("GET", "/nowhere"))
            self.assertEqual(c.read_response().status, 404)
            c.send(harness.request_bytes("GET", "/dead/y"))
            self.assertEqual(c.read_response().status, 502)
            c.send(harness.request_bytes("GET", "/api/z"))
            self.assertEqual(c.read_response().status, 200)

    def test_rejections_are_counted_by_reason(self):
        before = self.gw.metrics()
        rids = []
        for path in ("/nowhere", "/nowhere/2", "/dead/m", "/api/m?drop=1", "/api/m?delay=3000",
                     "/garbage/m"):
            rids.append(self.gw.request("GET", path).header("x-request-id"))
        for rid in rids:
            self.gw.wait_access_for(rid)
        expected = {"no_route": 2, "upstream_connect_failed": 1, "upstream_reset": 1,
                    "upstream_timeout": 1, "upstream_bad_response": 1}
        for reason, n in expected.items():
            want = before.get("basalt_rejections_total", reason=reason) + n
            with self.subTest(reason=reason):
                got = self.wait_metric("basalt_rejections_total", want, reason=reason)
                self.assertEqual(got, want)

    def test_upstream_connect_failures_are_counted(self):
        before = self.gw.metrics().get("basalt_upstream_connect_failures_total", upstream="dead")
        r = self.gw.request("GET", "/dead/count")
        self.assertEqual(r.status, 502)
        got = self.wait_metric("basalt_upstream_connect_failures_total", before + 1,
                               upstream="dead")
        self.assertGreaterEqual(got, before + 1)

    def test_refused_connect_moves_on_to_another_endpoint(self):
        # Nothing was sent when a connect fails, so another endpoint is tried: one endpoint of
        # two being down costs no request.
        before = self.gw.metrics().get("basalt_upstream_connect_failures_total",
                                       upstream="half-dead")
        for i in range(6):
            r = self.gw.request("POST", f"/half-dead/{i}", body=b"payload")
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json()["body"], "payload")
        failures = self.wait_metric("basalt_upstream_connect_failures_total", before + 1,
                                    upstream="half-dead")
        self.assertGreaterEqual(failures, before + 1)

    def test_endpoint_that_keeps_refusing_is_ejected(self):
        for i in range(24):
            self.assertEqual(self.gw.request("GET", f"/ejecting/{i}").status, 200)
        self.assertGreaterEqual(
            self.wait_metric("basalt_upstream_ejections_total", 1, upstream="ejecting"), 1)
        doc = self.gw.admin("/upstreams").json()
        (ups,) = [u for u in doc["upstreams"] if u["name"] == "ejecting"]
        live = [ep for ep in ups["endpoints"] if ep["address"].endswith(f":{self.demos['a'].port}")]
        self.assertEqual([ep["state"] for ep in live], ["in_rotation"])
        for ep in ups["endpoints"]:
            self.assertIn(ep["state"], ("in_rotation", "ejected"))

    # -- answers that come before the request body is read ---------------------------------

    def test_upstream_answer_before_reading_the_body_reaches_the_client(self):
        # The upstream answers 413 and closes while the gateway is still sending 4 MiB.
        r = self.gw.request("POST", "/early/upload", body=b"u" * (4 << 20))
        self.assertEqual(r.status, 413, r)
        self.assertEqual(r.json(), {"error": "payload too large"})
        self.assertEqual(r.header("connection"), "close")

    def test_gateway_413_reaches_a_client_still_sending_its_body(self):
        # Content-Length over the route's limit: answered at once, and the rest of the body is
        # read and dropped so that closing does not reset the connection under the reply.
        r = self.gw.request("POST", "/small/upload", body=b"s" * (2 << 20))
        self.assertEqual(r.status, 413, r)

    def test_failed_connect_after_an_earlier_response_on_the_connection_is_502(self):
        with self.gw.raw() as c:
            c.send(harness.request_bytes("GET", "/api/first"))
            self.assertEqual(c.read_response().status, 200)
            c.send(harness.request_bytes("GET", "/dead/second"))
            self.assert_problem(c.read_response(), 502)

    def test_client_gone_after_expect_continue_is_logged_499(self):
        with self.gw.raw() as c:
            c.send(harness.request_bytes("POST", "/api/expect", [
                ("Content-Length", "10"), ("Expect", "100-continue"),
                ("X-Request-Id", "expect-then-gone")]))
            c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        line = self.gw.wait_access_for("expect-then-gone")
        self.assertEqual((line["status"], line["reason"]), (499, "client_closed"))

    def test_malformed_body_framing_before_anything_was_sent_is_502(self):
        r = self.gw.request("GET", "/scripted/bad-chunk")
        self.assert_problem(r, 502)
        line = self.gw.wait_access_for(r.header("x-request-id"))
        self.assertEqual((line["status"], line["reason"]), (502, "upstream_bad_response"))

    def test_status_codes_outside_100_to_599_are_502(self):
        for path in ("/scripted/status-099", "/scripted/status-600"):
            with self.subTest(path=path):
                self.assert_problem(self.gw.request("GET", path), 502)

    def test_route_timeout_mid_body_is_logged_as_upstream_timeout(self):
        with self.gw.raw() as c:
            c.send(harness.request_bytes("GET", "/scripted/stall",
                                         [("X-Request-Id", "stalls-mid-body")]))
            status, _, _ = c.read_head()
            self.assertEqual(status, 200)
            self.assertTrue(c.closed_within(5.0), "the cut response was left open")
        line = self.gw.wait_access_for("stalls-mid-body")
        self.assertEqual((line["status"], line["reason"]), (200, "upstream_timeout"))

    def test_client_that_leaves_while_the_upstream_works_is_logged_499(self):
        before = self.gw.metrics().get("basalt_rejections_total", reason="client_closed")
        with self.gw.raw() as c:
            c.send(harness.request_bytes("GET", "/slow/leave?delay=5000",
                                         [("X-Request-Id", "leaves-early")]))
            t0 = time.monotonic()
        line = self.gw.wait_access_for("leaves-early")
        elapsed = time.monotonic() - t0
        self.assertEqual((line["status"], line["reason"]), (499, "client_closed"))
        self.assertLess(elapsed, 3.0, "the gateway waited for the upstream anyway")
        self.assertLess(line["upstream_ms"], 3000)
        self.assertGreaterEqual(self.wait_metric("basalt_rejections_total", before + 1,
                                                 reason="client_closed"), before + 1)


if __name__ == "__main__":
    unittest.main()
