"""What the test_caches_* files share: an origin httpd with the module behind a real cache (each
file starts its own on a free loopback port), the MP3 they serve, and the scenarios every cache
must pass.

The origin caps media elements' open ranges at a 64 KiB piece, on an 80 s MP3 of about 1.3 MB
(twenty pieces; two of nginx's 1 MiB slices), made a day old so that its ETag is strong, and
gives cuts and clips a lifetime with the recipe README's "Behind a cache or CDN" shows (read
from README itself, so the two cannot drift apart). Each test serves its own copy of the file,
named after the test, so that what one test leaves in the cache cannot answer another.
"""
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import unittest

from harness import REPO, Httpd, autotest_result, chromium_dump_dom, request, write_file

PIECE = 64 * 1024
SECONDS = 80
DAY_AGO = time.time() - 86400
TOOL_TIMEOUT = 60
MEDIA = ("Sec-Fetch-Dest", "audio")
# Where the downloaders resume: inside the first of nginx's slices, not on a piece boundary.
RESUME_AT = 300_000
# The origin's access log, tab-separated: what reached it, with which Range, its ETag, and
# (with AudioStreamStats On) who the module took for the listener and what it counted.
ORIGIN_LOG_FORMAT = (r"%r\t%{Range}i\t%{If-Range}i\t%>s\t%b\t%{ETag}o\t%a\t%{User-Agent}i"
                     r"\t%{AUDIO_STATE}e")
CURL_RANGE_ERROR = 33  # "HTTP server doesn't seem to support byte ranges. Cannot resume."


def readme_recipe():
    """The `<If>` block of README's "Behind a cache or CDN" that gives cuts a lifetime."""
    with open(os.path.join(REPO, "README.md")) as f:
        text = f.read()
    section = text.split("## Behind a cache or CDN", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```apache\n(.*?)```", section, re.S)
    recipes = [b for b in blocks if b.startswith("<If ")]
    assert len(recipes) == 1, f"README shows {len(recipes)} <If> recipes for cuts"
    return recipes[0]


def make_mp3(path, freq, seconds=SECONDS, when=DAY_AGO):
    """An MP3 of a sine at freq Hz, world-readable, last modified at `when`; its bytes."""
    tmp = path + ".tmp.mp3"
    r = subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-y", "-f", "lavfi",
                        "-i", f"sine=f={freq}:r=44100:d={seconds}", "-c:a", "libmp3lame",
                        "-b:a", "128k", tmp], capture_output=True, text=True, timeout=TOOL_TIMEOUT)
    assert r.returncode == 0, r.stderr
    os.chmod(tmp, 0o644)
    os.utime(tmp, (when, when))
    # One rename: a reader sees the old file or the new one, never half of each.
    os.replace(tmp, path)
    with open(path, "rb") as f:
        return f.read()


def run(args, cwd):
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=TOOL_TIMEOUT)


def origin_httpd(modules=("mime", "headers"), extra="", log_format=ORIGIN_LOG_FORMAT):
    """An httpd with the module, a 64 KiB piece under /audio/, README's recipe for cuts, extra
    and an access log in log_format (not started)."""
    server = Httpd(modules=modules, log_format=log_format)
    server.extra_conf = (f"<Directory {server.docroot}/audio>\n"
                         f"    AudioStreamPieceSize {PIECE // 1024}K\n</Directory>\n"
                         + readme_recipe() + extra)
    if "AudioStreamStats On" in extra:
        # A counting server keeps its keys with a secret (no AS0054 at start).
        secret = os.path.join(server.root, "stats.secret")
        write_file(secret, b"a secret of the cache tests' origin\n", mode=0o600)
        server.extra_conf += f"AudioStreamStatsSecret {secret}\n"
    return server


def log_rows(path, needle, count=0, timeout=5):
    """The tab-separated rows of an access log whose line holds needle, once there are at
    least count of them (httpd writes a line after its response has gone out)."""
    deadline = time.monotonic() + timeout
    while True:
        with open(path) as f:
            rows = [tuple(line.rstrip("\n").split("\t")) for line in f if needle in line]
        if len(rows) >= count or time.monotonic() > deadline:
            return rows
        time.sleep(0.02)


def wait_for_port(port, proc, what):
    """Until something listens on 127.0.0.1:port; fails if proc exits first, and stops proc
    if it does not listen in time."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    stop_process(proc)
    raise RuntimeError(f"{what} did not listen on {port} within 20 s")


def stop_process(proc):
    if proc and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class CacheCase(unittest.TestCase):
    """An origin and a cache in front of it. A subclass starts the cache (start_cache, on
    cls.cache_port), stops it (stop_cache), and says what a hit looks like (is_hit)."""

    origin_modules = ("mime", "headers")
    origin_conf = ""

    @classmethod
    def setUpClass(cls):
        cls.scratch = tempfile.mkdtemp(prefix="audio_stream_caches_")
        os.chmod(cls.scratch, 0o755)
        cls.origin = origin_httpd(cls.origin_modules, cls.origin_conf)
        try:
            cls.original = make_mp3(os.path.join(cls.scratch, "original.mp3"), 440)
            cls.origin.start()
            cls.start_cache()
        except BaseException:
            cls.origin.cleanup()
            shutil.rmtree(cls.scratch, ignore_errors=True)
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            cls.stop_cache()
        finally:
            cls.origin.cleanup()
            shutil.rmtree(cls.scratch, ignore_errors=True)

    def setUp(self):
        self.origin.mark_log()
        self.name = self._testMethodName + ".mp3"
        self.path = "/audio/" + self.name
        self.file = os.path.join(self.origin.docroot, "audio", self.name)
        write_file(self.file, self.original)
        os.utime(self.file, (DAY_AGO, DAY_AGO))
        self.work = tempfile.mkdtemp(prefix="dl_", dir=self.scratch)

    def tearDown(self):
        self.assertEqual(self.origin.unexpected_log_lines(), [], "unexpected origin log lines")

    def via(self, path, headers=()):
        # The Host curl and wget send: caches key on it (Varnish hashes it with the URL).
        return request(self.cache_port, "GET", path, headers, host=f"127.0.0.1:{self.cache_port}")

    def direct(self, path, headers=()):
        return request(self.origin.port, "GET", path, headers)

    def url(self, path=None):
        return f"http://127.0.0.1:{self.cache_port}{path or self.path}"

    def origin_log(self, count):
        """The origin's access-log lines for this test's file, as tuples of the fields above,
        once there are `count` of them."""
        return log_rows(os.path.join(self.origin.root, "access.log"), self.path, count)

    def downloaded(self, name="out.mp3"):
        with open(os.path.join(self.work, name), "rb") as f:
            return f.read()

    def partial(self, data, name="out.mp3"):
        """A download that stopped after RESUME_AT bytes."""
        write_file(os.path.join(self.work, name), data[:RESUME_AT])


class Scenarios:
    """The tests every cache runs: mixed into a CacheCase subclass. `replaced_outcome` is what
    a download resumed (with If-Range) after the file was replaced ends with in that cache:
    "old" (the cache still holds the old version whole and finishes it), "refused" (the origin
    sends the new file whole, 200, and curl refuses to join it), or "cut short" (the cache
    stops mid-body: only old bytes were written)."""

    replaced_outcome = None
    # What a plain download right after that gives.
    after_replacement = ("old", "new")

    def assert_window_from(self, resp, first, data):
        """A 206 from `first` of at least a piece, the file's own bytes."""
        self.assertEqual(resp.status, 206, resp)
        m = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+)", resp.header("Content-Range") or "")
        self.assertIsNotNone(m, resp.header("Content-Range"))
        start, last, total = map(int, m.groups())
        self.assertEqual((start, total), (first, len(data)))
        self.assertGreaterEqual(last - start + 1, min(PIECE, total - start))
        self.assertTrue(resp.body == data[start:last + 1], "the file's own bytes")

    def test_media_element_gets_a_window_from_byte_0(self):
        for _ in range(2):
            self.assert_window_from(self.via(self.path, [("Range", "bytes=0-"), MEDIA]), 0,
                                    self.original)

    def check_resume(self, command, *options):
        """A media element reads from RESUME_AT (through the cache, twice), then a downloader
        resumes a file that stopped there: it must end with the whole file."""
        for _ in range(2):
            self.assert_window_from(self.via(self.path, [("Range", f"bytes={RESUME_AT}-"), MEDIA]),
                                    RESUME_AT, self.original)
        self.partial(self.original)
        r = run([command, *options, self.url()], self.work)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(len(self.downloaded()), len(self.original))
        self.assertTrue(self.downloaded() == self.original, "the resumed file is the original")

    def test_curl_resume_after_a_media_element_is_the_whole_file(self):
        self.check_resume("curl", "-sS", "-C", "-", "-o", "out.mp3")

    def test_wget_continue_after_a_media_element_is_the_whole_file(self):
        self.check_resume("wget", "-q", "-c", "-O", "out.mp3")

    def test_plain_get_after_a_media_element_is_the_whole_file(self):
        self.via(self.path, [("Range", "bytes=0-"), MEDIA])
        for _ in range(2):
            r = run(["curl", "-sS", "-o", "out.mp3", self.url()], self.work)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertTrue(self.downloaded() == self.original, "the whole original")

    def check_cached_representations(self, queries):
        """Each query through the cache is the origin's own answer, byte for byte, and the
        second round comes from the cache (a hit) still equal to it: representations are
        stored apart, never mixed."""
        direct = {q: self.direct(f"{self.path}?{q}") for q in queries}
        bodies = [direct[q].body for q in queries]
        self.assertEqual(len(set(bodies)), len(queries), "different representations")
        for round_ in ("fill", "hit"):
            for q in queries:
                r = self.via(f"{self.path}?{q}")
                self.assertEqual((r.status, r.header("ETag")), (200, direct[q].header("ETag")), q)
                self.assertTrue(r.body == direct[q].body, f"{q} ({round_}) is the origin's cut")
                if round_ == "hit":
                    self.assertTrue(self.is_hit(r), f"{q} again is a cache hit: {r.headers}")

    def test_cuts_are_the_origins_and_never_mixed(self):
        self.check_cached_representations(["t=10", "t=20"])

    def test_clip_is_the_origins_and_not_the_cut(self):
        self.check_cached_representations(["t=10,20", "t=10"])

    def outcome(self, result, got, new):
        """What a download ended with: "old" or "new" (that version whole, curl exit 0),
        "refused" (curl refused to resume, the partial file untouched) or "cut short" (curl
        failed, the file a strict prefix of the old version); None for anything else, such as
        a file that mixes the two."""
        if result.returncode == 0:
            return {self.original: "old", new: "new"}.get(got)
        if result.returncode == CURL_RANGE_ERROR and got == self.original[:RESUME_AT]:
            return "refused"
        if 0 < len(got) < len(self.original) and self.original.startswith(got):
            return "cut short"
        return None

    def test_chromium_plays_and_seeks_through_the_cache(self):
        # The demo page and a copy of the file in audio/ beside it, both under /audio/ (what
        # the caches pass to the origin), in headless Chromium: it plays (the media element's
        # first answer a window from byte 0), seeks to 50 s and plays on.
        page_dir = os.path.join(self.origin.docroot, "audio", "page")
        os.makedirs(os.path.join(page_dir, "audio"), mode=0o755, exist_ok=True)
        with open(os.path.join(REPO, "demo", "index.html"), "rb") as f:
            write_file(os.path.join(page_dir, "index.html"), f.read())
        shutil.copy2(self.file, os.path.join(page_dir, "audio", self.name))
        page = self.url(f"/audio/page/index.html?autotest=50&file={self.name}")
        for _ in range(2):  # a starved machine may end the virtual time before playback starts
            done = chromium_dump_dom(page, "--disable-quic", "--autoplay-policy=no-user-gesture-required",
                                     "--virtual-time-budget=60000", timeout=90)
            self.assertIsNotNone(done, "chromium did not finish within 90 s")
            text, step = autotest_result(done[1])
            if text:
                break
        self.assertTrue(text, f"no autotest result ({step})")
        result = json.loads(text)
        self.assertIsNone(result.get("error"), result)
        self.assertTrue(result.get("seeked"), result)
        self.assertAlmostEqual(result["duration"], SECONDS, delta=0.5, msg=result)
        self.assertGreaterEqual(result["currentTime"], 50, result)

    def test_resume_across_a_replaced_file_never_mixes_versions(self):
        """A download stopped at RESUME_AT, the file replaced at the origin (new bytes, new
        mtime), then `curl -C -` with If-Range: the old ETag, then a plain download. Old and
        new bytes never meet; which outcome each cache gives is its own (replaced_outcome,
        after_replacement)."""
        first = self.via(self.path, [("Range", f"bytes=0-{RESUME_AT - 1}")])
        self.assertEqual(first.status, 206)
        self.assertTrue(first.body == self.original[:RESUME_AT])
        old_etag = first.header("ETag")
        new = make_mp3(self.file, 660, SECONDS + 3, DAY_AGO + 3600)
        self.assertNotEqual(self.direct(self.path).header("ETag"), old_etag)
        self.partial(self.original)
        r = run(["curl", "-sS", "-C", "-", "-H", f"If-Range: {old_etag}", "-o", "out.mp3",
                 self.url()], self.work)
        got = self.downloaded()
        self.assertEqual(self.outcome(r, got, new), self.replaced_outcome,
                         f"curl {r.returncode} {r.stderr!r}, {len(got)} bytes")
        after = run(["curl", "-sS", "-o", "after.mp3", self.url()], self.work)
        got = self.downloaded("after.mp3")
        self.assertIn(self.outcome(after, got, new), self.after_replacement,
                      f"curl {after.returncode} {after.stderr!r}, {len(got)} bytes")
