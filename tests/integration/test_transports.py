"""HTTP/2 (h2c and h2 over TLS) and HTTP/1.1 over TLS: the right bytes fast, and never a wrong
byte when the file changes under a response.

mod_http2 frames a file bucket by its length and then reads it, accepting a short read; mod_ssl
reads file buckets in user space too (from a mapping of the file, which a truncation turns into
SIGBUS). So over these transports the module never hands them the served file: a body of at
most AudioStreamSnapshotSize goes over HTTP/2 as a private snapshot (taken before the headers
leave; a later truncation cannot touch it), a larger range as a chain of snapshots (then
chunks past 16 MiB), any other larger body and every TLS body is read by the module in chunks,
and a short read resets the stream (HTTP/2) or closes the connection (TLS), with one AS0040
line. A snapshot of a range of a file that has not changed for 3 seconds is
shared by every request for that range of the file in that state (its ctime is part of the key).
Clients: curl over h2c (prior knowledge), h2 over TLS and HTTP/1.1 over TLS.
"""
import os
import random
import re
import subprocess
import tempfile
import threading
import time

from harness import Httpd, ServerTestCase, write_file
from test_ranges import aged

MIB = 1 << 20
FILE_LEN = 24 * MIB
PERIOD = MIB + 7
TRUNCATE_AT = 9 * MIB + 1234  # not page-aligned
READ_FIRST = 2 * MIB
SNAPSHOT = 4 * MIB  # AudioStreamSnapshotSize's default
SETTLED = 3.3  # seconds: a file changed less than 3 s ago is snapshotted, never shared
TIMEOUT = 20
CRASH = r"AH00052|exit signal"

# name, curl options, server ("tls" or "clear")
TRANSPORTS = {
    "h2c": (["--http2-prior-knowledge"], "clear"),
    "h2-tls": (["--http2", "-k"], "tls"),
    "http1.1-tls": (["--http1.1", "-k"], "tls"),
}


# SnapshotPool::kMaxIdleReaders: the reader descriptors a child's pool keeps for later requests.
IDLE_READERS = 64


def child_descriptors(server):
    """(pid, /proc path, target or None when it was closed meanwhile) for every open descriptor
    of the server's children; a child that just exited is left out."""
    for pid in server.children():
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            link = f"/proc/{pid}/fd/{fd}"
            try:
                yield pid, link, os.readlink(link)
            except OSError:
                yield pid, link, None


def snapshot_mappings(server, prefixes):
    """(Rss, ShmemPmdMapped) in bytes of every mapping of the server's children of a file whose
    name starts with one of `prefixes` (/proc/PID/smaps)."""
    found = []
    for pid in server.children():
        try:
            with open(f"/proc/{pid}/smaps") as f:
                current = None
                for line in f:
                    head = re.match(r"[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$", line)
                    if head:
                        current = {} if head.group(1).startswith(prefixes) else None
                        if current is not None:
                            found.append(current)
                    elif current is not None and line.startswith(("Rss:", "ShmemPmdMapped:")):
                        current[line.split(":")[0]] = int(line.split()[1]) * 1024
        except OSError:
            continue  # a child that just exited
    return [(m.get("Rss", 0), m.get("ShmemPmdMapped", 0)) for m in found]


def kernel_collapses_memory_files():
    """Linux 6.1 or later, with shmem_enabled not "deny" (MADV_COLLAPSE on a memfd)."""
    major, minor = (int(x) for x in re.match(r"(\d+)\.(\d+)", os.uname().release).groups())
    try:
        with open("/sys/kernel/mm/transparent_hugepage/shmem_enabled") as f:
            denied = "[deny]" in f.read()
    except OSError:
        return False
    return (major, minor) >= (6, 1) and not denied


def make_certificate(directory):
    cert, key = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-addext", "basicConstraints=critical,CA:FALSE",
                    "-keyout", key, "-out", cert], check=True, capture_output=True)
    os.chmod(key, 0o644)
    return cert, key


class ClearAndTls(ServerTestCase):
    """One cleartext httpd (h2c, HTTP/1.1) and one TLS httpd (h2, HTTP/1.1) on one docroot, one
    child each (a shared snapshot lives in one child's pool, and the tests count them), and a
    scratch directory of the class's own (the certificate)."""

    # mod_ssl's notice-level chatter aside, its warnings about Debian's OpenSSL build are not ours.
    expected_log = (r"\[ssl:warn\]",)

    @classmethod
    def start_servers(cls, clear, tls):
        """clear, tls: Httpd options of each server; prepare_docroot runs before they start."""
        cls.server = Httpd(children=1, **clear)
        cls.prepare_docroot(cls.server.docroot)
        cls.server.start()
        cls.tls = Httpd(tls=make_certificate(cls.scratch), protocols="h2 http/1.1", children=1, **tls)
        cls.tls.docroot = cls.server.docroot
        cls.tls.start()

    @classmethod
    def setUpClass(cls):
        cls.scratch = tempfile.mkdtemp(prefix="audio_stream_tls_")
        os.chmod(cls.scratch, 0o755)

    @classmethod
    def tearDownClass(cls):
        cls.tls.docroot = os.path.join(cls.tls.root, "htdocs")
        cls.tls.cleanup()
        super().tearDownClass()
        subprocess.run(["rm", "-rf", cls.scratch])

    def setUp(self):
        super().setUp()
        self.tls.mark_log()

    def tearDown(self):
        bad = self.tls.unexpected_log_lines(list(self.expected_log) + self.extra_expected_log)
        self.assertEqual(bad, [], "unexpected error-log lines (TLS server)")
        super().tearDown()


class Transports(ClearAndTls):
    """Every way a body goes over h2c, h2 over TLS and HTTP/1.1 over TLS."""

    # Server-wide lines of the cleartext and the TLS server (test_snapshot_dir.py sets them).
    clear_conf = ""
    tls_conf = ""
    # Where the pool's files show in /proc/PID/fd: memory files, and any directory's.
    snapshot_file_prefixes = ("/memfd:audio-stream-snapshot",)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.start_servers(dict(threads=40, extra_conf=cls.clear_conf), dict(threads=40, extra_conf=cls.tls_conf))

    @classmethod
    def prepare_docroot(cls, docroot):
        block = random.Random(17).randbytes(PERIOD)
        cls.data = (block * (FILE_LEN // PERIOD + 1))[:FILE_LEN]
        write_file(os.path.join(docroot, "audio", "small.mp3"), cls.data[:100_000])
        aged(os.path.join(docroot, "audio", "small.mp3"))
        # The largest snapshot: more than the socket buffers between server and client hold,
        # so most of it is read after a truncation (loopback buffers take several MiB).
        write_file(os.path.join(docroot, "audio", "big", ".htaccess"), b"AudioStreamSnapshotSize 16M\n")
        os.chmod(os.path.join(docroot, "audio", "big"), 0o755)
        write_file(os.path.join(docroot, "audio", "windows", ".htaccess"), b"AudioStreamSnapshotSize 64K\n")
        os.chmod(os.path.join(docroot, "audio", "windows"), 0o755)
        write_file(os.path.join(docroot, "audio", "private", ".htaccess"), b"AudioStreamShareSnapshots Off\n")
        os.chmod(os.path.join(docroot, "audio", "private"), 0o755)

    def setUp(self):
        super().setUp()
        self.to_remove = []

    def tearDown(self):
        for p in self.to_remove:
            if os.path.lexists(p):
                os.unlink(p)
        super().tearDown()

    # ---- helpers -------------------------------------------------------------------------------

    def url(self, transport, path):
        server = self.tls if TRANSPORTS[transport][1] == "tls" else self.server
        scheme = "https" if server is self.tls else "http"
        return f"{scheme}://127.0.0.1:{server.port}{path}"

    def log_since_mark(self):
        return self.server.log_since_mark() + self.tls.log_since_mark()

    def fresh_file(self, name, directory="audio"):
        path = os.path.join(self.server.docroot, directory, name)
        write_file(path, self.data)
        aged(path)
        self.to_remove.append(path)
        return f"/{directory}/{name}", path

    def curl(self, transport, path, rng=None, rate="4M", change=None, after=READ_FIRST):
        """curl's exit code and body; `change` runs once `after` bytes have arrived."""
        opts = TRANSPORTS[transport][0]
        with tempfile.NamedTemporaryFile() as out:
            cmd = ["curl", "-sS", *opts, "--limit-rate", rate, "--max-time", "60", "-o", out.name]
            if rng:
                cmd += ["-H", f"Range: bytes={rng}"]
            proc = subprocess.Popen(cmd + [self.url(transport, path)], stdout=subprocess.DEVNULL,
                                    stderr=subprocess.PIPE, text=True)
            try:
                if change:
                    deadline = time.monotonic() + TIMEOUT
                    while (os.path.getsize(out.name) < after and time.monotonic() < deadline
                           and proc.poll() is None):
                        time.sleep(0.02)
                    self.assertIsNone(proc.poll(), f"{transport}: the response ended before the change")
                    change()
                _, err = proc.communicate(timeout=90)
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
            return proc.returncode, open(out.name, "rb").read(), err.strip()

    def plans(self):
        """How each body went since the mark: the end of every AS0010 line."""
        return [l.rstrip().rsplit(") ", 1)[-1] for l in self.log_since_mark() if "AS0010" in l]

    def lines_about(self, name):
        time.sleep(0.2)
        return [l for l in self.log_since_mark()
                if name in l and re.search(r"\[[\w_]*:(warn|error|crit|alert|emerg)\]", l)]

    def assert_served_normally_after(self, transport):
        rc, body, err = self.curl(transport, "/audio/small.mp3", rate="100M")
        self.assertEqual((rc, body), (0, self.data[:100_000]), f"{transport}: next request ({err})")
        self.assertEqual([l for l in self.log_since_mark() if re.search(CRASH, l)], [],
                         "an httpd child crashed")

    # ---- the bytes, each way the body can go ---------------------------------------------------

    def test_bodies_are_exact_on_every_transport(self):
        url, _ = self.fresh_file("exact.mp3")
        windows_url, _ = self.fresh_file("exact.mp3", "audio/windows")
        # Over HTTP/2: one snapshot up to the size; past it a chain of snapshots (256 KiB, then
        # windows of the size, 16 MiB at most), the rest of a larger body in chunks. In
        # audio/windows (64K) a chain is eight windows, then chunks.
        cases = [(url, "1000-66535", "snapshot"), (url, "0-", "snapshots"),
                 (url, f"{MIB}-{MIB + SNAPSHOT - 1}", "snapshot"), (url, f"{MIB}-{MIB + SNAPSHOT}", "snapshots"),
                 (url, f"{MIB + 5}-{MIB + 5 + 16 * MIB}", "snapshots"),
                 (windows_url, f"{MIB + 3}-{3 * MIB}", "snapshots"), (windows_url, "0-65535", "snapshot")]
        for transport in TRANSPORTS:
            for path, rng, how in cases:
                with self.subTest(transport=transport, path=path, rng=rng):
                    self.server.mark_log()
                    self.tls.mark_log()
                    rc, body, err = self.curl(transport, path, rng=rng, rate="500M")
                    first, _, last = rng.partition("-")
                    want = self.data[int(first):int(last) + 1 if last else None]
                    self.assertEqual(rc, 0, err)
                    self.assertTrue(body == want, f"{transport} {rng}: {len(body)} bytes, not the file's")
                    plans = self.plans()
                    self.assertEqual(len(plans), 1, plans)
                    # TLS over HTTP/1.1 always reads in chunks.
                    expect = "chunks" if transport == "http1.1-tls" else how
                    self.assertRegex(plans[0], rf"^(shared )?{expect}$")

    # ---- a file changed under the response -----------------------------------------------------

    def test_truncated_mid_response_is_a_true_prefix_then_a_reset(self):
        for transport in TRANSPORTS:
            with self.subTest(transport=transport):
                self.server.mark_log()
                self.tls.mark_log()
                url, path = self.fresh_file("truncated.mp3")
                rc, body, err = self.curl(transport, url, change=lambda: os.truncate(path, TRUNCATE_AT))
                self.assertNotEqual(rc, 0, f"{transport}: curl saw a complete response ({len(body)} bytes)")
                self.assertLess(len(body), FILE_LEN)
                self.assertTrue(self.data.startswith(body),
                                f"{transport}: {len(body)} bytes received, not a prefix of the file ({err})")
                self.extra_expected_log.append("truncated.mp3")
                lines = self.lines_about("truncated.mp3")
                self.assertEqual(len(lines), 1, lines)
                self.assertRegex(lines[0], r"\[audio_stream:error\].*AS0040: .*truncated\.mp3 shrank while "
                                           rf"being sent: it ends at byte {TRUNCATE_AT}")
                self.assert_served_normally_after(transport)

    def test_replaced_or_deleted_mid_response_sends_the_open_file_whole(self):
        def replace(path):
            write_file(path + ".new", b"new content")
            os.rename(path + ".new", path)

        for transport in TRANSPORTS:
            for what, change in (("replaced", replace), ("deleted", os.unlink)):
                with self.subTest(transport=transport, change=what):
                    url, path = self.fresh_file(f"{what}.mp3")
                    rc, body, err = self.curl(transport, url, change=lambda: change(path))
                    self.assertEqual(rc, 0, f"{transport} {what}: {err}")
                    self.assertTrue(body == self.data, f"{transport} {what}: {len(body)} bytes, not the file's")
                    self.assertEqual(self.lines_about(f"{what}.mp3"), [])
                    self.assert_served_normally_after(transport)

    def test_a_snapshot_is_not_touched_by_a_later_truncation(self):
        # Under the snapshot size the body was copied before the headers left: a truncation
        # while it is in flight changes nothing the client receives, and nothing is logged.
        for transport in ("h2c", "h2-tls"):
            with self.subTest(transport=transport):
                self.server.mark_log()
                self.tls.mark_log()
                url, path = self.fresh_file("snap.mp3", "audio/big")
                first, last = 3 * MIB + 1, 3 * MIB + 16 * MIB  # exactly the snapshot size
                rc, body, err = self.curl(transport, url, rng=f"{first}-{last}", rate="3M",
                                          change=lambda: os.truncate(path, 1000), after=256 * 1024)
                self.assertEqual(rc, 0, err)
                self.assertTrue(body == self.data[first:last + 1], f"{transport}: {len(body)} bytes")
                plans = self.plans()
                self.assertTrue(plans and plans[0].endswith("snapshot"), plans)
                self.assertEqual(self.lines_about("snap.mp3"), [])

    def test_concurrent_slow_snapshots_never_mix_bytes(self):
        # Snapshot slots are reused once a request is over: many slow streams in flight at once,
        # each window different, must each get exactly its own bytes.
        url, _ = self.fresh_file("many.mp3")
        rnd = random.Random(5)
        jobs = [[(o, o + rnd.randrange(64 * 1024, 2 * MIB)) for o in
                 (rnd.randrange(0, FILE_LEN - 2 * MIB) for _ in range(3))] for _ in range(12)]
        wrong = []

        def client(windows, transport):
            for first, last in windows:
                rc, body, err = self.curl(transport, url, rng=f"{first}-{last}", rate="3M")
                if rc != 0 or body != self.data[first:last + 1]:
                    wrong.append((transport, first, last, rc, len(body), err))

        threads = [threading.Thread(target=client, args=(w, ("h2c", "h2-tls")[i % 2]))
                   for i, w in enumerate(jobs)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        self.assertEqual(wrong, [])
        plans = [p for p in self.plans() if p.endswith("snapshot")]
        self.assertEqual(len(plans), 36, "every window should have gone as a snapshot")

    def test_snapshots_leave_no_descriptor_behind(self):
        # Each snapshot is a file bucket on a reader descriptor of the pool's, given back with
        # the request and kept for a later reader (at most 64 idle in a child). 300 snapshots
        # must not leave 300 descriptors open. The pool's own memory files stay open (one each,
        # up to its slot cap; once the file has settled, published slots are kept and new ones
        # made): one descriptor per memory file is not counted, a second one on it (a reader,
        # idle or left open) is.
        url, _ = self.fresh_file("fds.mp3")

        def open_descriptors():
            """Per child: its descriptors, less one per memory file."""
            counts, memory_files = {}, set()
            for pid, link, target in child_descriptors(self.server):
                try:
                    if target and target.startswith(self.snapshot_file_prefixes):
                        inode = (pid, os.stat(link).st_ino)
                        if inode not in memory_files:
                            memory_files.add(inode)
                            continue
                except OSError:
                    pass  # closed meanwhile
                counts[pid] = counts.get(pid, 0) + 1
            return counts

        self.curl("h2c", url, rng="0-99999", rate="500M")  # children and pools warmed up
        before = open_descriptors()
        # One connection each (curl's own reuse of one HTTP/2 connection for many -o transfers
        # fails with core's handler too).
        for i in range(300):
            done = subprocess.run(["curl", "-sS", "--http2-prior-knowledge", "-r", f"{i}-{i + 199999}",
                                   "-o", "/dev/null", self.url("h2c", url)], capture_output=True, text=True)
            self.assertEqual(done.returncode, 0, done.stderr)
        plans = [p for p in self.plans() if p.endswith("snapshot")]
        self.assertGreaterEqual(len(plans), 300)
        time.sleep(0.5)
        # The children that were there before and still are: one that the MPM starts meanwhile
        # (on a loaded machine it does) brings its own listeners, logs and pipes, not leaks.
        after = open_descriptors()
        kept = [pid for pid in before if pid in after]
        self.assertTrue(kept, f"no child lived through the requests: {before} {after}")
        # A published snapshot's slot keeps an idle reader for its next request, at most
        # IDLE_READERS a pool (SnapshotPool::kMaxIdleReaders): 3 s after the file last changed
        # every snapshot is published, and on a slow machine most of the 300 are, each in a new
        # slot while there is room. A leak would leave one per request.
        for pid in kept:
            self.assertLess(after[pid] - before[pid], IDLE_READERS + 10,
                            f"descriptors left open by snapshots in child {pid}: {before} -> {after}")

    def test_a_large_body_is_snapshotted_in_huge_pages(self):
        # A body of 1 MiB and more goes to 2 MiB pages, which the kernel reads back (as
        # mod_http2 does) 2.5 times faster than 4 KiB ones: memory files whose pages the pool
        # has the kernel collapse (MADV_COLLAPSE, Linux 6.1), or AudioStreamSnapshotDir's
        # tmpfs mounted with huge pages (test_snapshot_dir.py).
        if not self.clear_conf and not kernel_collapses_memory_files():
            self.skipTest("this kernel cannot collapse a memory file's pages (Linux 6.1, shmem_enabled not deny)")
        url, _ = self.fresh_file("huge.mp3")
        self.server.mark_log()
        rc, body, err = self.curl("h2c", url, rng="2000000-3048575", rate="500M")
        self.assertEqual(rc, 0, err)
        self.assertTrue(body == self.data[2000000:3048576], f"{len(body)} bytes, not the file's")
        self.assertEqual(self.plans(), ["snapshot"])
        # Every slot holding 1 MiB or more (this body's, and any earlier test's) holds it in
        # huge pages, each whole one of its pages.
        large = [(rss, pmd) for rss, pmd in snapshot_mappings(self.server, self.snapshot_file_prefixes)
                 if rss >= MIB]
        self.assertTrue(large, "no slot holds the 1 MiB body")
        for rss, pmd in large:
            self.assertGreaterEqual(pmd, rss // (2 * MIB) * (2 * MIB), f"{rss} bytes, {pmd} of them in huge pages")
            self.assertGreater(pmd, 0, f"{rss} bytes, none in huge pages")

    # ---- shared snapshots ------------------------------------------------------------------------

    def test_concurrent_requests_for_one_range_share_a_snapshot_and_get_exact_bytes(self):
        # Twelve slow clients at once, on connections of their own (so on several connection
        # threads of mod_http2, each reading the one snapshot through its own descriptor), ask
        # the same window, three times each.
        url, _ = self.fresh_file("popular.mp3")
        time.sleep(SETTLED)
        first, last = 5 * MIB + 3, 5 * MIB + 3 + 2 * MIB
        wrong = []

        def client(transport):
            for _ in range(3):
                rc, body, err = self.curl(transport, url, rng=f"{first}-{last}", rate="8M")
                if rc != 0 or body != self.data[first:last + 1]:
                    wrong.append((transport, rc, len(body), err))

        threads = [threading.Thread(target=client, args=(("h2c", "h2-tls")[i % 2],)) for i in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        self.assertEqual(wrong, [])
        plans = self.plans()
        self.assertEqual(len(plans), 36, plans)
        # The cleartext and the TLS server are two httpds: each copies the window at least once.
        self.assertGreaterEqual(plans.count("shared snapshot"), 18, plans)
        self.assertEqual(plans.count("snapshot") + plans.count("shared snapshot"), 36, plans)

    def test_a_file_rewritten_in_place_is_never_answered_from_an_old_snapshot(self):
        # Same size, same mtime (set back): only the ctime says the bytes changed.
        url, path = self.fresh_file("rewritten.mp3")
        time.sleep(SETTLED)
        rng, first, last = f"{MIB}-{2 * MIB - 1}", MIB, 2 * MIB - 1
        for transport in ("h2c", "h2-tls"):
            with self.subTest(transport=transport):
                self.server.mark_log()
                self.tls.mark_log()
                st = os.stat(path)
                for _ in range(2):
                    rc, body, err = self.curl(transport, url, rng=rng, rate="500M")
                    self.assertEqual((rc, body == open(path, "rb").read()[first:last + 1]), (0, True), err)
                self.assertEqual(self.plans(), ["snapshot", "shared snapshot"])
                new = bytes(b ^ 0x5A for b in open(path, "rb").read(2 * MIB))
                with open(path, "r+b") as f:
                    f.write(new)
                os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
                changed = time.monotonic()
                self.assertEqual((os.stat(path).st_size, os.stat(path).st_mtime_ns), (st.st_size, st.st_mtime_ns))
                self.server.mark_log()
                self.tls.mark_log()
                # Changed just now: copied afresh and not shared, however often it is asked.
                for _ in range(2):
                    rc, body, err = self.curl(transport, url, rng=rng, rate="500M")
                    self.assertEqual(rc, 0, err)
                    self.assertTrue(body == new[first:last + 1], f"{transport}: not the rewritten bytes")
                self.assertEqual(self.plans(), ["snapshot", "snapshot"])
                self.assertLess(time.monotonic() - changed, 2.5, "too slow to test the settle rule")
                time.sleep(SETTLED)
                self.server.mark_log()
                self.tls.mark_log()
                for _ in range(2):
                    rc, body, err = self.curl(transport, url, rng=rng, rate="500M")
                    self.assertTrue(rc == 0 and body == new[first:last + 1], f"{transport}: {err}")
                self.assertEqual(self.plans(), ["snapshot", "shared snapshot"])

    def test_files_alike_in_size_and_mtime_never_share(self):
        # Two files of one size and one mtime, other bytes: the inode tells them apart.
        urls, datas = [], []
        for i, name in enumerate(("twin-a.mp3", "twin-b.mp3")):
            url, path = self.fresh_file(name)
            data = bytes(b ^ (0x11 * (i + 1)) for b in self.data[:3 * MIB])
            write_file(path, data)
            os.utime(path, ns=(10**18, 10**18))
            urls.append(url)
            datas.append(data)
        time.sleep(SETTLED)
        self.server.mark_log()
        for _ in range(2):
            for url, data in zip(urls, datas):
                rc, body, err = self.curl("h2c", url, rng=f"{MIB}-{2 * MIB}", rate="500M")
                self.assertEqual(rc, 0, err)
                self.assertTrue(body == data[MIB:2 * MIB + 1], f"{url}: the other file's bytes")
        self.assertEqual(self.plans(), ["snapshot", "snapshot", "shared snapshot", "shared snapshot"])

    def test_share_snapshots_off_copies_for_every_request(self):
        url, _ = self.fresh_file("own.mp3", "audio/private")
        time.sleep(SETTLED)
        for transport in ("h2c", "h2-tls"):
            with self.subTest(transport=transport):
                self.server.mark_log()
                self.tls.mark_log()
                for _ in range(3):
                    rc, body, err = self.curl(transport, url, rng="1000-300999", rate="500M")
                    self.assertTrue(rc == 0 and body == self.data[1000:301000], f"{transport}: {err}")
                self.assertEqual(self.plans(), ["snapshot"] * 3)


class ChainWindowShrinks(ClearAndTls):
    """A body larger than one snapshot goes over HTTP/2 as a chain of snapshots, each window
    read after the headers and the windows before it have gone down. The file shrinking just
    before a later window is read (made exact by tests/integration/shrink_on_read.c, preloaded
    into httpd: the first read at or past 256 KiB truncates the file) must end the stream after
    the true bytes already sent: a reset, one AS0040 line, and the next request served."""

    FIRST_WINDOW = 256 * 1024
    SHRINK_TO = FIRST_WINDOW + 4321
    NAMES = {"h2c": "chain-h2c.mp3", "h2-tls": "chain-tls.mp3"}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        shim = os.path.join(cls.scratch, "shrink_on_read.so")
        subprocess.run(["cc", "-shared", "-fPIC", "-O2", "-o", shim,
                        os.path.join(os.path.dirname(os.path.abspath(__file__)), "shrink_on_read.c"), "-ldl"],
                       check=True, capture_output=True)

        def options(transport):
            shrink = f"{cls.NAMES[transport]}:{cls.FIRST_WINDOW}:{cls.SHRINK_TO}"
            return dict(threads=10, env={"AUDIO_STREAM_SHRINK": shrink}, preload=(shim,))

        cls.start_servers(options("h2c"), options("h2-tls"))

    @classmethod
    def prepare_docroot(cls, docroot):
        block = random.Random(23).randbytes(PERIOD)
        cls.data = (block * (8 * MIB // PERIOD + 1))[:8 * MIB]
        for name in list(cls.NAMES.values()) + ["after.mp3"]:
            write_file(os.path.join(docroot, "audio", name), cls.data)
        for name in cls.NAMES.values():
            os.chmod(os.path.join(docroot, "audio", name), 0o666)  # httpd's user truncates it

    def curl(self, transport, name):
        server = self.tls if transport == "h2-tls" else self.server
        scheme = "https" if server is self.tls else "http"
        with tempfile.NamedTemporaryFile() as out:
            done = subprocess.run(["curl", "-sS", *TRANSPORTS[transport][0], "--max-time", "30", "-o", out.name,
                                   "-H", "Range: bytes=0-", f"{scheme}://127.0.0.1:{server.port}/audio/{name}"],
                                  capture_output=True, text=True, timeout=60)
            return done.returncode, open(out.name, "rb").read(), done.stderr.strip()

    def test_a_file_shrinking_before_a_later_window_ends_the_stream_after_true_bytes(self):
        for transport, name in self.NAMES.items():
            with self.subTest(transport=transport):
                server = self.tls if transport == "h2-tls" else self.server
                server.mark_log()
                self.extra_expected_log.append(name)
                rc, body, err = self.curl(transport, name)
                self.assertNotEqual(rc, 0, f"{transport}: a complete response of {len(body)} bytes")
                # The first window was read before the file shrank; nothing after it.
                self.assertLessEqual(len(body), self.FIRST_WINDOW, transport)
                self.assertTrue(self.data.startswith(body), f"{transport}: {len(body)} bytes, not a prefix")
                time.sleep(0.2)
                lines = server.log_since_mark()
                self.assertEqual([l.rstrip().rsplit(") ", 1)[-1] for l in lines if "AS0010" in l], ["snapshots"])
                errors = [l for l in lines if re.search(r"\[[\w_]*:(warn|error|crit|alert|emerg)\]", l)]
                self.assertEqual(len(errors), 1, errors)
                self.assertRegex(errors[0], rf"AS0040: .*{name} shrank while being sent: it ends at byte "
                                            rf"{self.SHRINK_TO}, response aborted")
                self.assertEqual(os.path.getsize(os.path.join(self.server.docroot, "audio", name)), self.SHRINK_TO)
                # The same server serves the next request whole.
                rc, body, err = self.curl(transport, "after.mp3")
                self.assertEqual((rc, body == self.data), (0, True), f"{transport}: next request ({err})")
                self.assertEqual([l for l in server.log_since_mark() if re.search(CRASH, l)], [])
