"""The admin listener off loopback: refused without a token, and with one every endpoint but the
probes answers 401 unless the request carries the bearer token."""

import os
import tempfile
import unittest

import harness

TOKEN = "s3cret-admin-token-0123456789"

# The admin listener binds every address, so the config must carry a token.
CONFIG = """\
listeners:
  - name: public
    address: 127.0.0.1:0
admin:
  address: 0.0.0.0:0
  token: ${ADMIN_TOKEN}
access_log: { path: stdout }
routes:
  - name: ping
    match: { path: /ping }
    direct_response: { status: 200, body: "pong" }
"""

EXPOSED_WITHOUT_TOKEN = """\
listeners:
  - name: public
    address: 127.0.0.1:0
admin:
  address: 0.0.0.0:9901
routes: []
"""
EXPOSED_LINE, EXPOSED_COL = 5, 12


def admin_get(gw, path, authorization=None):
    headers = {"Authorization": authorization} if authorization else {}
    return harness.http_request(gw.admin_port, "GET", path, headers=headers)


class AdminTokenTest(harness.GatewayCase):
    CONFIG = CONFIG
    ENV = {"ADMIN_TOKEN": TOKEN}

    def test_probes_need_no_token(self):
        self.assertEqual(admin_get(self.gw, "/live").status, 200)
        self.assertEqual(admin_get(self.gw, "/ready").status, 200)

    def test_head_gets_the_length_and_no_body_on_a_keep_alive_connection(self):
        with harness.RawConn(self.gw.admin_port) as c:
            c.send(b"HEAD /live HTTP/1.1\r\nHost: a\r\n\r\nGET /live HTTP/1.1\r\nHost: a\r\n\r\n")
            head = c.read_response(method="HEAD")
            self.assertEqual(head.status, 200)
            self.assertEqual(head.header("content-length"), "5")
            get = c.read_response()
            self.assertEqual((get.status, get.body), (200, b"live\n"))

    def test_other_endpoints_need_the_token(self):
        for path in ("/metrics", "/config", "/upstreams", "/", "/metrics?x=1"):
            with self.subTest(path=path):
                r = admin_get(self.gw, path)
                self.assertEqual(r.status, 401)
                self.assertTrue(r.header("www-authenticate").startswith("Bearer"))
                self.assertEqual(admin_get(self.gw, path, "Bearer " + TOKEN).status, 200)

    def test_wrong_or_malformed_credentials_are_refused(self):
        for auth in ("Bearer " + TOKEN[:-1], "Bearer " + TOKEN + "x", "Bearer", "Bearer ",
                     "Basic " + TOKEN, TOKEN, "bearer  " + TOKEN):
            with self.subTest(auth=auth):
                self.assertEqual(admin_get(self.gw, "/metrics", auth).status, 401)

    def test_scheme_is_case_insensitive(self):
        self.assertEqual(admin_get(self.gw, "/metrics", "bearer " + TOKEN).status, 200)

    def test_config_never_shows_the_token(self):
        r = admin_get(self.gw, "/config", "Bearer " + TOKEN)
        self.assertEqual(r.status, 200)
        self.assertNotIn(TOKEN, r.text())
        self.assertEqual(r.json()["admin"]["token"], "<redacted>")


class AdminExposureCheckTest(unittest.TestCase):
    def setUp(self):
        harness.require_binaries()

    def check(self, text, env=None):
        """`basalt check` on text; (the file's path, the CompletedProcess)."""
        with tempfile.TemporaryDirectory(prefix="basalt-admin-") as d:
            path = os.path.join(d, "basalt.yaml")
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
            return path, harness.run_cli("check", path, env=env)

    def test_exposed_admin_without_token_is_refused_with_position(self):
        path, p = self.check(EXPOSED_WITHOUT_TOKEN)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn(f"{path}:{EXPOSED_LINE}:{EXPOSED_COL}: admin address '0.0.0.0:9901' is "
                      "not loopback", p.stderr)
        self.assertIn("admin.token", p.stderr)

    def test_loopback_admin_needs_no_token(self):
        for address in ("127.0.0.1:9901", "127.0.0.2:9901", "localhost:9901", "\"[::1]:9901\""):
            with self.subTest(address=address):
                text = EXPOSED_WITHOUT_TOKEN.replace("0.0.0.0:9901", address)
                _, p = self.check(text)
                self.assertEqual(p.returncode, 0, p.stderr)

    def test_short_token_is_refused(self):
        text = EXPOSED_WITHOUT_TOKEN.replace("  address: 0.0.0.0:9901\n",
                                             "  address: 0.0.0.0:9901\n  token: short\n")
        _, p = self.check(text)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("at least 16 characters", p.stderr)

    def test_token_from_the_environment_satisfies_the_check(self):
        text = EXPOSED_WITHOUT_TOKEN.replace("  address: 0.0.0.0:9901\n",
                                             "  address: 0.0.0.0:9901\n  token: ${T}\n")
        _, p = self.check(text, {"T": TOKEN})
        self.assertEqual(p.returncode, 0, p.stderr)


if __name__ == "__main__":
    unittest.main()
