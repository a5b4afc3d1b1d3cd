"""Black-box harness for basalt's integration tests: real binaries, port 0, no sleeps.

Starts the gateway (BASALT_BIN) and demo upstreams (BASALT_DEMO) as child processes, learns
their ports from the lines they print, and gives tests small clients: an http.client wrapper,
a raw-socket connection for malformed traffic, a Prometheus text parser and in-process fake
upstreams (one that records every complete request, one that answers garbage).

Every wait in here is bounded and blocks on something that can wake it (a pipe reader's
condition variable, a socket read, an event); nothing waits a fixed time and hopes.

    class EchoTest(harness.GatewayCase):
        DEMOS = ("a",)
        CONFIG = '''
    listeners: [ { name: public, address: 127.0.0.1:0 } ]
    admin: { address: 127.0.0.1:0 }
    access_log: { path: stdout }
    upstreams: [ { name: a, endpoints: [ { address: "127.0.0.1:@a@" } ] } ]
    routes: [ { name: all, match: { path_prefix: / }, upstream: a } ]
    '''
        def test_get_is_proxied(self):
            r = self.gw.request("GET", "/x")
            self.assertEqual(r.status, 200)
            self.assertEqual(r.json()["target"], "/x")
"""

import http.client
import json
import os
import re
import shutil
import signal
import socket
import socketserver
import subprocess
import tempfile
import threading
import time
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Bounds for waits that should finish almost at once on a healthy build; generous because the
# sanitizer build runs the same suite several times slower on a shared 2-core machine.
START_TIMEOUT = 20.0
IO_TIMEOUT = 10.0
STOP_TIMEOUT = 20.0

# The start of every test config: one public listener and the admin listener on free loopback
# ports, the access log on stdout (where Gateway collects it).
LOOPBACK = """\
listeners:
  - name: public
    address: 127.0.0.1:0
admin:
  address: 127.0.0.1:0
access_log: { path: stdout }
"""

REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def gateway_binary():
    return os.environ.get("BASALT_BIN", "")


def demo_binary():
    return os.environ.get("BASALT_DEMO", "")


def source_dir():
    return os.environ.get("BASALT_SOURCE_DIR", "")


def require_binaries():
    """Skips the calling test class unless both binaries were given (ctest always gives them)."""
    for var, path in (("BASALT_BIN", gateway_binary()), ("BASALT_DEMO", demo_binary())):
        if not path or not os.access(path, os.X_OK):
            raise unittest.SkipTest(f"{var} does not name an executable (got {path!r})")


def run_cli(*args, env=None, timeout=30):
    """`basalt ARGS...` to completion; the CompletedProcess with text stdout and stderr."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run([gateway_binary(), *args], capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL, env=full_env)


def fill(template, **values):
    """Replaces each @name@ in template by str(value); braces stay free for YAML flow maps."""
    text = template
    for name, value in values.items():
        text = text.replace(f"@{name}@", str(value))
    leftover = re.search(r"@[A-Za-z0-9_-]+@", text)
    if leftover:
        raise ValueError(f"unfilled placeholder {leftover.group(0)} in config template")
    return text


def free_port():
    """A loopback port that nothing listens on right now (for 'connection refused' upstreams)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout=IO_TIMEOUT, interval=0.02):
    """Re-evaluates predicate until it returns a truthy value or timeout passes.

    For state that announces nothing when it changes (counters behind /metrics). Returns the last
    value, so callers can assert on it and show it.
    """
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    value = predicate()
    while not value and time.monotonic() < deadline:
        pause.wait(interval)
        value = predicate()
    return value


# ---------------------------------------------------------------------------------------------
# Child processes and their output


class LineStream:
    """Lines read from one pipe by a reader thread, kept in order and waitable."""

    def __init__(self, pipe, name):
        self.name = name
        self._lines = []
        self._closed = False
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._pump, args=(pipe,), daemon=True)
        self._thread.start()

    def _pump(self, pipe):
        for raw in iter(pipe.readline, b""):
            with self._cond:
                self._lines.append(raw.decode("utf-8", "replace").rstrip("\r\n"))
                self._cond.notify_all()
        pipe.close()
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def lines(self):
        with self._cond:
            return list(self._lines)

    def __len__(self):
        with self._cond:
            return len(self._lines)

    def wait_for(self, predicate, timeout=IO_TIMEOUT, start=0):
        """First (index, line) at index >= start with predicate(line) true, or None.

        Returns None early when the pipe closed (the process exited) without a match.
        """
        deadline = time.monotonic() + timeout
        with self._cond:
            i = start
            while True:
                while i < len(self._lines):
                    if predicate(self._lines[i]):
                        return i, self._lines[i]
                    i += 1
                remaining = deadline - time.monotonic()
                if self._closed or remaining <= 0:
                    return None
                self._cond.wait(remaining)

    def join(self, timeout=IO_TIMEOUT):
        self._thread.join(timeout)


def parse_json_line(line):
    """The JSON object on a log line, or None for anything else."""
    try:
        value = json.loads(line)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


class Process:
    """A child process whose stdout and stderr are collected line by line."""

    def __init__(self, argv, env=None, cwd=None):
        self.argv = list(argv)
        full_env = dict(os.environ)
        full_env.update(env or {})
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=full_env, cwd=cwd)
        self.stdout = LineStream(self.proc.stdout, "stdout")
        self.stderr = LineStream(self.proc.stderr, "stderr")

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc.poll() is None

    def signal(self, sig):
        if self.alive():
            self.proc.send_signal(sig)

    def wait(self, timeout):
        """Exit code, or None if still running after timeout."""
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, timeout=STOP_TIMEOUT):
        """SIGTERM, wait up to timeout, then SIGKILL. Returns (exit code, killed)."""
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
        code = self.wait(timeout)
        killed = code is None
        if killed:
            self.proc.kill()
            code = self.proc.wait()
        self.stdout.join()
        self.stderr.join()
        return code, killed

    def output_tail(self, n=40):
        out = "\n".join(self.stdout.lines()[-n:])
        err = "\n".join(self.stderr.lines()[-n:])
        return f"--- {self.argv[0]} stdout (tail) ---\n{out}\n--- stderr (tail) ---\n{err}"


def split_address(address):
    host, _, port = address.rpartition(":")
    return host.strip("[]"), int(port)


class Demo(Process):
    """The demo upstream (tools/demo): `basalt-demo --listen 127.0.0.1:0 --name NAME`."""

    def __init__(self, name, listen="127.0.0.1:0"):
        super().__init__([demo_binary(), "--listen", listen, "--name", name])
        self.name = name
        found = self.stdout.wait_for(lambda l: l.startswith("listening "), START_TIMEOUT)
        if found is None:
            code, _ = super().stop(1.0)
            raise RuntimeError(f"demo {name} did not report its port (exit {code})\n"
                               + self.output_tail())
        self.host, self.port = split_address(found[1].split(" ", 1)[1].strip())

    @property
    def address(self):
        return f"{self.host}:{self.port}"


class Gateway(Process):
    """A running `basalt run -c FILE`, started from YAML text written to a temp dir.

    Waits for the "ready" log line and learns every listener's port and the admin port from
    the "listening" lines. The access log must go to stdout (`access_log: { path: stdout }`)
    for the access-log helpers to see it.
    """

    def __init__(self, config_text, env=None, wait_ready=True, wrapper=()):
        """`wrapper` is an argv prefix that execs the gateway (a namespace set-up, say)."""
        self.dir = tempfile.mkdtemp(prefix="basalt-it-")
        self.config_path = os.path.join(self.dir, "basalt.yaml")
        with open(self.config_path, "w", encoding="utf-8") as f:
            f.write(config_text)
        super().__init__([*wrapper, gateway_binary(), "run", "-c", self.config_path], env=env,
                         cwd=self.dir)
        self.listeners = {}
        self.admin_port = None
        if wait_ready:
            self.wait_ready()

    def wait_ready(self, timeout=START_TIMEOUT):
        found = self.stderr.wait_for(lambda l: _log_is(l, "gateway", "ready"), timeout)
        if found is None:
            code, _ = super().stop(2.0)
            shutil.rmtree(self.dir, ignore_errors=True)
            raise RuntimeError(f"basalt did not become ready (exit {code})\n"
                               + self.output_tail())
        for line in self.stderr.lines()[: found[0]]:
            rec = parse_json_line(line)
            if not rec or rec.get("msg") != "listening":
                continue
            if rec.get("component") == "listener":
                self.listeners[rec["listener"]] = split_address(rec["address"])[1]
            elif rec.get("component") == "admin":
                self.admin_port = split_address(rec["address"])[1]

    @property
    def port(self):
        """Port of the listener named "public", or of the only listener."""
        if "public" in self.listeners:
            return self.listeners["public"]
        (only,) = self.listeners.values()
        return only

    def stop(self, timeout=STOP_TIMEOUT):
        try:
            return super().stop(timeout)
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)

    def stop_and_check(self, testcase=None):
        """Stops with SIGTERM and raises AssertionError unless the exit was a clean 0."""
        code, killed = self.stop()
        if killed or code != 0:
            what = "had to be killed" if killed else f"exited {code}"
            raise AssertionError(f"basalt {what} after SIGTERM\n" + self.output_tail())

    # -- traffic ---------------------------------------------------------------------------

    def request(self, method, path, headers=None, body=None, port=None, timeout=IO_TIMEOUT):
        return http_request(port or self.port, method, path, headers, body, timeout)

    def raw(self, port=None, timeout=IO_TIMEOUT):
        return RawConn(port or self.port, timeout)

    def admin(self, path, timeout=IO_TIMEOUT):
        return http_request(self.admin_port, "GET", path, timeout=timeout)

    def metrics(self):
        r = self.admin("/metrics")
        if r.status != 200:
            raise AssertionError(f"/metrics answered {r.status}")
        return MetricSet(r.text())

    # -- logs --------------------------------------------------------------------------------

    def access_records(self):
        return [rec for rec in map(parse_json_line, self.stdout.lines()) if rec is not None]

    def wait_access(self, predicate, timeout=IO_TIMEOUT, start=0):
        """The first access-log record at line >= start for which predicate(record) holds."""
        def matches(line):
            rec = parse_json_line(line)
            return rec is not None and predicate(rec)
        found = self.stdout.wait_for(matches, timeout, start)
        if found is None:
            raise AssertionError("no matching access log line\n" + self.output_tail())
        return json.loads(found[1])

    def wait_access_for(self, request_id, timeout=IO_TIMEOUT):
        return self.wait_access(lambda rec: rec.get("request_id") == request_id, timeout)

    def app_records(self):
        return [rec for rec in map(parse_json_line, self.stderr.lines()) if rec is not None]


def _log_is(line, component, msg):
    rec = parse_json_line(line)
    return rec is not None and rec.get("component") == component and rec.get("msg") == msg


# ---------------------------------------------------------------------------------------------
# Clients


class Response:
    """A whole HTTP response: status, headers in order (names lower-cased), body bytes."""

    def __init__(self, status, reason, headers, body):
        self.status = status
        self.reason = reason
        self.headers = [(k.lower(), v) for k, v in headers]
        self.body = body

    def header(self, name):
        """First value of the header, or None."""
        name = name.lower()
        return next((v for k, v in self.headers if k == name), None)

    def header_all(self, name):
        name = name.lower()
        return [v for k, v in self.headers if k == name]

    def header_tokens(self, name):
        """All values of a list header, split on commas and trimmed."""
        return [t.strip() for v in self.header_all(name) for t in v.split(",") if t.strip()]

    def text(self):
        return self.body.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"<Response {self.status} {self.headers!r} body={self.body[:200]!r}>"


def http_request(port, method, path, headers=None, body=None, timeout=IO_TIMEOUT,
                 host="127.0.0.1"):
    """One request on a fresh connection through http.client.

    body may be bytes (sent with Content-Length) or an iterable of bytes chunks (sent chunked).
    """
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        return send_on(conn, method, path, headers, body)
    finally:
        conn.close()


def send_on(conn, method, path, headers=None, body=None):
    """One request on an existing http.client connection, which stays open for reuse."""
    headers = dict(headers or {})
    chunked = body is not None and not isinstance(body, (bytes, bytearray, str))
    if chunked:
        conn.request(method, path, body=body, headers=headers, encode_chunked=True)
    else:
        conn.request(method, path, body=body, headers=headers)
    resp = conn.getresponse()
    data = resp.read()
    return Response(resp.status, resp.reason, resp.getheaders(), data)


class RawConn:
    """A plain TCP connection for bytes http.client refuses to send.

    read_response() parses exactly one response (Content-Length, chunked or close-delimited
    body) and keeps any following bytes for the next call, so keep-alive and pipelining can be
    checked on one socket.
    """

    def __init__(self, port, timeout=IO_TIMEOUT, host="127.0.0.1"):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.timeout = timeout
        self.buf = b""
        self.eof = False

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, data):
        if isinstance(data, str):
            data = data.encode("latin-1")
        self.sock.sendall(data)

    def _fill(self, timeout):
        """Reads more bytes into buf. False on EOF or reset; socket.timeout propagates."""
        self.sock.settimeout(timeout)
        try:
            chunk = self.sock.recv(65536)
        except (ConnectionResetError, BrokenPipeError):
            chunk = b""
        if not chunk:
            self.eof = True
            return False
        self.buf += chunk
        return True

    def _read_until(self, marker, deadline):
        while marker not in self.buf:
            if self.eof or not self._fill(max(0.001, deadline - time.monotonic())):
                raise ConnectionError(f"connection closed before {marker!r}; got {self.buf!r}")
        i = self.buf.index(marker) + len(marker)
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def _read_exact(self, n, deadline):
        while len(self.buf) < n:
            if self.eof or not self._fill(max(0.001, deadline - time.monotonic())):
                raise ConnectionError(f"connection closed with {len(self.buf)} of {n} bytes")
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_head(self, timeout=None):
        """Status, reason and headers of the next response; the body stays unread."""
        deadline = time.monotonic() + (timeout or self.timeout)
        head = self._read_until(b"\r\n\r\n", deadline).decode("latin-1")
        lines = head.split("\r\n")
        version, status, reason = (lines[0].split(" ", 2) + [""])[:3]
        if not version.startswith("HTTP/1."):
            raise ConnectionError(f"not an HTTP/1 status line: {lines[0]!r}")
        headers = []
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                headers.append((name.strip(), value.strip()))
        return int(status), reason, headers

    def read_response(self, timeout=None, method="GET"):
        """Next complete response, skipping interim 1xx ones."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            status, reason, headers = self.read_head(deadline - time.monotonic())
            if not 100 <= status < 200:
                break
        resp = Response(status, reason, headers, b"")
        resp.body = self._read_body(resp, method, deadline)
        return resp

    def _read_body(self, resp, method, deadline):
        if method == "HEAD" or resp.status in (204, 304):
            return b""
        if "chunked" in [t.lower() for t in resp.header_tokens("transfer-encoding")]:
            body = b""
            while True:
                size_line = self._read_until(b"\r\n", deadline)
                size = int(size_line.split(b";")[0].strip(), 16)
                if size == 0:
                    while self._read_until(b"\r\n", deadline) != b"\r\n":
                        pass
                    return body
                body += self._read_exact(size, deadline)
                self._read_exact(2, deadline)
        if resp.header("content-length") is not None:
            return self._read_exact(int(resp.header("content-length")), deadline)
        while not self.eof and self._fill(max(0.001, deadline - time.monotonic())):
            pass
        body, self.buf = self.buf, b""
        return body

    def read_until_closed(self, timeout=None):
        """Reads until EOF. Returns (closed, bytes read); closed is False on timeout."""
        deadline = time.monotonic() + (timeout or self.timeout)
        try:
            while not self.eof and self._fill(max(0.001, deadline - time.monotonic())):
                if time.monotonic() > deadline:
                    break
        except socket.timeout:
            pass
        data, self.buf = self.buf, b""
        return self.eof, data

    def closed_within(self, timeout):
        """True when the peer closes within timeout; any bytes it sends meanwhile are kept."""
        closed, data = self.read_until_closed(timeout)
        self.buf = data
        return closed


def request_bytes(method, target, headers=(), body=b"", host="test.local"):
    """A request as bytes; Host first unless host is None. headers: (name, value) pairs."""
    lines = [f"{method} {target} HTTP/1.1"]
    if host is not None:
        lines.append(f"Host: {host}")
    lines += [f"{k}: {v}" for k, v in headers]
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return head + (body.encode() if isinstance(body, str) else body)


def chunked(body, sizes=(1,)):
    """body encoded as chunks whose sizes cycle through `sizes`, with the last chunk."""
    out, i, k = [], 0, 0
    while i < len(body):
        n = sizes[k % len(sizes)]
        part = body[i:i + n]
        out.append(b"%x\r\n" % len(part) + part + b"\r\n")
        i += n
        k += 1
    out.append(b"0\r\n\r\n")
    return b"".join(out)


# ---------------------------------------------------------------------------------------------
# Prometheus text


_SAMPLE_RE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+\S+)?$")
_LABEL_RE = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?')


def _unescape(value):
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), value)


class MetricSet:
    """Samples of one scrape, looked up by name and exact label set (absent series read 0)."""

    def __init__(self, text):
        self.text = text
        self.samples = {}
        self.types = {}
        for line in text.splitlines():
            if line.startswith("# TYPE "):
                _, _, name, kind = line.split(" ", 3)
                self.types[name] = kind.strip()
            if not line or line.startswith("#"):
                continue
            m = _SAMPLE_RE.match(line)
            if not m:
                raise ValueError(f"unparsable metrics line: {line!r}")
            labels = {}
            if m.group(3):
                pos = 0
                body = m.group(3)
                while pos < len(body):
                    lm = _LABEL_RE.match(body, pos)
                    if not lm:
                        raise ValueError(f"unparsable labels: {line!r}")
                    labels[lm.group(1)] = _unescape(lm.group(2))
                    pos = lm.end()
            key = (m.group(1), frozenset(labels.items()))
            self.samples[key] = float(m.group(4))

    def get(self, name, **labels):
        return self.samples.get((name, frozenset(labels.items())), 0.0)

    def has(self, name, **labels):
        return (name, frozenset(labels.items())) in self.samples

    def series(self, name):
        """[(labels dict, value)] for every sample of name."""
        return [(dict(k[1]), v) for k, v in self.samples.items() if k[0] == name]

    def total(self, name, **subset):
        """Sum over every series of name whose labels include subset."""
        return sum(v for labels, v in self.series(name)
                   if all(labels.get(k) == val for k, val in subset.items()))


# ---------------------------------------------------------------------------------------------
# In-process fake upstreams


# The recorder must accept the 100 fields the gateway lets through plus the ones it adds;
# http.server takes its field-count cap from http.client.
http.client._MAXHEADERS = max(http.client._MAXHEADERS, 1000)


class _RecordingHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            body = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return body
                body += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length", "0"))
        data = self.rfile.read(length)
        if len(data) != length:
            raise ConnectionError("request body cut short")
        return data

    def _handle(self):
        body = self._read_body()
        record = {"method": self.command, "target": self.path,
                  "headers": [(k.lower(), v) for k, v in self.headers.items()], "body": body}
        self.server.recorder.add(record)
        payload = json.dumps({"service": "recorder", "target": self.path}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _handle

    def do_HEAD(self):
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # aborted requests are what some tests provoke; they are simply not recorded


class RecordingUpstream:
    """An HTTP/1.1 upstream that records every request it received in full, and answers 200.

    A request whose body never completes (the gateway gave up on it) is not recorded, so
    "nothing reached the upstream" means no complete request did.
    """

    def __init__(self):
        self._cond = threading.Condition()
        self._records = []
        self.server = _QuietServer(("127.0.0.1", 0), _RecordingHandler)
        self.server.recorder = self
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def add(self, record):
        with self._cond:
            self._records.append(record)
            self._cond.notify_all()

    def records(self, start=0):
        with self._cond:
            return list(self._records[start:])

    def mark(self):
        with self._cond:
            return len(self._records)

    def wait_for(self, predicate, timeout=IO_TIMEOUT, start=0):
        with self._cond:
            ok = self._cond.wait_for(
                lambda: any(predicate(r) for r in self._records[start:]), timeout)
            return ok

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class _GarbageHandler(socketserver.BaseRequestHandler):
    def handle(self):
        self.request.settimeout(IO_TIMEOUT)
        try:
            self.request.recv(65536)
            self.request.sendall(b"this is not HTTP\r\n\r\n")
        except OSError:
            pass


class _TcpUpstream:
    """A threaded TCP server on a free loopback port, one `handler` per connection; the
    handler reaches this object as self.server.owner."""

    def __init__(self, handler):
        socketserver.ThreadingTCPServer.allow_reuse_address = True
        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.server.owner = self
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class GarbageUpstream(_TcpUpstream):
    """A TCP upstream that answers any request with bytes that are not an HTTP response."""

    def __init__(self):
        super().__init__(_GarbageHandler)


def _read_head(sock):
    """Bytes from sock up to and past the first blank line; None if it closed before."""
    data = b""
    while b"\r\n\r\n" not in data:
        more = sock.recv(65536)
        if not more:
            return None
        data += more
    return data


class _CloseAfterReplyHandler(socketserver.BaseRequestHandler):
    def handle(self):
        sock = self.request
        sock.settimeout(IO_TIMEOUT)
        upstream = self.server.owner
        target = None
        try:
            data = _read_head(sock)
            if data is None:
                return
            head, _, body = data.partition(b"\r\n\r\n")
            target = head.split(b" ", 2)[1].decode("latin-1")
            match = re.search(rb"(?im)^content-length:\s*(\d+)", head)
            length = int(match.group(1)) if match else 0
            while len(body) < length:
                more = sock.recv(65536)
                if not more:
                    return
                body += more
            payload = json.dumps({"body_bytes": len(body)}).encode()
            sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                         b"Content-Length: " + str(len(payload)).encode() + b"\r\n\r\n"
                         + payload)
        except OSError:
            pass
        finally:
            sock.close()
            upstream.note_closed(target)


class CloseAfterReplyUpstream(_TcpUpstream):
    """Answers one request per connection with a keep-alive 200, then closes the connection:
    what an upstream whose keep-alive timeout is shorter than the gateway's pool timeout does.

    wait_closed(target) returns once the connection that served `target` is closed, so a test
    can wait until the gateway's pooled connection is dead before it sends the next request.
    """

    def __init__(self):
        self._cond = threading.Condition()
        self._closed = []
        super().__init__(_CloseAfterReplyHandler)

    def note_closed(self, target):
        with self._cond:
            self._closed.append(target)
            self._cond.notify_all()

    def wait_closed(self, target, timeout=IO_TIMEOUT):
        with self._cond:
            return self._cond.wait_for(lambda: target in self._closed, timeout)


class _EarlyReplyHandler(socketserver.BaseRequestHandler):
    def handle(self):
        sock = self.request
        sock.settimeout(IO_TIMEOUT)
        try:
            data = _read_head(sock)
            if data is None:
                return
            payload = b'{"error":"payload too large"}'
            sock.sendall(b"HTTP/1.1 413 Payload Too Large\r\nConnection: close\r\n"
                         b"Content-Type: application/json\r\nContent-Length: "
                         + str(len(payload)).encode() + b"\r\n\r\n" + payload)
        except OSError:
            pass
        finally:
            sock.close()


class EarlyReplyUpstream(_TcpUpstream):
    """Answers 413 as soon as a request head arrives and closes without reading the body, as
    a service with a body limit of its own does."""

    def __init__(self):
        super().__init__(_EarlyReplyHandler)


class _ScriptedHandler(socketserver.BaseRequestHandler):
    def handle(self):
        sock = self.request
        sock.settimeout(IO_TIMEOUT)
        upstream = self.server.owner
        try:
            data = _read_head(sock)
            if data is None:
                return
            target = data.split(b" ", 2)[1].decode("latin-1")
            answer, hold = upstream.script(target)
            sock.sendall(answer)
            if hold:
                upstream.released.wait(IO_TIMEOUT)
        except OSError:
            pass
        finally:
            sock.close()


class ScriptedUpstream(_TcpUpstream):
    """Answers each request with the raw bytes `answers` gives for the longest prefix of its
    target, then closes, or, for an answer marked hold, keeps the connection silent until
    stop(): malformed framing, odd status codes and stalls no real service sends on purpose.

        ScriptedUpstream({"/stall": (b"HTTP/1.1 200 OK\\r\\nContent-Length: 9\\r\\n\\r\\nx", True)})
    """

    def __init__(self, answers):
        self.answers = answers
        self.released = threading.Event()
        super().__init__(_ScriptedHandler)

    def script(self, target):
        prefix = max((p for p in self.answers if target.startswith(p)), key=len)
        return self.answers[prefix]

    def stop(self):
        self.released.set()
        super().stop()


class _StrayBytesHandler(socketserver.BaseRequestHandler):
    STRAY = b"HTTP/1.1 200 OK\r\nX-Poison: 1\r\nContent-Length: 6\r\n\r\nPOISON"

    def handle(self):
        sock = self.request
        sock.settimeout(IO_TIMEOUT)
        upstream = self.server.owner
        number = upstream.next_connection()
        first = True
        try:
            while _read_head(sock) is not None:
                body = f"connection-{number}".encode()
                sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body)
                             + body)
                if first and upstream.stray_wanted.wait(IO_TIMEOUT):
                    sock.sendall(self.STRAY)
                    upstream.stray_sent.set()
                first = False
        except OSError:
            pass
        finally:
            sock.close()


class StrayBytesUpstream(_TcpUpstream):
    """Answers each request with a keep-alive 200 whose body names its connection
    ("connection-1", ...). After the first answer on a connection it waits for
    send_stray() and then writes a second, unasked-for response on that connection, as a
    broken upstream may (or one that sends a body after its answer to a HEAD)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._connections = 0
        self.stray_wanted = threading.Event()
        self.stray_sent = threading.Event()
        super().__init__(_StrayBytesHandler)

    def next_connection(self):
        with self._lock:
            self._connections += 1
            return self._connections

    def send_stray(self, timeout=IO_TIMEOUT):
        """Has the first connection write its stray response; True once it is written."""
        self.stray_wanted.set()
        return self.stray_sent.wait(timeout)


# ---------------------------------------------------------------------------------------------
# Test case base


class GatewayCase(unittest.TestCase):
    """One gateway (and its demo upstreams) shared by every test of a class.

    Subclasses set DEMOS (names of demo upstreams, each reachable as @name@ = its port in
    CONFIG), CONFIG (YAML with @placeholders@), ENV (extra environment for basalt), and may
    override placeholders() to add their own (fake upstream ports and such). The gateway must
    exit 0 on SIGTERM at the end, or the class reports an error.
    """

    DEMOS = ()
    CONFIG = ""
    ENV = {}

    @classmethod
    def placeholders(cls):
        return {}

    @classmethod
    def setUpClass(cls):
        require_binaries()
        cls.demos = {}
        for name in cls.DEMOS:
            demo = Demo(name)
            cls.addClassCleanup(demo.stop)
            cls.demos[name] = demo
        values = {name: demo.port for name, demo in cls.demos.items()}
        values.update(cls.placeholders())
        cls.gw = Gateway(fill(cls.CONFIG, **values), env=cls.ENV)
        cls.addClassCleanup(cls.gw.stop_and_check)

    def wait_metric(self, name, expected, **labels):
        """Scrapes until the sample reaches `expected` (counters update after the reply)."""
        last = [None]

        def reached():
            last[0] = self.gw.metrics().get(name, **labels)
            return last[0] >= expected
        wait_until(reached)
        return last[0]
