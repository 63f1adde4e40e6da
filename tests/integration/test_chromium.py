"""A real browser against the module: headless Chromium plays and seeks demo/index.html.

The page's autotest mode (index.html?autotest=SECONDS) plays muted, seeks, waits for playback
past the target and writes a JSON summary into <pre id="result">, which --dump-dom hands us.

Three copies of the page and a 60 s MP3, each configured by an .htaccess:
  /audio/        64K piece, scope all: every 206 is at most 64 KiB, so Chromium must come back
                 where each piece ended, and again after the seek;
  /media/audio/  64K piece, scope media (the default): only open-ended bytes=a- requests are
                 capped; Chromium, once it knows the length, asks closed ranges, served whole;
  /full/audio/   the defaults (8M piece, more than the file).
"""
import html
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile

from harness import REPO, ServerTestCase, write_file

SAMPLE_SECONDS = 60
SEEK_TO = 40
PIECE = 64 * 1024
CHROMIUM_TIMEOUT = 90

# Our own access log beside harness's: relative to ServerRoot, that is the server's root.
MEDIA_LOG = "media.log"
MEDIA_LOG_CONF = (
    'LogFormat "%>s\\t%B\\t%U\\t%{Range}i\\t%{Sec-Fetch-Dest}i\\t%{Content-Range}o" media\n'
    f"CustomLog {MEDIA_LOG} media\n"
)


class NoResult(Exception):
    """The page produced no autotest result."""


def make_sample(path, seconds):
    """A CBR MP3 tone whose pitch steps every 10 s (the demo's sample, shorter)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
         f"aevalsrc='0.3*sin(2*PI*220*pow(2,floor(t/10)/6)*t)':s=44100:d={seconds}",
         "-ac", "2", "-c:a", "libmp3lame", "-b:a", "128k", path],
        check=True, capture_output=True, timeout=120)
    os.chmod(path, 0o644)


def ffprobe_duration(path):
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", path],
        check=True, capture_output=True, text=True, timeout=60).stdout
    return float(out.strip())


def make_dir(path):
    os.makedirs(path, exist_ok=True)
    os.chmod(path, 0o755)


class LogEntry:
    def __init__(self, line):
        status, size, self.path, self.range, self.dest, self.content_range = line.split("\t")
        self.status = int(status)
        self.size = 0 if size == "-" else int(size)

    def window(self):
        """(first, last, length) from Content-Range, or None."""
        m = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+)", self.content_range)
        return tuple(int(g) for g in m.groups()) if m else None

    def asked(self):
        """(first, last or None) from a single bytes=first-[last] Range, or None."""
        m = re.fullmatch(r"bytes=(\d+)-(\d*)", self.range)
        return (int(m.group(1)), int(m.group(2)) if m.group(2) else None) if m else None

    def __repr__(self):
        return (f"{self.status} {self.size} {self.path} range={self.range} dest={self.dest} "
                f"cr={self.content_range}")


class ChromiumPlayback(ServerTestCase):
    # The MPM defaults want 75 spare threads, more than harness's 50 workers: httpd says so at
    # error level once a browser's connections make it look for spares.
    extra_conf = MEDIA_LOG_CONF

    @classmethod
    def prepare_docroot(cls, docroot):
        cls.page = open(os.path.join(REPO, "demo", "index.html"), "rb").read()
        cls.sample = os.path.join(docroot, "audio", "sample.mp3")
        make_sample(cls.sample, SAMPLE_SECONDS)
        cls.sample_size = os.path.getsize(cls.sample)
        cls.sample_duration = ffprobe_duration(cls.sample)
        # /audio/ has the handler from harness; a 64K piece for every range.
        write_file(os.path.join(docroot, "index.html"), cls.page)
        write_file(os.path.join(docroot, "audio", ".htaccess"),
                   b"AudioStreamPieceSize 64K\nAudioStreamPieceScope all\n")
        # /media/: a 64K piece in the default scope (open-ended ranges of media elements).
        cls.add_site(docroot, "media", b"SetHandler audio-stream\nAudioStreamPieceSize 64K\n")
        # /full/: the defaults from conf/ (8M, more than the whole file).
        cls.add_site(docroot, "full", b"SetHandler audio-stream\n")

    @classmethod
    def add_site(cls, docroot, name, htaccess):
        """docroot/name/: the page, and the sample in audio/ configured by an .htaccess."""
        for d in (name, os.path.join(name, "audio")):
            make_dir(os.path.join(docroot, d))
        write_file(os.path.join(docroot, name, "index.html"), cls.page)
        write_file(os.path.join(docroot, name, "audio", ".htaccess"), htaccess)
        shutil.copyfile(cls.sample, os.path.join(docroot, name, "audio", "sample.mp3"))
        os.chmod(os.path.join(docroot, name, "audio", "sample.mp3"), 0o644)

    # ---- helpers ----

    def run_chromium(self, path):
        """Loads path with --dump-dom; returns (result dict, DOM, stderr).

        A browser that ends with no result at all (the page never reached its end: seen only
        on a starved machine, where virtual time runs out before the media pipeline starts)
        gets one fresh launch; a wrong result fails at once."""
        try:
            return self.run_chromium_once(path)
        except NoResult as first:
            try:
                return self.run_chromium_once(path)
            except NoResult as second:
                self.fail(f"{first}\n--- and again ---\n{second}")

    def run_chromium_once(self, path):
        chromium = shutil.which("chromium") or shutil.which("chromium-browser")
        self.assertIsNotNone(chromium, "chromium is not installed (scripts/ensure-deps test)")
        with tempfile.TemporaryDirectory(prefix="audio_stream_chromium_",
                                         ignore_cleanup_errors=True) as profile:
            args = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    "--autoplay-policy=no-user-gesture-required",
                    "--virtual-time-budget=60000", f"--user-data-dir={profile}",
                    "--dump-dom", self.server.url(path)]
            # Its own session, so that a timeout ends the browser and all its helpers.
            proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    text=True, start_new_session=True)
            try:
                dom, err = proc.communicate(timeout=CHROMIUM_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                dom, err = proc.communicate()
                self.fail(f"chromium did not finish within {CHROMIUM_TIMEOUT} s loading {path}"
                          f"\n--- chromium stderr (tail) ---\n{tail(err)}")
        m = re.search(r'<pre id="result">(.*?)</pre>', dom, re.S)
        text = html.unescape(m.group(1)).strip() if m else ""
        if not text:
            step = re.search(r'<p class="status" id="autotest-step">(.*?)</p>', dom, re.S)
            raise NoResult(f"no autotest result in the page loaded from {path} "
                      f"(chromium exit {proc.returncode}; "
                      f"last autotest {html.unescape(step.group(1)) if step else 'step: none'})"
                      f"\n--- chromium stderr (tail) ---\n{tail(err)}")
        try:
            return json.loads(text), dom, err
        except ValueError:
            self.fail(f"autotest result is not JSON: {text!r}")

    def assert_played_and_seeked(self, result):
        self.assertIsNone(result.get("error"), f"media error: {result}")
        self.assertTrue(result.get("seeked"), result)
        self.assertAlmostEqual(self.sample_duration, SAMPLE_SECONDS, delta=0.5,
                               msg="ffprobe's duration of the generated sample")
        self.assertAlmostEqual(result["duration"], self.sample_duration, delta=0.5,
                               msg=f"duration Chromium saw vs ffprobe's: {result}")
        self.assertGreaterEqual(result["currentTime"], SEEK_TO, result)

    def media_log(self, site):
        """The well-formed 206 answers for site's sample; fails on any other answer."""
        with open(os.path.join(self.server.root, MEDIA_LOG)) as f:
            entries = [LogEntry(l) for l in f.read().splitlines() if l]
        log = [e for e in entries if e.path == site + "audio/sample.mp3"]
        self.assertTrue(log, f"Chromium fetched no {site}audio/sample.mp3: {entries}")
        self.assertEqual([e for e in log if e.status != 206], [],
                         f"Chromium's media requests should all be answered 206: {log}")
        for e in log:
            self.assertIsNotNone(e.window(), e)
            first, last, length = e.window()
            self.assertEqual(last - first + 1, e.size, e)
            self.assertEqual(length, self.sample_size, e)
            self.assertEqual(e.dest, "audio", e)
        return log

    def assert_covers(self, log, seconds):
        """Playing past `seconds` needed the bytes there (roughly: the file is CBR)."""
        at = int(self.sample_size * seconds / self.sample_duration)
        self.assertTrue(any(e.window()[0] <= at <= e.window()[1] for e in log),
                        f"no 206 covers byte {at} ({seconds} s): {log}")

    # ---- tests ----

    def test_chromium_with_64k_pieces_for_every_range(self):
        result, _, _ = self.run_chromium(f"/index.html?autotest={SEEK_TO}")
        self.assert_played_and_seeked(result)
        log = self.media_log("/")
        # Start, seek, and at least one re-request where a short piece ended.
        self.assertGreaterEqual(len(log), 3, f"expected several 206 answers: {log}")
        for e in log:
            self.assertLessEqual(e.size, PIECE, f"a 206 larger than the 64K piece: {e}")
        self.assert_covers(log, SEEK_TO)

    def test_chromium_with_64k_pieces_for_media_ranges(self):
        result, _, _ = self.run_chromium(f"/media/index.html?autotest={SEEK_TO}")
        self.assert_played_and_seeked(result)
        log = self.media_log("/media/")
        for e in log:
            first, last, _ = e.window()
            asked = e.asked()
            self.assertIsNotNone(asked, e)
            if asked[1] is None:  # bytes=a-: capped to the piece
                self.assertEqual((first, last), (asked[0], min(asked[0] + PIECE, self.sample_size) - 1), e)
            else:                 # bytes=a-b: exactly as asked
                self.assertEqual((first, last), asked, e)
        self.assertTrue(any(e.size == PIECE for e in log), f"no answer was capped: {log}")
        self.assert_covers(log, SEEK_TO)

    def test_chromium_with_default_piece(self):
        result, _, _ = self.run_chromium(f"/full/index.html?autotest={SEEK_TO}")
        self.assert_played_and_seeked(result)
        log = self.media_log("/full/")
        for e in log:
            first, last, _ = e.window()
            asked = e.asked()
            self.assertIsNotNone(asked, e)
            # 8M holds the whole file: every range is answered as asked.
            self.assertEqual((first, last), (asked[0], self.sample_size - 1 if asked[1] is None
                                             else asked[1]), e)
        self.assert_covers(log, SEEK_TO)


def tail(text, lines=25):
    return "\n".join(text.splitlines()[-lines:])
