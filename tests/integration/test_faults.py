"""Faults while serving: the file truncated, grown, replaced or deleted under a response in
flight, for each way httpd reads a file (mmap, read, sendfile, HTTP/2), and symlinks that the
configuration forbids.

What must hold: no child crash; never a byte under the promised Content-Length that is not the
file's (a truncated file aborts the connection: fewer bytes than Content-Length, then EOF, never
padding); one error-log line for the request. Over HTTP/1.1 the core notices the short file
once the handler has returned (event MPM write completion) and closes the connection; the
module's log_transaction hook then sees the file shorter than the body needed and logs AS0041.
Over HTTP/2 the module reads the file itself and logs AS0040. The unreadable file and the FIFO are in
test_ranges.MethodsAndErrors.
"""
import os
import random
import re
import socket
import stat
import subprocess
import tempfile
import time

from harness import Httpd, ServerTestCase, write_file
from test_ranges import aged

MIB = 1 << 20
FILE_LEN = 64 * MIB
PERIOD = MIB + 7  # the file repeats a random block whose length no offset error is likely to hit
# Not page-aligned: a server that maps the file would send the zeroed rest of the last page.
TRUNCATE_AT = 40 * MIB + 1234
READ_FIRST = MIB  # the slow client reads this much, then stalls while the file changes
STALL = 0.3  # seconds for the server to fill the socket buffers and block
TIMEOUT = 20  # seconds without a byte: the server neither sends nor closes
CRASH = r"AH00052|exit signal"

# How httpd may read a file body: one directory per way, set by .htaccess (Override FileInfo).
MODES = {
    "mmap": b"EnableSendfile Off\nEnableMMAP On\n",  # httpd's defaults
    "read": b"EnableSendfile Off\nEnableMMAP Off\n",
    "sendfile": b"EnableSendfile On\n",
}
# The core handler under httpd's defaults, as a control for what a mapping looks like.
CORE_MMAP = ("coremmap", b"SetHandler none\nEnableSendfile Off\nEnableMMAP On\n")


def first_difference(got, want):
    """The first offset where got differs from want's prefix, or None."""
    step = 1 << 16
    for at in range(0, len(got), step):
        chunk = got[at:at + step]
        if chunk != want[at:at + len(chunk)]:
            return next(i for i in range(at, at + len(chunk)) if i >= len(want) or got[i] != want[i])
    return None


class InFlight:
    """A raw HTTP/1.1 keep-alive exchange whose client stalls, to change the file under it.

    After READ_FIRST bytes the client stops reading: the server fills the socket buffers (a few
    MiB on loopback) and blocks, with most of the body unsent."""

    def __init__(self, port, path, headers=()):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        lines = [f"GET {path} HTTP/1.1", "Host: 127.0.0.1"] + [f"{k}: {v}" for k, v in headers]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed before the headers")
            buf += chunk
        head, rest = buf.split(b"\r\n\r\n", 1)
        self.body = bytearray(rest)
        lines = head.decode("latin-1").split("\r\n")
        self.status = int(lines[0].split(" ")[1])
        self.headers = {k.strip().lower(): v.strip()
                        for k, v in (l.split(":", 1) for l in lines[1:])}
        self.content_length = int(self.headers["content-length"])
        self.closed = False
        self.timed_out = False

    def read(self, n):
        """Reads until n body bytes (or Content-Length, or EOF)."""
        n = min(n, self.content_length)
        while len(self.body) < n and not self.closed:
            try:
                chunk = self.sock.recv(1 << 20)
            except socket.timeout:
                self.timed_out = True
                return
            if not chunk:
                self.closed = True
            self.body += chunk

    def read_rest(self):
        """The rest of the body as fast as possible; then, if all came, whether the connection
        stays open (a keep-alive response that completed) or is closed."""
        self.read(self.content_length)

    def close(self):
        self.sock.close()


class FaultsWhileServing(ServerTestCase):
    # check_complete reuses the connection after a 64 MiB body: the server finished writing
    # when the last MiBs fit in the socket buffers, and a loaded client may take longer than
    # the default 5 s to read them.
    extra_conf = "KeepAliveTimeout 300\n"

    @classmethod
    def prepare_docroot(cls, docroot):
        block = random.Random(11).randbytes(PERIOD)
        cls.data = (block * (FILE_LEN // PERIOD + 1))[:FILE_LEN]
        for mode, htaccess in list(MODES.items()) + [CORE_MMAP]:
            d = os.path.join(docroot, "audio", mode)
            os.makedirs(d, mode=0o755)
            os.chmod(d, 0o755)
            write_file(os.path.join(d, ".htaccess"), htaccess)

    def setUp(self):
        super().setUp()
        self.to_remove = []

    def tearDown(self):
        for p in self.to_remove:
            if os.path.lexists(p):
                os.unlink(p)
        super().tearDown()

    def fresh_file(self, mode, name):
        """A new FILE_LEN file, a day old, for one test; returns (URL path, file path)."""
        path = os.path.join(self.server.docroot, "audio", mode, name)
        write_file(path, self.data)
        aged(path)
        self.to_remove.append(path)
        return f"/audio/{mode}/{name}", path

    def start(self, url, headers=()):
        flight = InFlight(self.server.port, url, headers)
        self.addCleanup(flight.close)
        flight.read(READ_FIRST)
        self.assertGreaterEqual(len(flight.body), READ_FIRST)
        time.sleep(STALL)
        return flight

    def assert_no_crash(self):
        lines = [l for l in self.server.log_since_mark() if re.search(CRASH, l)]
        self.assertEqual(lines, [], "an httpd child crashed")

    def log_lines_about(self, name):
        """warn+ lines naming the file (at most one is allowed)."""
        time.sleep(0.2)
        return [l for l in self.server.log_since_mark()
                if name in l and re.search(r"\[[\w_]*:(warn|error|crit|alert|emerg)\]", l)]

    def expect_shrank_line(self, name, needed_end):
        """Exactly one AS0041 line for a file truncated at TRUNCATE_AT under a sendfile/mmap
        body that needed bytes up to needed_end."""
        self.extra_expected_log.append(re.escape(name))
        lines = []
        for _ in range(50):  # the line comes when the request is logged, after the close
            lines = self.log_lines_about(name)
            if lines:
                break
        self.assertEqual(len(lines), 1, lines)
        self.assertRegex(lines[0], rf"\[audio_stream:error\].*AS0041: .*{re.escape(name)} shrank "
                                   rf"while being sent: it ends at byte {TRUNCATE_AT}, the "
                                   rf"response needed {needed_end}; connection closed")

    def mapped_by_children(self, path):
        """Whether an httpd child has the file at path mapped into its memory now."""
        target = os.path.realpath(path)
        for pid in self.server.children():
            try:
                with open(f"/proc/{pid}/maps") as f:
                    if any(line.rstrip("\n").endswith(" " + target) for line in f):
                        return True
            except OSError:
                continue  # a child that just exited
        return False

    def allow_one_line_about(self, name):
        # One clear line is allowed, not required; tearDown still fails on any other line.
        self.extra_expected_log.append(re.escape(name))
        lines = self.log_lines_about(name)
        self.assertLessEqual(len(lines), 1, lines)
        return lines

    # ---- truncated: abort, never pad --------------------------------------------------------

    def check_truncated(self, mode):
        url, path = self.fresh_file(mode, "truncated.mp3")
        flight = self.start(url)
        self.assertEqual((flight.status, flight.content_length), (200, FILE_LEN))
        os.truncate(path, TRUNCATE_AT)
        flight.read_rest()
        got = len(flight.body)
        self.assertFalse(flight.timed_out,
                         f"{mode}: after {got} bytes the server neither sent nor closed "
                         f"within {TIMEOUT} s")
        self.assertLess(got, FILE_LEN, f"{mode}: all of Content-Length arrived from a file of "
                                       f"{TRUNCATE_AT} bytes")
        self.assertTrue(flight.closed, f"{mode}: the connection was not closed")
        wrong = first_difference(flight.body, self.data)
        self.assertIsNone(wrong, f"{mode}: {got} bytes received for a file truncated at "
                                 f"{TRUNCATE_AT}; bytes from offset {wrong} are not the file's "
                                 f"({flight.body[wrong:wrong + 8].hex() if wrong is not None else ''}...)")
        self.assert_no_crash()
        self.expect_shrank_line("truncated.mp3", FILE_LEN)

    def test_never_maps_the_file_it_sends_under_httpds_defaults(self):
        # Under EnableMMAP On and EnableSendfile Off the core maps file buckets 4 MiB at a time.
        # A file truncated under a mapping reads as zeros to the end of its last page, and
        # writev sends them as body bytes (seen once: 1488 zero bytes in a run of the mmap
        # truncation test below). The module's buckets are read instead, which sees the short
        # file. The core handler is the control: the check does see a mapping.
        for mode, maps in (("mmap", False), (CORE_MMAP[0], True)):
            with self.subTest(mode=mode):
                url, path = self.fresh_file(mode, "mapped.mp3")
                flight = self.start(url)
                self.assertEqual(flight.status, 200)
                self.assertEqual(self.mapped_by_children(path), maps,
                                 f"{mode}: the file is {'not ' if maps else ''}mapped by a "
                                 f"child while its response is in flight")
                flight.read_rest()
                self.assertTrue(flight.body == self.data, f"{mode}: not the file's bytes")

    def test_truncated_mid_response_mmap(self):
        self.check_truncated("mmap")

    def test_truncated_mid_response_read(self):
        self.check_truncated("read")

    def test_truncated_mid_response_sendfile(self):
        self.check_truncated("sendfile")

    def test_truncated_mid_range_response(self):
        url, path = self.fresh_file("mmap", "truncated.mp3")
        first = 3 * MIB + 5
        flight = self.start(url, [("Range", f"bytes={first}-")])
        self.assertEqual(flight.status, 206)
        self.assertEqual(flight.headers["content-range"], f"bytes {first}-{FILE_LEN - 1}/{FILE_LEN}")
        os.truncate(path, TRUNCATE_AT)
        flight.read_rest()
        got = len(flight.body)
        self.assertFalse(flight.timed_out, f"after {got} bytes: neither data nor close")
        self.assertTrue(flight.closed and got < FILE_LEN - first, got)
        wrong = first_difference(flight.body, self.data[first:])
        self.assertIsNone(wrong, f"{got} bytes from {first}, file truncated at {TRUNCATE_AT}: "
                                 f"bytes from offset {first + (wrong or 0)} are not the file's")
        self.assert_no_crash()
        self.expect_shrank_line("truncated.mp3", FILE_LEN)

    def test_truncated_mid_response_http2(self):
        # mod_http2 copies file data into its frames in user space (no writev/sendfile).
        for mode in ("mmap", "read"):
            with self.subTest(mode=mode):
                url, path = self.fresh_file(mode, "truncated_h2.mp3")
                with tempfile.NamedTemporaryFile() as out:
                    curl = subprocess.Popen(
                        ["curl", "-sS", "--http2-prior-knowledge", "--limit-rate", "4M",
                         "--max-time", "60", "-o", out.name, self.server.url(url)],
                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                    try:
                        # Truncate once the response is under way.
                        deadline = time.monotonic() + TIMEOUT
                        while (os.path.getsize(out.name) < READ_FIRST
                               and time.monotonic() < deadline and curl.poll() is None):
                            time.sleep(0.05)
                        os.truncate(path, TRUNCATE_AT)
                        _, err = curl.communicate(timeout=90)
                    finally:
                        if curl.poll() is None:
                            curl.kill()
                            curl.wait()
                    body = open(out.name, "rb").read()
                self.assertNotEqual(curl.returncode, 0, f"{mode}: curl saw a complete response")
                self.assertLess(len(body), FILE_LEN)
                wrong = first_difference(body, self.data)
                self.assertIsNone(wrong, f"{mode}: {len(body)} bytes for a file truncated at "
                                         f"{TRUNCATE_AT}, wrong from offset {wrong} "
                                         f"(curl: {err.strip()})")
                self.assert_no_crash()
                # The module reads the file itself for HTTP/2, so it sees the short read.
                lines = self.allow_one_line_about("truncated_h2.mp3")
                self.assertEqual(len(lines), 1, f"{mode}: no error-log line")
                self.assertRegex(lines[0], r"\[audio_stream:error\].*AS0040: .*truncated_h2\.mp3 "
                                           rf"shrank while being sent: it ends at byte {TRUNCATE_AT}")
                self.server.mark_log()

    # ---- replaced, deleted, grown: the open file is what is sent -----------------------------

    def check_complete(self, flight, mode):
        flight.read_rest()
        self.assertFalse(flight.timed_out, f"{mode}: stalled after {len(flight.body)} bytes")
        self.assertEqual(len(flight.body), FILE_LEN, mode)
        self.assertTrue(flight.body == self.data, f"{mode}: the bytes sent are not the file's")
        # Keep-alive: the connection is still usable after a complete response.
        flight.sock.sendall(b"HEAD /audio/" + mode.encode() + b"/x.mp3 HTTP/1.1\r\n"
                            b"Host: 127.0.0.1\r\nConnection: close\r\n\r\n")
        status_line = flight.sock.recv(4096).split(b"\r\n", 1)[0]
        self.assertRegex(status_line, rb"^HTTP/1\.1 (200|404) ", mode)

    def test_replaced_by_rename_mid_response_sends_the_old_file_whole(self):
        for mode in MODES:
            with self.subTest(mode=mode):
                url, path = self.fresh_file(mode, "replaced.mp3")
                flight = self.start(url)
                new = path + ".new"
                write_file(new, b"new content")
                os.rename(new, path)
                self.check_complete(flight, mode)
                r = self.get(url)
                self.assertEqual((r.status, r.body), (200, b"new content"), mode)
                self.assert_no_crash()

    def test_deleted_mid_response_sends_the_file_whole(self):
        for mode in MODES:
            with self.subTest(mode=mode):
                url, path = self.fresh_file(mode, "deleted.mp3")
                flight = self.start(url)
                os.unlink(path)
                self.check_complete(flight, mode)
                self.assertEqual(self.get(url).status, 404, mode)
                self.assert_no_crash()

    def test_grown_mid_response_sends_exactly_content_length(self):
        for mode in MODES:
            with self.subTest(mode=mode):
                url, path = self.fresh_file(mode, "grown.mp3")
                flight = self.start(url)
                with open(path, "ab") as f:
                    f.write(b"\xff" * MIB)
                self.check_complete(flight, mode)
                self.assertEqual(self.get(url, method="HEAD").header("Content-Length"),
                                 str(FILE_LEN + MIB))
                self.assert_no_crash()


class SymlinksForbidden(ServerTestCase):
    """Options -FollowSymLinks (and SymLinksIfOwnerMatch): the core refuses the link before our
    handler runs; the module must not serve the target by some other way."""

    SECRET = b"TARGET-BYTES-" * 1000

    @classmethod
    def setUpClass(cls):
        cls.server = Httpd(modules=cls.modules)
        audio = os.path.join(cls.server.docroot, "audio")
        cls.server.extra_conf = (
            f"<Directory {audio}/nolinks>\n    Options -FollowSymLinks\n</Directory>\n"
            f"<Directory {audio}/ownerlinks>\n    Options -FollowSymLinks +SymLinksIfOwnerMatch\n"
            f"</Directory>\n")
        outside = os.path.join(cls.server.root, "outside")
        os.makedirs(outside, mode=0o755)
        os.chmod(outside, 0o755)
        cls.target = os.path.join(outside, "secret.mp3")
        write_file(cls.target, cls.SECRET)
        os.chown(cls.target, 65534, 65534)  # nobody: a different owner than the links (root)
        for d in ("nolinks", "ownerlinks", "links"):
            os.makedirs(os.path.join(audio, d), mode=0o755)
            os.chmod(os.path.join(audio, d), 0o755)
            os.symlink(cls.target, os.path.join(audio, d, "link.mp3"))
            os.symlink(outside, os.path.join(audio, d, "dirlink"))
        cls.server.start()

    def assert_forbidden(self, url):
        r = self.get(url)
        self.assertEqual(r.status, 403, r)
        self.assertNotIn(b"TARGET-BYTES", r.body)
        r = self.get(url, [("Range", "bytes=0-12")])
        self.assertEqual(r.status, 403, r)
        self.assertNotIn(b"TARGET-BYTES", r.body)
        # The core's own line, once per request; nothing from the module.
        self.expect_log(r"\[core:error\].*AH00037: Symbolic link not allowed")
        lines = [l for l in self.server.log_since_mark()
                 if re.search(r"\[audio_stream:(warn|error|crit)\]", l)]
        self.assertEqual(lines, [])

    def test_file_symlink_without_follow_symlinks_is_403(self):
        self.assert_forbidden("/audio/nolinks/link.mp3")

    def test_directory_symlink_without_follow_symlinks_is_403(self):
        self.assert_forbidden("/audio/nolinks/dirlink/secret.mp3")

    def test_symlink_to_another_owner_under_symlinks_if_owner_match_is_403(self):
        self.assert_forbidden("/audio/ownerlinks/link.mp3")

    def test_control_symlink_with_follow_symlinks_is_served(self):
        # Shows that the target would be served if the link were followed.
        r = self.get("/audio/links/link.mp3", [("Range", "bytes=0-12")])
        self.assertEqual((r.status, r.body), (206, b"TARGET-BYTES-"))


class SpecialFiles(ServerTestCase):
    """A character device under the handler: refused with 403 and one line, never read (a read
    of /dev/zero would never end). The FIFO and the unreadable file: test_ranges.MethodsAndErrors."""

    @classmethod
    def prepare_docroot(cls, docroot):
        # /dev/zero's numbers: a read would never end. The tmpfs of the test may refuse devices
        # (nodev) for opening, never for stat(), which is all httpd and the module do.
        os.mknod(os.path.join(docroot, "audio", "zero.mp3"), 0o644 | stat.S_IFCHR,
                 os.makedev(1, 5))

    def test_character_device_gives_403_and_one_log_line(self):
        for headers in ((), (("Range", "bytes=0-99"),)):
            with self.subTest(headers=headers):
                self.server.mark_log()
                r = self.get("/audio/zero.mp3", list(headers))
                self.assertEqual(r.status, 403, r)
                self.expect_log(r"\[audio_stream:error\].*AS0004: not a regular file: .*zero\.mp3")
                lines = [l for l in self.server.log_since_mark() if "zero.mp3" in l]
                self.assertEqual(len(lines), 1, lines)
