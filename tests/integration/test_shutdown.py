"""Graceful shutdown on SIGTERM: readiness drops, listeners close, in-flight requests finish,
idle connections do not hold the drain, drain_timeout bounds it, and the exit code is 0.

Each test starts its own gateway, since each ends it."""

import concurrent.futures
import http.client
import signal
import socket
import time
import unittest

import harness

CONFIG = "workers: 2\n" + harness.LOOPBACK + """\
limits:
  drain_timeout: @drain@
upstreams:
  - name: demo
    endpoints: [ { address: "127.0.0.1:@a@" } ]
  - name: hole
    endpoints: [ { address: "127.0.0.1:@hole@" } ]
    connect_timeout: 20s
routes:
  - name: hole-short
    match: { path_prefix: /hole/short }
    upstream: hole
    timeout: 500ms
  - name: hole
    match: { path_prefix: /hole }
    upstream: hole
  - name: all
    match: { path_prefix: / }
    upstream: demo
"""


def refuses_connections(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except (ConnectionRefusedError, ConnectionResetError):
        return True
    except OSError:
        return False
    return False


def admin_status(gw, path):
    """Status of an admin GET, or None once the admin listener is gone."""
    try:
        return gw.admin(path, timeout=2).status
    except (OSError, http.client.HTTPException):
        return None


class ShutdownTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        harness.require_binaries()
        cls.demo = harness.Demo("a")
        cls.addClassCleanup(cls.demo.stop)
        cls.hole_port = cls.connect_black_hole()

    @classmethod
    def connect_black_hole(cls):
        """A port whose connects hang: a listener that never accepts, with its accept queue
        filled, so the kernel drops further SYNs. Returns the port."""
        hole = socket.socket()
        cls.addClassCleanup(hole.close)
        hole.bind(("127.0.0.1", 0))
        hole.listen(0)
        port = hole.getsockname()[1]
        for _ in range(3):
            filler = socket.socket()
            cls.addClassCleanup(filler.close)
            filler.setblocking(False)
            filler.connect_ex(("127.0.0.1", port))
        return port

    def start(self, drain):
        gw = harness.Gateway(harness.fill(CONFIG, a=self.demo.port, drain=drain,
                                          hole=self.hole_port))
        self.addCleanup(gw.stop)
        return gw

    def in_flight(self, gw, pool, path):
        """Starts a request and returns its future once the upstream is working on it."""
        future = pool.submit(gw.request, "GET", path)

        def active():
            doc = gw.admin("/upstreams").json()
            return sum(ep["active_requests"] for u in doc["upstreams"] for ep in u["endpoints"])
        self.assertTrue(harness.wait_until(lambda: active() >= 1 or future.done()))
        self.assertFalse(future.done(), "the slow request finished before the test could act")
        return future

    def test_sigterm_drains_in_flight_request_then_exits_zero(self):
        gw = self.start("5s")
        port = gw.port
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            pending = self.in_flight(gw, pool, "/drain?delay=800")
            gw.signal(signal.SIGTERM)

            # Readiness must drop while the admin listener still answers.
            saw_503 = harness.wait_until(lambda: admin_status(gw, "/ready") == 503, timeout=5)
            self.assertTrue(saw_503, "/ready never answered 503 during the drain")
            self.assertEqual(admin_status(gw, "/live"), 200)

            # The public listener closes while the drain is still under way.
            self.assertTrue(harness.wait_until(lambda: refuses_connections(port), timeout=5),
                            "new connections still accepted during the drain")
            self.assertFalse(pending.done(), "listener still open when the request finished")

            r = pending.result(timeout=10)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json()["target"], "/drain?delay=800")
        # A keep-alive client learns the connection ends, so it does not send another request
        # into a closing socket.
        self.assertEqual(r.header("connection"), "close")
        code = gw.wait(harness.STOP_TIMEOUT)
        self.assertEqual(code, 0, gw.output_tail())
        self.assertTrue(refuses_connections(port))

    def test_idle_keep_alive_connection_does_not_hold_the_drain(self):
        gw = self.start("10s")
        with gw.raw() as c:
            c.send(harness.request_bytes("GET", "/idle"))
            self.assertEqual(c.read_response().status, 200)
            t0 = time.monotonic()
            gw.signal(signal.SIGTERM)
            self.assertTrue(c.closed_within(5.0), "idle connection kept open during drain")
        code = gw.wait(5.0)
        self.assertLess(time.monotonic() - t0, 5.0)
        self.assertEqual(code, 0, gw.output_tail())

    def test_drain_timeout_bounds_shutdown(self):
        gw = self.start("500ms")
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            pending = self.in_flight(gw, pool, "/stuck?delay=8000")
            t0 = time.monotonic()
            gw.signal(signal.SIGTERM)
            code = gw.wait(5.0)
            elapsed = time.monotonic() - t0
            self.assertIsNotNone(code, "still running long after drain_timeout")
            self.assertLess(elapsed, 4.0)
            self.assertEqual(code, 0, gw.output_tail())
            # The request still under way is ended with a 503 that says why, and logged.
            r = pending.result(timeout=5)
        self.assertEqual(r.status, 503, r)
        self.assertEqual(r.header("connection"), "close")
        self.assertEqual(r.json()["detail"], "the gateway is shutting down")
        line = gw.wait_access(lambda rec: rec["path"] == "/stuck")
        self.assertEqual((line["status"], line["reason"]), (503, "draining"))

    def test_drain_timeout_ends_a_request_still_connecting(self):
        gw = self.start("500ms")
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            pending = self.in_flight(gw, pool, "/hole/connecting")
            t0 = time.monotonic()
            gw.signal(signal.SIGTERM)
            r = pending.result(timeout=10)
            elapsed = time.monotonic() - t0
            self.assertEqual(gw.wait(5.0), 0, gw.output_tail())
        self.assertEqual(r.status, 503, r)
        self.assertLess(elapsed, 4.0)
        line = gw.wait_access(lambda rec: rec["path"] == "/hole/connecting")
        self.assertEqual((line["status"], line["reason"]), (503, "draining"))

    def test_route_timeout_bounds_the_connect(self):
        gw = self.start("5s")
        t0 = time.monotonic()
        r = gw.request("GET", "/hole/short")
        elapsed = time.monotonic() - t0
        self.assertEqual(r.status, 504, r)
        self.assertGreaterEqual(elapsed, 0.4)
        self.assertLess(elapsed, 3.0, "the connect ran past the route's timeout")
        line = gw.wait_access_for(r.header("x-request-id"))
        self.assertEqual(line["reason"], "upstream_timeout")
        gw.stop_and_check()

    def test_sigint_also_exits_cleanly(self):
        gw = self.start("5s")
        self.assertEqual(gw.request("GET", "/before").status, 200)
        gw.signal(signal.SIGINT)
        self.assertEqual(gw.wait(harness.STOP_TIMEOUT), 0, gw.output_tail())

    def test_sighup_is_ignored_with_a_warning(self):
        gw = self.start("5s")
        gw.signal(signal.SIGHUP)
        warned = gw.stderr.wait_for(lambda l: "SIGHUP ignored" in l, harness.IO_TIMEOUT)
        self.assertIsNotNone(warned, gw.output_tail())
        self.assertEqual(gw.request("GET", "/after-hup").status, 200)
        gw.stop_and_check()


if __name__ == "__main__":
    unittest.main()
