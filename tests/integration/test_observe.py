"""What operators see: Prometheus metrics after known traffic, promtool's verdict on the
exposition, access log lines per request, the admin /config (redacted), /upstreams, /live and
/ready."""

import concurrent.futures
import json
import os
import re
import shutil
import subprocess
import unittest

import harness

SECRET = "s3cr3t-value-for-redaction-test"

CONFIG = "workers: 2\n" + harness.LOOPBACK + """\
upstreams:
  - name: obsup
    endpoints: [ { address: "127.0.0.1:@a@" } ]
  - name: idle
    endpoints: [ { address: "127.0.0.1:@b@", weight: 3 } ]
    balancer: least_request
routes:
  - name: obs
    match: { path_prefix: /obs }
    upstream: obsup
    request_headers:
      set: { x-api-key: "${BASALT_IT_SECRET}" }
  - name: ping
    match: { path: /ping }
    direct_response: { status: 200, body: "pong" }
  - name: idle
    match: { path_prefix: /idle }
    upstream: idle
"""

ACCESS_KEYS = ["time", "request_id", "client", "method", "path", "route", "upstream", "endpoint",
               "status", "bytes_in", "bytes_out", "duration_ms", "upstream_ms", "reason"]
TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
LOG_TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")

REQUESTS = "basalt_requests_total"


class ObserveTest(harness.GatewayCase):
    DEMOS = ("a", "b")
    CONFIG = CONFIG
    ENV = {"BASALT_IT_SECRET": SECRET}

    def get_and_log(self, path, headers=None):
        """One request, and its access log record (which is written once it is fully counted)."""
        r = self.gw.request("GET", path, headers)
        return r, self.gw.wait_access_for(r.header("x-request-id"))

    # -- metrics ----------------------------------------------------------------------------

    def test_requests_total_counts_by_route_upstream_and_code(self):
        before = self.gw.metrics()
        for i in range(7):
            self.get_and_log(f"/obs/{i}")
        self.get_and_log("/obs/err?status=503")
        self.get_and_log("/ping")
        self.get_and_log("/nothing-here")
        after = self.gw.metrics()

        def delta(**labels):
            return after.get(REQUESTS, **labels) - before.get(REQUESTS, **labels)
        self.assertEqual(delta(route="obs", upstream="obsup", code="200"), 7)
        self.assertEqual(delta(route="obs", upstream="obsup", code="503"), 1)
        self.assertEqual(delta(route="ping", upstream="", code="200"), 1)
        self.assertEqual(delta(route="", upstream="", code="404"), 1)
        self.assertEqual(after.types.get(REQUESTS), "counter")

    def test_duration_histograms_count_each_request(self):
        before = self.gw.metrics()
        for i in range(5):
            self.get_and_log(f"/obs/h{i}")
        after = self.gw.metrics()
        for family, labels in (("basalt_request_duration_seconds", {"route": "obs"}),
                               ("basalt_upstream_duration_seconds", {"upstream": "obsup"})):
            with self.subTest(family=family):
                self.assertEqual(after.types.get(family), "histogram")
                count = after.get(family + "_count", **labels)
                self.assertEqual(count - before.get(family + "_count", **labels), 5)
                self.assertEqual(after.get(family + "_bucket", le="+Inf", **labels), count)
                self.assertGreater(after.get(family + "_sum", **labels),
                                   before.get(family + "_sum", **labels))
                buckets = sorted((float(l["le"]), v) for l, v in after.series(family + "_bucket")
                                 if all(l.get(k) == v2 for k, v2 in labels.items()))
                values = [v for _, v in buckets]
                self.assertEqual(values, sorted(values), "buckets must be cumulative")
                self.assertGreaterEqual(len(buckets), 10)

    def test_downstream_bytes_are_counted(self):
        before = self.gw.metrics()
        req = harness.request_bytes("POST", "/obs/bytes", [("Content-Length", "1000")],
                                    b"b" * 1000)
        with self.gw.raw() as c:
            c.send(req)
            r = c.read_response()
        self.gw.wait_access_for(r.header("x-request-id"))
        after = self.gw.metrics()
        received = (after.get("basalt_downstream_bytes_received_total")
                    - before.get("basalt_downstream_bytes_received_total"))
        sent = (after.get("basalt_downstream_bytes_sent_total")
                - before.get("basalt_downstream_bytes_sent_total"))
        self.assertGreaterEqual(received, len(req))
        self.assertGreaterEqual(sent, len(r.body))

    def test_active_downstream_connections_gauge_follows_open_connections(self):
        gauge = "basalt_downstream_connections_active"
        base = self.gw.metrics()
        conns = []
        try:
            for i in range(3):
                c = self.gw.raw()
                conns.append(c)
                c.send(harness.request_bytes("GET", f"/ping?c={i}"))
                self.assertEqual(c.read_response().status, 200)
            now = self.gw.metrics()
            self.assertEqual(now.get(gauge) - base.get(gauge), 3)
            self.assertGreaterEqual(now.get("basalt_downstream_connections_total")
                                    - base.get("basalt_downstream_connections_total"), 3)
        finally:
            for c in conns:
                c.close()
        self.assertTrue(harness.wait_until(
            lambda: self.gw.metrics().get(gauge) == base.get(gauge)),
            "active connections gauge did not return to its base")

    def test_build_info_and_start_time_are_exposed(self):
        m = self.gw.metrics()
        info = m.series("basalt_build_info")
        self.assertEqual(len(info), 1)
        self.assertRegex(info[0][0].get("version", ""), r"^\d+\.\d+\.\d+")
        self.assertEqual(info[0][1], 1)
        self.assertGreater(m.get("basalt_process_start_time_seconds"), 1.6e9)

    def test_access_log_drops_are_exported_even_at_zero(self):
        m = self.gw.metrics()
        self.assertTrue(m.has("basalt_access_log_dropped_lines_total"))
        self.assertEqual(m.types.get("basalt_access_log_dropped_lines_total"), "counter")
        self.assertEqual(m.get("basalt_access_log_dropped_lines_total"), 0)

    def test_promtool_accepts_the_metrics(self):
        promtool = shutil.which("promtool")
        self.assertIsNotNone(promtool, "promtool is missing: run scripts/install-deps.sh")
        self.get_and_log("/obs/promtool")
        self.get_and_log("/nothing-here")
        text = self.gw.admin("/metrics").body
        p = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True,
                           timeout=30)
        self.assertEqual(p.returncode, 0, p.stdout.decode() + p.stderr.decode())

    def test_metrics_content_type_is_prometheus_text(self):
        r = self.gw.admin("/metrics")
        self.assertTrue(r.header("content-type").startswith("text/plain"), r.headers)
        self.assertIn("version=0.0.4", r.header("content-type"))

    # -- access log -------------------------------------------------------------------------

    def test_access_log_line_describes_a_proxied_request(self):
        r, rec = self.get_and_log("/obs/line?x=1", {"x-request-id": "obs-req-1"})
        self.assertEqual(r.header("x-request-id"), "obs-req-1")
        self.assertEqual(list(rec.keys()), ACCESS_KEYS)
        self.assertRegex(rec["time"], TIME_RE)
        self.assertEqual(rec["request_id"], "obs-req-1")
        self.assertRegex(rec["client"], r"^127\.0\.0\.1:\d+$")
        self.assertEqual(rec["method"], "GET")
        self.assertIn(rec["path"], ("/obs/line", "/obs/line?x=1"))
        self.assertEqual((rec["route"], rec["upstream"]), ("obs", "obsup"))
        self.assertEqual(rec["endpoint"], self.demos["a"].address)
        self.assertEqual(rec["status"], 200)
        # bytes_* may count bodies only or whole messages; either way they stay in this range.
        self.assertLess(rec["bytes_in"], 1024)
        self.assertGreaterEqual(rec["bytes_out"], len(r.body))
        self.assertLess(rec["bytes_out"], len(r.body) + 2048)
        self.assertIsInstance(rec["duration_ms"], (int, float))
        self.assertIsInstance(rec["upstream_ms"], (int, float))
        self.assertLessEqual(rec["upstream_ms"], rec["duration_ms"])
        self.assertEqual(rec["reason"], "")

    def test_access_log_request_id_matches_generated_header(self):
        r, rec = self.get_and_log("/obs/gen")
        self.assertRegex(rec["request_id"], harness.REQUEST_ID_RE)
        self.assertEqual(rec["request_id"], r.header("x-request-id"))

    def test_access_log_counts_request_body_bytes(self):
        r = self.gw.request("POST", "/obs/body", body=b"q" * 777)
        rec = self.gw.wait_access_for(r.header("x-request-id"))
        self.assertGreaterEqual(rec["bytes_in"], 777)
        self.assertLess(rec["bytes_in"], 777 + 1024)
        self.assertEqual(rec["method"], "POST")

    def test_access_log_line_for_direct_response_has_no_upstream(self):
        _, rec = self.get_and_log("/ping")
        self.assertEqual((rec["route"], rec["upstream"], rec["endpoint"]), ("ping", "", ""))
        self.assertIsNone(rec["upstream_ms"])
        self.assertEqual(rec["status"], 200)

    def test_access_log_line_for_rejection_carries_reason(self):
        _, rec = self.get_and_log("/nothing-here")
        self.assertEqual((rec["status"], rec["reason"], rec["route"]), (404, "no_route", ""))
        self.assertIsNone(rec["upstream_ms"])

    def test_access_log_line_for_malformed_request_carries_reason(self):
        start = len(self.gw.stdout)
        with self.gw.raw() as c:
            c.send(b"GET /bad HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")
            r = c.read_response()
        self.assertEqual(r.status, 400)
        rec = self.gw.wait_access(lambda rec: rec.get("status") == 400, start=start)
        self.assertEqual(rec["reason"], "bad_request")
        self.assertEqual(rec["request_id"], r.header("x-request-id"))
        # The request line was understood before the refusal: the log says what it asked for.
        self.assertEqual((rec["method"], rec["path"]), ("GET", "/bad"))
        self.assertEqual(rec["bytes_in"], 39)  # the refused head was read whole

    def test_access_log_line_for_an_invalid_target_shows_no_path(self):
        start = len(self.gw.stdout)
        with self.gw.raw() as c:
            c.send(b"GET /a/%zz HTTP/1.1\r\nHost: test.local\r\n\r\n")
            self.assertEqual(c.read_response().status, 400)
        rec = self.gw.wait_access(lambda rec: rec.get("status") == 400, start=start)
        self.assertEqual((rec["method"], rec["path"]), ("GET", ""))

    def test_access_log_stays_valid_json_for_a_hostile_target(self):
        start = len(self.gw.stdout)
        with self.gw.raw() as c:
            c.send(b'GET /a"b\\c\x01 HTTP/1.1\r\nHost: test.local\r\n\r\n')
            self.assertEqual(c.read_response().status, 400)
        # wait_access only matches lines that parse as JSON.
        rec = self.gw.wait_access(lambda rec: rec.get("status") == 400, start=start)
        self.assertEqual(rec["reason"], "bad_request")

    # -- admin endpoints --------------------------------------------------------------------

    def test_live_and_ready_answer_200(self):
        self.assertEqual(self.gw.admin("/live").status, 200)
        self.assertEqual(self.gw.admin("/ready").status, 200)

    def test_config_redacts_substituted_values(self):
        r = self.gw.admin("/config")
        self.assertEqual(r.status, 200)
        self.assertTrue(r.header("content-type").startswith("application/json"))
        self.assertNotIn(SECRET, r.text())
        doc = r.json()
        obs = next(route for route in doc["routes"] if route["name"] == "obs")
        self.assertEqual(obs["request_headers"]["set"]["x-api-key"], "<redacted>")
        self.assertEqual(doc["listeners"][0]["name"], "public")

    def test_substituted_secret_is_used_on_the_wire(self):
        r = self.gw.request("GET", "/obs/secret")
        self.assertEqual(r.json()["headers"].get("x-api-key"), SECRET)

    def test_upstreams_lists_clusters_and_endpoints(self):
        doc = self.gw.admin("/upstreams").json()
        by_name = {u["name"]: u for u in doc["upstreams"]}
        self.assertEqual(set(by_name), {"obsup", "idle"})
        self.assertEqual(by_name["obsup"]["balancer"], "round_robin")
        self.assertEqual(by_name["idle"]["balancer"], "least_request")
        (ep,) = by_name["idle"]["endpoints"]
        self.assertEqual(ep["address"], self.demos["b"].address)
        self.assertEqual(ep["weight"], 3)
        self.assertEqual(ep["active_requests"], 0)
        self.assertIn("resolved", ep)

    def test_upstreams_shows_active_requests_while_in_flight(self):
        def endpoint_active():
            doc = self.gw.admin("/upstreams").json()
            idle = next(u for u in doc["upstreams"] if u["name"] == "idle")
            return idle["endpoints"][0]["active_requests"]

        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            pending = [pool.submit(self.gw.request, "GET", f"/idle/{i}?delay=1500")
                       for i in range(2)]
            reached = harness.wait_until(lambda: endpoint_active() == 2, timeout=1.4)
            results = [f.result() for f in pending]
        self.assertTrue(reached, "active_requests never showed the two in-flight requests")
        self.assertEqual([r.status for r in results], [200, 200])
        self.assertTrue(harness.wait_until(lambda: endpoint_active() == 0))

    def test_gateway_logs_are_json_with_component(self):
        lines = self.gw.stderr.lines()
        self.assertTrue(lines)
        for line in lines:
            rec = harness.parse_json_line(line)
            self.assertIsNotNone(rec, f"not a JSON log line: {line!r}")
            self.assertIn(rec.get("level"), ("debug", "info", "warn", "error"))
            self.assertTrue(rec.get("component"))
            self.assertRegex(rec.get("time", ""), LOG_TIME_RE)
        recs = self.gw.app_records()
        listening = [r for r in recs if r.get("msg") == "listening"]
        self.assertEqual({r["component"] for r in listening}, {"listener", "admin"})


if __name__ == "__main__":
    unittest.main()
