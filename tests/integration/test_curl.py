"""End to end with a real, independent client: curl against the gateway and a demo upstream."""

import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest

import harness

CONFIG = harness.LOOPBACK + """\
upstreams:
  - name: demo
    endpoints: [ { address: "127.0.0.1:@a@" } ]
routes:
  - name: all
    match: { path_prefix: / }
    upstream: demo
"""

UPLOAD_BYTES = 2 * 1024 * 1024


class CurlTest(harness.GatewayCase):
    DEMOS = ("a",)
    CONFIG = CONFIG

    @classmethod
    def setUpClass(cls):
        cls.curl = shutil.which("curl")
        if not cls.curl:
            raise RuntimeError("curl is missing: run scripts/install-deps.sh")
        super().setUpClass()
        cls.dir = tempfile.mkdtemp(prefix="basalt-curl-")
        cls.addClassCleanup(shutil.rmtree, cls.dir, True)
        cls.upload = os.path.join(cls.dir, "upload.bin")
        with open(cls.upload, "wb") as f:
            f.write(bytes(range(256)) * (UPLOAD_BYTES // 256))

    def url(self, path):
        return f"http://127.0.0.1:{self.gw.port}{path}"

    def curl_run(self, *args):
        p = subprocess.run([self.curl, "-sS", "--http1.1", "--max-time", "30", *args],
                           capture_output=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr.decode(errors="replace"))
        return p

    def test_get_with_include_shows_status_and_headers(self):
        out = self.curl_run("-i", self.url("/curl/get?x=1")).stdout.decode()
        head, _, body = out.partition("\r\n\r\n")
        self.assertTrue(head.startswith("HTTP/1.1 200"), head)
        names = {line.split(":", 1)[0].lower() for line in head.split("\r\n")[1:]}
        self.assertIn("x-request-id", names)
        self.assertIn("content-length", names)
        self.assertEqual(json.loads(body)["target"], "/curl/get?x=1")

    def test_post_data_binary_file_of_two_mib(self):
        out = self.curl_run("--data-binary", "@" + self.upload,
                            "-H", "Content-Type: application/octet-stream",
                            self.url("/curl/upload")).stdout
        seen = json.loads(out)
        self.assertEqual(seen["method"], "POST")
        self.assertEqual(seen["body_bytes"], UPLOAD_BYTES)

    def test_chunked_upload(self):
        out = self.curl_run("--data-binary", "@" + self.upload,
                            "-H", "Transfer-Encoding: chunked",
                            self.url("/curl/chunked")).stdout
        self.assertEqual(json.loads(out)["body_bytes"], UPLOAD_BYTES)

    def test_expect_100_continue_is_answered_promptly(self):
        # curl waits up to --expect100-timeout for "100 Continue" before sending the body
        # anyway; a prompt answer shows the gateway handles Expect itself or relays it.
        t0 = time.monotonic()
        out = self.curl_run("--expect100-timeout", "8", "-H", "Expect: 100-continue",
                            "--data-binary", "@" + self.upload,
                            self.url("/curl/expect")).stdout
        elapsed = time.monotonic() - t0
        self.assertEqual(json.loads(out)["body_bytes"], UPLOAD_BYTES)
        self.assertLess(elapsed, 4.0)

    def test_keep_alive_reuse_is_visible_to_curl(self):
        p = self.curl_run("-v", self.url("/curl/one"), self.url("/curl/two"))
        self.assertIn(b"Re-using", p.stderr)
        self.assertEqual(p.stdout.count(b'"service"'), 2)

    def test_large_download(self):
        size = 3 * 1024 * 1024 + 5
        out = self.curl_run(self.url(f"/curl/dl?size={size}&chunked=1")).stdout
        self.assertEqual(len(out), size)


if __name__ == "__main__":
    unittest.main()
