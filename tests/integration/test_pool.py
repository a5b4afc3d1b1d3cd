"""Upstream keep-alive pools: connections are reused; one the upstream closed while it sat in
the pool never turns a good request into a 502, with or without a request body; and bytes an
upstream sent unasked while its connection sat idle are never taken for the next response."""

import json
import unittest

import harness

CONFIG = "workers: 1\n" + harness.LOOPBACK + """\
upstreams:
  - name: demo
    endpoints: [ { address: "127.0.0.1:@a@" } ]
  - name: closing
    endpoints: [ { address: "127.0.0.1:@closing@" } ]
  - name: stray
    endpoints: [ { address: "127.0.0.1:@stray@" } ]
routes:
  - name: stray
    match: { path_prefix: /stray }
    upstream: stray
  - name: demo
    match: { path_prefix: /demo }
    upstream: demo
  - name: closing
    match: { path_prefix: /closing }
    upstream: closing
"""


class PoolTest(harness.GatewayCase):
    DEMOS = ("a",)
    CONFIG = CONFIG

    @classmethod
    def placeholders(cls):
        cls.closing = harness.CloseAfterReplyUpstream()
        cls.addClassCleanup(cls.closing.stop)
        cls.stray = harness.StrayBytesUpstream()
        cls.addClassCleanup(cls.stray.stop)
        return {"closing": cls.closing.port, "stray": cls.stray.port}

    def request_then_upstream_closes(self, method, path, body=None):
        """A request that leaves its connection in the pool; the upstream then closes it.

        Every request to the closing upstream goes through here, so each test starts once the
        previous connection is really closed: an upstream that closes just as the gateway
        reuses the connection is a race no proxy can win for a request with a body."""
        r = self.gw.request(method, path, body=body)
        self.assertEqual(r.status, 200, r)
        self.assertTrue(self.closing.wait_closed(path), "the upstream never closed its connection")
        return r

    def test_sequential_requests_share_one_upstream_connection(self):
        before = self.gw.metrics().get("basalt_upstream_connections_active", upstream="demo")
        for i in range(5):
            self.assertEqual(self.gw.request("GET", f"/demo/{i}").status, 200)
        after = self.gw.metrics().get("basalt_upstream_connections_active", upstream="demo")
        self.assertLessEqual(after - before, 1)

    def test_bodiless_request_on_a_closed_pooled_connection_succeeds(self):
        self.request_then_upstream_closes("GET", "/closing/get-1")
        self.request_then_upstream_closes("GET", "/closing/get-2")

    def test_request_with_body_on_a_closed_pooled_connection_succeeds(self):
        self.request_then_upstream_closes("GET", "/closing/post-1")
        body = b"x" * 5000
        r = self.request_then_upstream_closes("POST", "/closing/upload", body=body)
        self.assertEqual(json.loads(r.body)["body_bytes"], len(body))

    def test_bytes_an_idle_upstream_sent_unasked_never_answer_the_next_request(self):
        first = self.gw.request("GET", "/stray/1")
        self.assertEqual(first.body, b"connection-1")
        self.assertTrue(self.stray.send_stray(), "the upstream never wrote its stray response")
        second = self.gw.request("GET", "/stray/2")
        self.assertEqual(second.status, 200, second)
        self.assertIsNone(second.header("x-poison"))
        self.assertEqual(second.body, b"connection-2")

    def test_closed_pooled_connections_are_not_counted_as_open(self):
        for i in range(3):
            self.request_then_upstream_closes("POST", f"/closing/count-{i}", body=b"abc")
        # Every connection was closed by the upstream; at most the last is still in the pool.
        self.assertLessEqual(
            self.gw.metrics().get("basalt_upstream_connections_active", upstream="closing"), 1)


if __name__ == "__main__":
    unittest.main()
