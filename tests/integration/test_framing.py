"""Request framing rules of RFC 9112 at the gateway's edge.

Every ambiguous or malformed request must be answered with a 400 (501 for a transfer coding
the gateway does not implement) and the connection closed, and no complete request may reach
the upstream: the upstream here is an in-process recorder, so a smuggled request would show up
in its records. Size limits answer 431 / 413 and likewise forward nothing.
"""

import json
import unittest

import harness
from harness import request_bytes

CONFIG = "workers: 2\n" + harness.LOOPBACK + """\
limits:
  max_header_bytes: 8KiB
  max_header_count: 100
upstreams:
  - name: rec
    endpoints: [ { address: "127.0.0.1:@rec@" } ]
routes:
  - name: small
    match: { path_prefix: /small }
    max_body_bytes: 1KiB
    upstream: rec
  - name: all
    match: { path_prefix: / }
    upstream: rec
"""

SMUGGLED = b"GET /smuggled HTTP/1.1\r\nHost: test.local\r\n\r\n"


class FramingTest(harness.GatewayCase):
    CONFIG = CONFIG

    @classmethod
    def placeholders(cls):
        cls.rec = harness.RecordingUpstream()
        cls.addClassCleanup(cls.rec.stop)
        return {"rec": cls.rec.port}

    def setUp(self):
        self.mark = self.rec.mark()
        self.sentinels = 0

    def assert_nothing_reached_upstream(self):
        """No complete request since setUp reached the recorder, proven without a fixed wait.

        A sentinel request is sent on a fresh connection and waited for: anything the gateway
        forwarded before answering the bad request arrives at the recorder first.
        """
        self.sentinels += 1
        target = f"/sentinel/{self.id()}/{self.sentinels}"
        r = self.gw.request("GET", target)
        self.assertEqual(r.status, 200, r)
        self.assertTrue(self.rec.wait_for(lambda rec: rec["target"] == target, start=self.mark))
        others = [rec["target"] for rec in self.rec.records(self.mark)
                  if not rec["target"].startswith("/sentinel/")]
        self.assertEqual(others, [], "requests reached the upstream")

    def assert_rejected(self, raw, status=400, closes=True, send_more=b""):
        """Sends raw bytes, expects one `status` problem reply, then EOF if `closes`."""
        with self.gw.raw() as c:
            c.send(raw)
            r = c.read_response()
            self.assertEqual(r.status, status, r)
            self.assertTrue((r.header("content-type") or "").startswith(
                "application/problem+json"), r)
            if send_more:
                try:
                    c.send(send_more)
                except OSError:
                    pass
            if closes:
                self.assertTrue(c.closed_within(5.0), "connection left open after the error")
        self.assert_nothing_reached_upstream()
        return r

    # -- Content-Length / Transfer-Encoding ambiguity -------------------------------------------

    def test_content_length_with_transfer_encoding_is_400(self):
        body = b"0\r\n\r\n" + SMUGGLED
        self.assert_rejected(request_bytes("POST", "/cl-te", [
            ("Content-Length", str(len(body))), ("Transfer-Encoding", "chunked")], body))

    def test_transfer_encoding_with_content_length_is_400(self):
        body = b"0\r\n\r\n" + SMUGGLED
        self.assert_rejected(request_bytes("POST", "/te-cl", [
            ("Transfer-Encoding", "chunked"), ("Content-Length", "3")], body))

    def test_two_different_content_lengths_are_400(self):
        self.assert_rejected(request_bytes("POST", "/two-cl", [
            ("Content-Length", "3"), ("Content-Length", "5")], b"abcde"))

    def test_content_length_list_of_different_values_is_400(self):
        self.assert_rejected(request_bytes("POST", "/cl-list", [("Content-Length", "1,2")],
                                           b"ab"))

    def test_transfer_encoding_on_http10_closes_after_the_message(self):
        # RFC 9112 6.1: the body is read as chunked, then the connection closes, so what
        # follows it is never read as a request.
        with self.gw.raw() as c:
            c.send(b"POST /te-10 HTTP/1.0\r\nHost: test.local\r\nConnection: keep-alive\r\n"
                   b"Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n" + SMUGGLED)
            r = c.read_response()
            self.assertEqual(r.status, 200, r)
            self.assertTrue(c.closed_within(5.0), "connection left open")
        self.assertTrue(self.rec.wait_for(lambda rec: rec["target"] == "/te-10",
                                          start=self.mark))
        self.assertNotIn("/smuggled", [rec["target"] for rec in self.rec.records(self.mark)])

    def test_malformed_content_length_values_are_400(self):
        for value in ("+5", "-1", "0x10", "5 5", "", "99999999999999999999999"):
            with self.subTest(value=value):
                self.assert_rejected(request_bytes("POST", "/cl-bad",
                                                   [("Content-Length", value)], b"hello"))

    def test_unknown_transfer_coding_is_501(self):
        self.assert_rejected(request_bytes("POST", "/te-gzip", [("Transfer-Encoding", "gzip")],
                                           b"\x1f\x8b" + SMUGGLED), status=501)

    def test_chunked_not_final_is_400(self):
        self.assert_rejected(request_bytes("POST", "/te-not-final", [
            ("Transfer-Encoding", "chunked, gzip")], b"0\r\n\r\n" + SMUGGLED))

    def test_chunked_twice_is_400(self):
        self.assert_rejected(request_bytes("POST", "/te-twice", [
            ("Transfer-Encoding", "chunked"), ("Transfer-Encoding", "chunked")],
            b"0\r\n\r\n" + SMUGGLED))

    # -- chunked body syntax ----------------------------------------------------------------

    def test_bad_chunk_size_is_400(self):
        for size_line in (b"zz", b"-5", b"0x5", b"fffffffffffffffffffff", b""):
            with self.subTest(size_line=size_line):
                self.assert_rejected(request_bytes("POST", "/chunk-size", [
                    ("Transfer-Encoding", "chunked")],
                    size_line + b"\r\nhello\r\n0\r\n\r\n" + SMUGGLED))

    def test_bad_chunk_extension_is_400(self):
        for ext in (b";@bad", b';x="unterminated', b";=v", b";\x01"):
            with self.subTest(ext=ext):
                self.assert_rejected(request_bytes("POST", "/chunk-ext", [
                    ("Transfer-Encoding", "chunked")],
                    b"5" + ext + b"\r\nhello\r\n0\r\n\r\n" + SMUGGLED))

    def test_chunk_data_longer_than_its_size_is_400(self):
        self.assert_rejected(request_bytes("POST", "/chunk-long", [
            ("Transfer-Encoding", "chunked")], b"3\r\nhello\r\n0\r\n\r\n"))

    def test_valid_chunk_extension_is_accepted(self):
        with self.gw.raw() as c:
            c.send(request_bytes("POST", "/chunk-ext-ok", [("Transfer-Encoding", "chunked")],
                                 b'5;name=value;q="x y"\r\nhello\r\n0\r\n\r\n'))
            self.assertEqual(c.read_response().status, 200)
        recs = [r for r in self.rec.records(self.mark) if r["target"] == "/chunk-ext-ok"]
        self.assertEqual(len(recs), 1)
        self.assertEqual(recs[0]["body"], b"hello")

    # -- header field syntax ----------------------------------------------------------------

    def test_bare_cr_in_field_value_is_400(self):
        self.assert_rejected(request_bytes("GET", "/bare-cr", [("X-A", "a\rb")]))

    def test_nul_in_field_value_is_400(self):
        self.assert_rejected(request_bytes("GET", "/nul", [("X-A", "a\x00b")]))

    def test_whitespace_before_colon_is_400(self):
        self.assert_rejected(b"GET /ws HTTP/1.1\r\nHost: test.local\r\nX-A : v\r\n\r\n")
        self.assert_rejected(b"POST /ws HTTP/1.1\r\nHost: test.local\r\n"
                             b"Transfer-Encoding : chunked\r\nContent-Length: 5\r\n\r\nhello")

    def test_obs_fold_is_400(self):
        self.assert_rejected(b"GET /fold HTTP/1.1\r\nHost: test.local\r\nX-A: a\r\n b\r\n\r\n")

    def test_missing_host_is_400(self):
        self.assert_rejected(request_bytes("GET", "/no-host", host=None))

    def test_host_with_a_port_out_of_range_is_400(self):
        for host in ("test.local:99999", "test.local:", "test.local:123456"):
            with self.subTest(host=host):
                self.assert_rejected(request_bytes("GET", "/bad-port", host=host))

    def test_bad_ipv6_literal_or_odd_host_is_400(self):
        for host in ('[a b,c<>"]:99', "[::1]:99999", "[::1]x", "[]", "[::1", ":80", "a%00b"):
            with self.subTest(host=host):
                self.assert_rejected(request_bytes("GET", "/bad-literal", host=host))

    def test_ipv6_literal_host_is_forwarded(self):
        with self.gw.raw() as c:
            c.send(request_bytes("GET", "/v6-host", host="[::1]:8080"))
            self.assertEqual(c.read_response().status, 200)
        self.assertTrue(self.rec.wait_for(lambda rec: rec["target"] == "/v6-host",
                                          start=self.mark))

    def test_empty_host_goes_upstream_as_one_host_field(self):
        with self.gw.raw() as c:
            c.send(b"GET /empty-host HTTP/1.1\r\nHost: \r\n\r\n")
            self.assertEqual(c.read_response().status, 200)
        self.assertTrue(self.rec.wait_for(lambda rec: rec["target"] == "/empty-host",
                                          start=self.mark))
        rec = [r for r in self.rec.records(self.mark) if r["target"] == "/empty-host"][0]
        hosts = [v for k, v in rec["headers"] if k == "host"]
        self.assertEqual(hosts, [f"127.0.0.1:{self.rec.port}"])

    def test_two_hosts_are_400(self):
        self.assert_rejected(request_bytes("GET", "/two-hosts", [("Host", "other.local")]))

    # -- request targets --------------------------------------------------------------------

    def test_absolute_form_target_routes_by_path(self):
        with self.gw.raw() as c:
            c.send(request_bytes("GET", "http://test.local/abs/path?q=1"))
            self.assertEqual(c.read_response().status, 200)
        self.assertTrue(self.rec.wait_for(lambda r: r["target"] == "/abs/path?q=1",
                                          start=self.mark))

    def test_absolute_form_authority_is_the_host_the_upstream_sees(self):
        # Routing used the target's authority; a Host field saying otherwise must not reach
        # the upstream (it could pick another virtual host behind the same address).
        with self.gw.raw() as c:
            c.send(b"GET http://test.local/abs/host HTTP/1.1\r\nHost: evil.example\r\n\r\n")
            self.assertEqual(c.read_response().status, 200)
        self.assertTrue(self.rec.wait_for(lambda r: r["target"] == "/abs/host", start=self.mark))
        (rec,) = [r for r in self.rec.records(self.mark) if r["target"] == "/abs/host"]
        hosts = [v for k, v in rec["headers"] if k == "host"]
        self.assertEqual(hosts, ["test.local"])
        self.assertNotIn("evil.example", json.dumps(rec["headers"]))

    def test_absolute_form_with_empty_host_is_400(self):
        self.assert_rejected(b"GET http:///nohost HTTP/1.1\r\nHost: test.local\r\n\r\n")

    def test_asterisk_target_with_get_is_400(self):
        self.assert_rejected(request_bytes("GET", "*"))

    def test_relative_target_is_400(self):
        self.assert_rejected(request_bytes("GET", "a/b"))

    def test_fragment_in_target_is_400(self):
        self.assert_rejected(request_bytes("GET", "/frag#x"))

    def test_empty_lines_before_a_request_line_are_ignored(self):
        with self.gw.raw() as c:
            c.send(b"\r\n\r\n" + request_bytes("GET", "/after-empty-lines"))
            self.assertEqual(c.read_response().status, 200)
            # A CRLF after a request body, as some old clients send, is not a bad request.
            c.send(request_bytes("POST", "/body-then-crlf", [("Content-Length", "2")], b"ok")
                   + b"\r\n" + request_bytes("GET", "/next"))
            self.assertEqual(c.read_response().status, 200)
            self.assertEqual(c.read_response().status, 200)
        self.assertTrue(self.rec.wait_for(lambda r: r["target"] == "/next", start=self.mark))

    def test_space_inside_the_target_is_400_not_505(self):
        self.assert_rejected(b"GET /a b HTTP/1.1\r\nHost: test.local\r\n\r\n")

    def test_unsupported_http_version_is_505_and_malformed_one_400(self):
        self.assert_rejected(b"GET /v2 HTTP/2.0\r\nHost: a\r\n\r\n", status=505)
        self.assert_rejected(b"GET /v12 HTTP/1.2\r\nHost: a\r\n\r\n", status=505)
        self.assert_rejected(b"GET /vx HTTP/x.1\r\nHost: a\r\n\r\n", status=400)

    # -- limits -----------------------------------------------------------------------------

    def test_huge_header_is_431(self):
        self.assert_rejected(request_bytes("GET", "/big-header", [("X-Big", "a" * 9000)]),
                             status=431, closes=False)

    def test_more_than_max_header_count_fields_is_431(self):
        fields = [(f"X-F{i}", "1") for i in range(101)]
        self.assert_rejected(request_bytes("GET", "/many", fields), status=431, closes=False)

    def test_exactly_max_header_count_fields_is_accepted(self):
        fields = [(f"X-F{i}", "1") for i in range(99)]  # plus Host: 100 fields
        with self.gw.raw() as c:
            c.send(request_bytes("GET", "/hundred", fields))
            self.assertEqual(c.read_response().status, 200)

    def test_content_length_over_route_limit_is_413_before_the_body(self):
        # Only the head is sent: the 413 must come from the declared length alone.
        self.assert_rejected(request_bytes("POST", "/small/up-front",
                                           [("Content-Length", "2048")]),
                             status=413, closes=False)

    def test_chunked_body_going_over_route_limit_is_413(self):
        body = harness.chunked(b"z" * 1536, sizes=(512,))
        self.assert_rejected(request_bytes("POST", "/small/chunked",
                                           [("Transfer-Encoding", "chunked")], body),
                             status=413, closes=False)

    def test_trailer_section_over_the_header_limit_is_431(self):
        # The trailers count against max_header_bytes (32 KiB here), like the head.
        trailers = b"".join(b"X-T-%d: %s\r\n" % (i, b"y" * 1000) for i in range(40))
        self.assert_rejected(request_bytes("POST", "/trailers/huge",
                                           [("Transfer-Encoding", "chunked")],
                                           b"1\r\na\r\n0\r\n" + trailers + b"\r\n"),
                             status=431)

    def test_body_exactly_at_route_limit_is_accepted(self):
        with self.gw.raw() as c:
            c.send(request_bytes("POST", "/small/exact", [("Content-Length", "1024")],
                                 b"e" * 1024))
            self.assertEqual(c.read_response().status, 200)
            c.send(request_bytes("POST", "/small/exact-chunked",
                                 [("Transfer-Encoding", "chunked")],
                                 harness.chunked(b"e" * 1024, sizes=(300,))))
            self.assertEqual(c.read_response().status, 200)

    def test_error_replies_are_problem_json(self):
        r = self.assert_rejected(request_bytes("GET", "/no-host", host=None))
        problem = r.json()
        self.assertEqual(problem["status"], 400)
        self.assertEqual(problem["type"], "about:blank")
        self.assertTrue(problem.get("title"))
        self.assertRegex(problem.get("request_id", ""), harness.REQUEST_ID_RE)


if __name__ == "__main__":
    unittest.main()
