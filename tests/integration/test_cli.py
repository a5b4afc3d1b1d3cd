"""The command line: `basalt check` verdicts and FILE:LINE:COLUMN diagnostics, `version`,
`--help`, and `basalt run` refusing to start on a bad file or an unusable address."""

import glob
import os
import re
import shutil
import socket
import tempfile
import unittest

import harness

DIAG_RE = re.compile(r"^(?P<file>.+?):(?P<line>\d+):(?P<col>\d+): (?P<msg>.+)$")

# Line numbers below are 1-based positions in these texts; keep them in step when editing.
UNKNOWN_KEY_AND_UPSTREAM = """\
listeners:
  - name: public
    address: 127.0.0.1:0
upstreams:
  - name: users
    endpoints: [ { address: 127.0.0.1:9001 } ]
routes:
  - name: users-api
    match: { path_prefix: /users }
    upstream: users
    colour: blue
  - name: orders
    match: { path_prefix: /orders }
    upstream: orders
"""
UNKNOWN_KEY_LINE, UNKNOWN_KEY_COL = 11, 5
UNKNOWN_UPSTREAM_LINE = 14

SHADOWED_ROUTE = """\
listeners:
  - name: public
    address: 127.0.0.1:0
upstreams:
  - name: users
    endpoints: [ { address: 127.0.0.1:9001 } ]
routes:
  - name: everything-under-api
    match: { path_prefix: /api }
    upstream: users
  - name: never-reached
    match: { path_prefix: /api/users }
    upstream: users
"""
SHADOWED_FIRST_LINE, SHADOWED_LAST_LINE = 11, 13

SYNTAX_ERROR = """\
listeners:
  - name: public
    address: [127.0.0.1:0
routes: []
"""

VALID = """\
listeners:
  - name: public
    address: 127.0.0.1:0
admin:
  enabled: false
access_log: { path: stdout }
routes:
  - name: ping
    match: { path: /ping }
    direct_response: { status: 200, body: "pong" }
"""


def run(*args, timeout=30):
    return harness.run_cli(*args, timeout=timeout)


class CliTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        harness.require_binaries()
        cls.dir = tempfile.mkdtemp(prefix="basalt-cli-")
        cls.addClassCleanup(shutil.rmtree, cls.dir, True)

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def diagnostics(self, stderr):
        """Every FILE:LINE:COLUMN: message line, parsed."""
        return [m.groupdict() for m in map(DIAG_RE.match, stderr.splitlines()) if m]

    def test_check_accepts_a_valid_file(self):
        p = run("check", self.write("valid.yaml", VALID))
        self.assertEqual(p.returncode, 0, p.stderr)

    def test_check_accepts_every_shipped_example(self):
        examples = sorted(glob.glob(os.path.join(harness.source_dir(), "examples", "*.yaml")))
        self.assertTrue(examples, "no examples/*.yaml (BASALT_SOURCE_DIR unset?)")
        for path in examples:
            with self.subTest(example=os.path.basename(path)):
                p = run("check", path)
                self.assertEqual(p.returncode, 0, p.stderr)

    def test_check_reports_unknown_key_and_unknown_upstream_with_positions(self):
        path = self.write("bad.yaml", UNKNOWN_KEY_AND_UPSTREAM)
        p = run("check", path)
        self.assertEqual(p.returncode, 1, p.stderr)
        diags = self.diagnostics(p.stderr)
        self.assertEqual(len(diags), 2, p.stderr)
        for d in diags:
            self.assertEqual(d["file"], path)
        unknown_key, unknown_upstream = diags
        self.assertEqual((int(unknown_key["line"]), int(unknown_key["col"])),
                         (UNKNOWN_KEY_LINE, UNKNOWN_KEY_COL))
        self.assertIn("colour", unknown_key["msg"])
        self.assertEqual(int(unknown_upstream["line"]), UNKNOWN_UPSTREAM_LINE)
        self.assertGreater(int(unknown_upstream["col"]), 0)
        self.assertIn("orders", unknown_upstream["msg"])

    def test_check_reports_shadowed_route(self):
        path = self.write("shadow.yaml", SHADOWED_ROUTE)
        p = run("check", path)
        self.assertEqual(p.returncode, 1, p.stderr)
        diags = self.diagnostics(p.stderr)
        self.assertEqual(len(diags), 1, p.stderr)
        self.assertEqual(diags[0]["file"], path)
        self.assertTrue(SHADOWED_FIRST_LINE <= int(diags[0]["line"]) <= SHADOWED_LAST_LINE,
                        p.stderr)
        self.assertIn("never-reached", diags[0]["msg"])

    def test_check_reports_yaml_syntax_error_with_position(self):
        path = self.write("syntax.yaml", SYNTAX_ERROR)
        p = run("check", path)
        self.assertEqual(p.returncode, 1, p.stderr)
        diags = self.diagnostics(p.stderr)
        self.assertTrue(diags, p.stderr)
        self.assertEqual(diags[0]["file"], path)

    def test_check_reports_missing_file(self):
        path = os.path.join(self.dir, "does-not-exist.yaml")
        p = run("check", path)
        self.assertEqual(p.returncode, 1)
        self.assertIn(path, p.stderr)

    def test_version_prints_semver(self):
        p = run("version")
        self.assertEqual(p.returncode, 0, p.stderr)
        m = re.match(r"^basalt (\d+\.\d+\.\d+)\s*$", p.stdout)
        self.assertTrue(m, p.stdout)
        cmake = os.path.join(harness.source_dir(), "CMakeLists.txt")
        if os.path.exists(cmake):
            with open(cmake, encoding="utf-8") as f:
                declared = re.search(r"project\(basalt VERSION (\d+\.\d+\.\d+)", f.read())
            if declared:
                self.assertEqual(m.group(1), declared.group(1))

    def test_help_works_for_every_subcommand(self):
        for args in (["--help"], ["run", "--help"], ["check", "--help"], ["version", "--help"]):
            with self.subTest(args=args):
                p = run(*args)
                self.assertEqual(p.returncode, 0, p.stderr)
                self.assertTrue((p.stdout + p.stderr).strip())

    def test_unknown_subcommand_fails(self):
        p = run("frobnicate")
        self.assertNotEqual(p.returncode, 0)
        self.assertTrue(p.stderr.strip())

    def test_run_refuses_bad_file_and_names_the_error(self):
        path = self.write("run-bad.yaml", UNKNOWN_KEY_AND_UPSTREAM)
        p = run("run", "-c", path)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("colour", p.stderr)
        self.assertIn(f"{UNKNOWN_KEY_LINE}:{UNKNOWN_KEY_COL}", p.stderr)

    def test_run_refuses_address_already_in_use(self):
        with socket.socket() as busy:
            busy.bind(("127.0.0.1", 0))
            busy.listen(1)
            port = busy.getsockname()[1]
            config = VALID.replace("127.0.0.1:0", f"127.0.0.1:{port}")
            p = run("run", "-c", self.write("busy.yaml", config))
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(str(port), p.stderr)

    def test_startup_failure_reaches_stderr_when_the_log_goes_to_a_file(self):
        log_path = os.path.join(self.dir, "app.log")
        with socket.socket() as busy:
            busy.bind(("127.0.0.1", 0))
            busy.listen(1)
            port = busy.getsockname()[1]
            config = VALID.replace("127.0.0.1:0", f"127.0.0.1:{port}") + \
                f"log: {{ path: {log_path} }}\n"
            p = run("run", "-c", self.write("busy-logfile.yaml", config))
        self.assertEqual(p.returncode, 1)
        self.assertIn(f"127.0.0.1:{port}: address already in use", p.stderr)
        with open(log_path, encoding="utf-8") as f:
            self.assertIn("address already in use", f.read())

    def test_stray_arguments_are_refused_with_a_message(self):
        for args, says in ((["check", "--bogus"], "unknown option '--bogus'"),
                           (["check", "a.yaml", "b.yaml"], "expected one FILE, got 2"),
                           (["version", "--x"], "unexpected argument '--x'")):
            with self.subTest(args=args):
                p = run(*args)
                self.assertEqual(p.returncode, 2)
                self.assertIn(says, p.stderr)

    def test_second_gateway_on_a_port_in_use_refuses_to_start(self):
        # SO_REUSEPORT would let a second process share the port and take half the traffic.
        first = harness.Gateway(VALID)
        self.addCleanup(first.stop_and_check)
        config = VALID.replace("127.0.0.1:0", f"127.0.0.1:{first.port}")
        p = run("run", "-c", self.write("second.yaml", config))
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn(f"127.0.0.1:{first.port}: address already in use", p.stderr)
        self.assertEqual(first.request("GET", "/ping").status, 200)


if __name__ == "__main__":
    unittest.main()
