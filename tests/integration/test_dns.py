"""Endpoints given as DNS names: resolved at load and re-resolved every dns_refresh, so traffic
follows the name when its address changes, and a name that stops resolving keeps the last good
addresses.

The gateway runs in a private mount namespace whose /etc/hosts is a file of the test's, so the
test changes what the name resolves to without touching the machine (glibc reads /etc/hosts on
every lookup)."""

import os
import shutil
import subprocess
import tempfile
import unittest

import harness

NAME = "users.basalt.test"

CONFIG = "workers: 2\n" + harness.LOOPBACK + """\
upstreams:
  - name: users
    endpoints: [ { address: "@name@:@port@" } ]
    dns_refresh: 100ms
    pool: { idle_timeout: 100ms }
routes:
  - name: users
    match: { path_prefix: / }
    upstream: users
"""

# Runs the gateway with /etc/hosts replaced by $1, in a mount namespace of its own.
WRAPPER_SCRIPT = 'mount --bind "$1" /etc/hosts && shift && exec "$@"'


def namespaces_work():
    """True when this machine lets the tests make a mount namespace and bind-mount a file."""
    try:
        p = subprocess.run(["unshare", "--mount", "sh", "-c",
                            "mount --bind /etc/hostname /etc/hosts"],
                           capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return p.returncode == 0


class DnsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        harness.require_binaries()
        if not namespaces_work():
            raise unittest.SkipTest("cannot create a mount namespace here (needs root)")
        cls.dir = tempfile.mkdtemp(prefix="basalt-dns-")
        cls.addClassCleanup(shutil.rmtree, cls.dir, True)
        # Two demos on one port at two loopback addresses: the name picks which one serves.
        cls.a = harness.Demo("a", listen="127.0.0.2:0")
        cls.addClassCleanup(cls.a.stop)
        cls.b = harness.Demo("b", listen=f"127.0.0.3:{cls.a.port}")
        cls.addClassCleanup(cls.b.stop)
        cls.hosts = os.path.join(cls.dir, "hosts")
        cls.point_name_at("127.0.0.2")
        wrapper = ["unshare", "--mount", "sh", "-c", WRAPPER_SCRIPT, "sh", cls.hosts]
        cls.gw = harness.Gateway(harness.fill(CONFIG, name=NAME, port=cls.a.port),
                                 wrapper=wrapper)
        cls.addClassCleanup(cls.gw.stop_and_check)

    @classmethod
    def point_name_at(cls, address):
        """Rewrites the hosts file in place (the bind mount follows the inode)."""
        with open(cls.hosts, "w", encoding="utf-8") as f:
            f.write("127.0.0.1 localhost\n")
            if address:
                f.write(f"{address} {NAME}\n")

    def served_by(self):
        r = self.gw.request("GET", "/who")
        self.assertEqual(r.status, 200, r)
        return r.header("x-demo-service")

    def resolved(self):
        doc = self.gw.admin("/upstreams").json()
        (users,) = doc["upstreams"]
        return [ep["resolved"] for ep in users["endpoints"]]

    def test_traffic_follows_the_name_and_survives_a_lookup_failure(self):
        # One test, in order: each step starts from the state the previous one left.
        self.assertEqual(self.served_by(), "a")
        self.assertEqual(self.resolved(), [f"127.0.0.2:{self.a.port}"])
        self.assertEqual(self.gw.admin("/upstreams").json()["upstreams"][0]["endpoints"][0]
                         ["address"], f"{NAME}:{self.a.port}")

        self.point_name_at("127.0.0.3")
        moved = harness.wait_until(lambda: self.resolved() == [f"127.0.0.3:{self.a.port}"])
        self.assertTrue(moved, self.resolved())
        # Pooled connections to the old address may serve a request or two until they idle out.
        self.assertTrue(harness.wait_until(lambda: self.served_by() == "b"))
        self.assertTrue(any(r.get("msg") == "endpoints changed" for r in self.gw.app_records()))

        self.point_name_at(None)  # the name no longer resolves
        self.assertTrue(harness.wait_until(
            lambda: any(r.get("msg") == "resolution failed" for r in self.gw.app_records())))
        self.assertEqual(self.resolved(), [f"127.0.0.3:{self.a.port}"])
        self.assertEqual(self.served_by(), "b")


if __name__ == "__main__":
    unittest.main()
