"""A private httpd for the integration tests, and a raw HTTP/1.1 client.

Each test class starts its own httpd on a free loopback port with the module and the
snippets from conf/, serves a world-readable docroot under a temporary directory, and checks
the error log for lines it did not expect.
"""
import html
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "scripts"))
import httpd_conf  # noqa: E402  (the one writer of private httpd configurations)

MODULE = os.environ.get("AUDIO_STREAM_MODULE", os.path.join(REPO, "build", "mod_audio_stream.so"))
HTTPD = httpd_conf.HTTPD
# The access log: scripts/soak counts its statuses (the number after the quoted request).
ACCESS_LOG_FORMAT = '%h "%r" %>s %b'

# Lines httpd writes at notice level on every start and stop; anything else at warn or above
# fails the test unless the test names it as expected.
ROUTINE = [
    r"AH00489",  # resuming normal operations
    r"AH00094",  # Command line
    r"AH00491",  # caught SIGTERM, shutting down
    r"AH00492",  # caught SIGWINCH, shutting down gracefully
    r"AH00169",  # caught SIGTERM
    r"AH00493",  # SIGUSR1 received
]
LEVELS_THAT_FAIL = ("warn", "error", "crit", "alert", "emerg")
# A child that died on a signal is logged at notice level (AH00052): it fails the test too.
CRASH = r"AH00052|exit signal"


def httpd_env(extra=None, preload=()):
    """The environment httpd runs with: ours, plus AUDIO_STREAM_HTTPD_ENV ("NAME=value ...",
    space-separated), which reaches httpd only; make test-asan passes LD_PRELOAD of the
    sanitizer runtime this way, so that the test's other tools (curl, chromium) do not get it.
    Then a test's own `extra` variables, and its `preload` libraries after any already there."""
    env = dict(os.environ)
    for pair in os.environ.get("AUDIO_STREAM_HTTPD_ENV", "").split():
        name, _, value = pair.partition("=")
        env[name] = value
    env.update(extra or {})
    if preload:
        env["LD_PRELOAD"] = ":".join([p for p in env.get("LD_PRELOAD", "").split(":") if p] + list(preload))
    return env


def chromium_dump_dom(url, *flags, timeout):
    """Headless Chromium's --dump-dom of url with extra flags, in a fresh profile:
    (exit status, DOM, stderr), or None when it did not finish within timeout (then the
    browser and all its helpers are killed). Fails when chromium is not installed
    (scripts/ensure-deps test installs it): a test that cannot run proves nothing."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        raise AssertionError("chromium is not installed (scripts/ensure-deps test)")
    with tempfile.TemporaryDirectory(prefix="audio_stream_chromium_", ignore_cleanup_errors=True) as profile:
        args = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                *flags, f"--user-data-dir={profile}", "--dump-dom", url]
        # Its own session, so that a timeout ends the browser and all its helpers.
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                start_new_session=True)
        try:
            dom, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            return None
    return proc.returncode, dom, err


def autotest_result(dom):
    """The JSON text demo/index.html's autotest mode wrote into <pre id="result"> (empty when
    it wrote none) and its last step line, from a --dump-dom of the page."""
    m = re.search(r'<pre id="result">(.*?)</pre>', dom, re.S)
    step = re.search(r'<p class="status" id="autotest-step">(.*?)</p>', dom, re.S)
    return (html.unescape(m.group(1)).strip() if m else "",
            html.unescape(step.group(1)) if step else "step: none")


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_file(path, data, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, mode)


class Httpd:
    """One httpd process: start(), stop(), and the error log since a mark."""

    def __init__(self, extra_conf="", modules=("mime",), log_level="warn audio_stream:debug",
                 env=None, preload=(), module=MODULE, **conf_options):
        """conf_options: httpd_conf.conf_text() options that replace the suite's own; env and
        preload: see httpd_env; module: mod_audio_stream.so's path (None: an httpd without it,
        such as a cache in front of one that has it)."""
        self.module = module
        self.env = env
        self.preload = preload
        self.root = tempfile.mkdtemp(prefix="audio_stream_it_")
        os.chmod(self.root, 0o755)
        self.docroot = os.path.join(self.root, "htdocs")
        os.makedirs(os.path.join(self.docroot, "audio"))
        for d in (self.docroot, os.path.join(self.docroot, "audio")):
            os.chmod(d, 0o755)
        self.port = free_port()
        self.error_log = os.path.join(self.root, "error.log")
        self.extra_conf = extra_conf
        self.modules = modules
        self.log_level = log_level
        self.conf_options = conf_options
        self.proc = None
        self._log_pos = 0

    def conf_text(self):
        options = dict(
            modules=("http2",) + tuple(self.modules),
            children=2, threads=25, start_servers=1, min_spare_threads=10,
            keepalive_requests=1000,
            error_log=self.error_log, log_level=self.log_level,
            access_log=os.path.join(self.root, "access.log"), log_format=ACCESS_LOG_FORMAT,
            protocols="h2c http/1.1",
            allow_override="FileInfo", options="FollowSymLinks",
        )
        options.update(self.conf_options)
        audio = httpd_conf.directory(f"{self.docroot}/audio", "SetHandler audio-stream")
        return httpd_conf.conf_text(self.root, self.port, self.docroot, self.module,
                                    extra=audio + self.extra_conf, **options)

    def configtest(self, conf_text=None):
        path = os.path.join(self.root, "httpd.conf")
        with open(path, "w") as f:
            f.write(conf_text if conf_text is not None else self.conf_text())
        return subprocess.run([HTTPD, "-t", "-f", path], capture_output=True, text=True,
                              env=httpd_env(self.env, self.preload))

    def start(self):
        path = os.path.join(self.root, "httpd.conf")
        with open(path, "w") as f:
            f.write(self.conf_text())
        self.proc = subprocess.Popen(
            [HTTPD, "-f", path, "-DFOREGROUND"],
            stdout=subprocess.DEVNULL,
            stderr=open(os.path.join(self.root, "stderr.log"), "w"),
            env=httpd_env(self.env, self.preload),
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("httpd exited: " + self.read_all_logs())
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("httpd did not listen within 15 s: " + self.read_all_logs())

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def children(self):
        """The pids of the running httpd's children (from /proc; a child exiting meanwhile is
        left out)."""
        pids = []
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                with open(f"/proc/{pid}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == self.proc.pid:
                        pids.append(pid)
            except (OSError, ValueError, IndexError):
                continue
        return pids

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def read_all_logs(self):
        out = []
        for name in ("stderr.log", "error.log"):
            p = os.path.join(self.root, name)
            if os.path.exists(p):
                out.append(open(p, errors="replace").read())
        return "\n".join(out)

    def mark_log(self):
        self._log_pos = os.path.getsize(self.error_log) if os.path.exists(self.error_log) else 0

    def log_since_mark(self):
        # The log line may land just after the response: give httpd a moment.
        time.sleep(0.05)
        if not os.path.exists(self.error_log):
            return []
        with open(self.error_log, errors="replace") as f:
            f.seek(self._log_pos)
            return f.read().splitlines()

    def unexpected_log_lines(self, expected=()):
        bad = []
        for line in self.log_since_mark():
            m = re.search(r"\[[\w_]*:(\w+)\]", line)
            if re.search(CRASH, line):
                bad.append(line)
                continue
            if not m or m.group(1) not in LEVELS_THAT_FAIL:
                continue
            if any(re.search(p, line) for p in list(ROUTINE) + list(expected)):
                continue
            bad.append(line)
        return bad

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"


class Response:
    def __init__(self, status, reason, headers, body):
        self.status = status
        self.reason = reason
        self.headers = headers  # list of (name, value), in order
        self.body = body

    def header(self, name):
        values = self.all(name)
        return values[0] if values else None

    def all(self, name):
        return [v for (k, v) in self.headers if k.lower() == name.lower()]

    def __repr__(self):
        return f"<Response {self.status} {self.headers} {len(self.body)} bytes>"


class Connection:
    """A raw HTTP/1.1 connection: exact requests, exact bytes back, pipelining."""

    def __init__(self, port, timeout=30):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""

    def close(self):
        self.sock.close()

    def send(self, method, path, headers=(), host="127.0.0.1"):
        lines = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
        lines += [f"{k}: {v}" for (k, v) in headers]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))

    def _fill(self):
        chunk = self.sock.recv(1 << 20)
        if not chunk:
            raise ConnectionError("connection closed")
        self.buf += chunk

    def _read_exact(self, n):
        while len(self.buf) < n:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def _read_line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line.decode("latin-1")

    def read_response(self, head=False):
        status_line = self._read_line()
        parts = status_line.split(" ", 2)
        status = int(parts[1])
        headers = []
        while True:
            line = self._read_line()
            if line == "":
                break
            k, v = line.split(":", 1)
            headers.append((k.strip(), v.strip()))
        resp = Response(status, parts[2] if len(parts) > 2 else "", headers, b"")
        if head or status in (204, 304) or 100 <= status < 200:
            return resp
        te = resp.header("Transfer-Encoding")
        if te and "chunked" in te.lower():
            body = b""
            while True:
                size = int(self._read_line().split(";")[0], 16)
                if size == 0:
                    while self._read_line() != "":
                        pass
                    break
                body += self._read_exact(size)
                self._read_exact(2)
            resp.body = body
        elif resp.header("Content-Length") is not None:
            resp.body = self._read_exact(int(resp.header("Content-Length")))
        else:
            while True:
                try:
                    self._fill()
                except ConnectionError:
                    break
            resp.body, self.buf = self.buf, b""
        return resp


def request(port, method, path, headers=(), host="127.0.0.1"):
    conn = Connection(port)
    try:
        conn.send(method, path, list(headers) + [("Connection", "close")], host=host)
        return conn.read_response(head=(method == "HEAD"))
    finally:
        conn.close()


class ConfigTestCase(unittest.TestCase):
    """`apache2 -t` on the suite's configuration with some lines added; no server runs."""

    def configtest(self, lines):
        server = Httpd(extra_conf=lines)
        try:
            return server.configtest()
        finally:
            server.cleanup()

    def assert_refused(self, lines, message):
        """httpd refuses the lines at configtest and says message."""
        p = self.configtest(lines)
        self.assertNotEqual(p.returncode, 0, p.stderr)
        self.assertIn(message, p.stderr)
        self.assertNotIn("Syntax OK", p.stderr)

    def assert_accepted(self, lines):
        p = self.configtest(lines)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("Syntax OK", p.stderr)


class ServerTestCase(unittest.TestCase):
    """One httpd for the class; each test fails on an unexpected error-log line."""

    extra_conf = ""
    modules = ("mime",)
    expected_log = ()  # regexes of warn+ lines this class expects

    @classmethod
    def setUpClass(cls):
        cls.server = Httpd(extra_conf=cls.extra_conf, modules=cls.modules)
        cls.prepare_docroot(cls.server.docroot)
        cls.server.start()

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    @classmethod
    def prepare_docroot(cls, docroot):
        pass

    def setUp(self):
        self.server.mark_log()
        self.extra_expected_log = []

    def tearDown(self):
        bad = self.server.unexpected_log_lines(list(self.expected_log) + self.extra_expected_log)
        self.assertEqual(bad, [], "unexpected error-log lines")

    def get(self, path, headers=(), method="GET"):
        return request(self.server.port, method, path, headers)

    def expect_log(self, pattern):
        """Declare a warn+ line this test provokes, and assert it appears."""
        self.extra_expected_log.append(pattern)
        lines = self.server.log_since_mark()
        self.assertTrue(any(re.search(pattern, l) for l in lines),
                        f"expected a log line matching {pattern!r}, got {lines}")
