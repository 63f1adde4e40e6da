"""A real browser against the module: headless Chromium plays and seeks demo/index.html.

The page's autotest mode (index.html?autotest=SECONDS) plays muted, seeks, waits for playback
past the target and writes a JSON summary into <pre id="result">, which --dump-dom hands us.

Three copies of the page and a 60 s MP3, each configured by an .htaccess:
  /audio/        64K piece, scope all: every 206 is at most 64 KiB, so Chromium must come back
                 where each piece ended, and again after the seek;
  /media/audio/  64K piece, scope media (the default): only open-ended bytes=a- requests are
                 capped; Chromium, once it knows the length, asks closed ranges, served whole;
  /full/audio/   the defaults (8M piece, more than the file).
  /cut/audio/    time seek: the page loads audio/FILE?t=START (MP3, Ogg Vorbis, WAV, FLAC)
                 under a 64K piece, so Chromium fetches the cut in several ranges and seeks
                 inside it.
"""
import html
import json
import os
import re
import shutil
import subprocess
import time
import urllib.parse

from harness import REPO, ServerTestCase, chromium_dump_dom, request, write_file

SAMPLE_SECONDS = 60
SEEK_TO = 40
PIECE = 64 * 1024
DEFAULT_PIECE = 8 * 1024 * 1024  # conf/audio_stream.conf's AudioStreamPieceSize
CHROMIUM_TIMEOUT = 90

# Our own access log beside harness's: relative to ServerRoot, that is the server's root.
MEDIA_LOG = "media.log"
MEDIA_LOG_CONF = (
    'LogFormat "%>s\\t%B\\t%U\\t%{Range}i\\t%{Sec-Fetch-Dest}i\\t%{Content-Range}o\\t%q\\t'
    '%{If-Range}i" media\n'
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


def make_encoded(source, path, codec_args):
    """Another encoding of the sample (for the time-seek site)."""
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-i", source,
                    *codec_args, path], check=True, capture_output=True, timeout=120)
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
        (status, size, self.path, self.range, self.dest, self.content_range, self.query,
         self.if_range) = line.split("\t")
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
        return (f"{self.status} {self.size} {self.path}{self.query} range={self.range} "
                f"dest={self.dest} cr={self.content_range} if-range={self.if_range}")


class ChromiumPlayback(ServerTestCase):
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
        # /cut/: time seek under a 64K piece; the cuts' ETags must be strong (a day-old file).
        cls.add_site(docroot, "cut", b"SetHandler audio-stream\nAudioStreamPieceSize 64K\n"
                                     b"AudioStreamPieceScope all\n")
        cut_dir = os.path.join(docroot, "cut", "audio")
        make_encoded(cls.sample, os.path.join(cut_dir, "sample.ogg"), ["-c:a", "libvorbis", "-q:a", "4"])
        make_encoded(cls.sample, os.path.join(cut_dir, "sample.wav"), ["-c:a", "pcm_s16le"])
        make_encoded(cls.sample, os.path.join(cut_dir, "sample.flac"), ["-c:a", "flac"])
        make_encoded(cls.sample, os.path.join(cut_dir, "sample.opus"), ["-c:a", "libopus", "-b:a", "96k"])
        make_encoded(cls.sample, os.path.join(cut_dir, "vbr.mp3"), ["-c:a", "libmp3lame", "-q:a", "4"])
        day_ago = time.time() - 86400
        for name in ("sample.mp3", "sample.ogg", "sample.wav", "sample.flac", "sample.opus", "vbr.mp3"):
            os.utime(os.path.join(cut_dir, name), (day_ago, day_ago))

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
        done = chromium_dump_dom(self.server.url(path), "--disable-quic",
                                 "--autoplay-policy=no-user-gesture-required",
                                 "--virtual-time-budget=60000", timeout=CHROMIUM_TIMEOUT)
        if done is None:
            self.fail(f"chromium did not finish within {CHROMIUM_TIMEOUT} s loading {path}")
        returncode, dom, err = done
        m = re.search(r'<pre id="result">(.*?)</pre>', dom, re.S)
        text = html.unescape(m.group(1)).strip() if m else ""
        if not text:
            step = re.search(r'<p class="status" id="autotest-step">(.*?)</p>', dom, re.S)
            raise NoResult(f"no autotest result in the page loaded from {path} "
                      f"(chromium exit {returncode}; "
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
        log = [e for e in entries if e.path == site + "audio/sample.mp3" and not e.query]
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

    def assert_open_ranges_capped(self, log, piece):
        """bytes=a- is answered from a for at most `piece` bytes; bytes=a-b exactly as asked."""
        for e in log:
            first, last, _ = e.window()
            asked = e.asked()
            self.assertIsNotNone(asked, e)
            end = min(asked[0] + piece, self.sample_size) if asked[1] is None else asked[1] + 1
            self.assertEqual((first, last), (asked[0], end - 1), e)

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
        self.assert_open_ranges_capped(log, PIECE)
        self.assertTrue(any(e.size == PIECE for e in log), f"no answer was capped: {log}")
        self.assert_covers(log, SEEK_TO)

    def test_chromium_with_default_piece(self):
        result, _, _ = self.run_chromium(f"/full/index.html?autotest={SEEK_TO}")
        self.assert_played_and_seeked(result)
        log = self.media_log("/full/")
        # The piece holds the whole file: every range is answered as asked, bytes=a- to the end.
        self.assertLess(self.sample_size, DEFAULT_PIECE)
        self.assert_open_ranges_capped(log, DEFAULT_PIECE)
        self.assert_covers(log, SEEK_TO)


    # ---- time seek: Chromium plays ?t= cuts; the duration it reports is the original's less
    # the cut's start, playback advances, and a seek inside the cut is answered from the same
    # representation ----

    def play_cut(self, name, start, seek_to, tolerance=0.1):
        url = f"/cut/audio/{name}?t={start}"
        head = request(self.server.port, "HEAD", url)
        self.assertEqual(head.status, 200, head)
        m = re.fullmatch(r'"[^"]*-t(\d+)"', head.header("ETag") or "")
        self.assertIsNotNone(m, f"a strong cut ETag: {head}")
        cut_start = int(m.group(1)) / 1e6
        cut_length = int(head.header("Content-Length"))
        original = ffprobe_duration(os.path.join(self.server.docroot, "cut", "audio", name))
        result, _, _ = self.run_chromium(
            f"/cut/index.html?autotest={seek_to}&file={name}&start={start}")
        self.assertIsNone(result.get("error"), f"media error: {result}")
        query = "?t=" + urllib.parse.quote(str(start), safe="")  # as the page encodes it
        self.assertTrue(result["src"].endswith(f"/cut/audio/{name}{query}"), result)
        self.assertTrue(result.get("seeked"), result)
        self.assertGreater(result["currentTime"], seek_to, result)
        self.assertAlmostEqual(result["duration"], original - cut_start, delta=tolerance,
                               msg=f"Chromium's duration of the cut vs {original} less {cut_start}: {result}")
        with open(os.path.join(self.server.root, MEDIA_LOG)) as f:
            log = [LogEntry(l) for l in f.read().splitlines() if l]
        log = [e for e in log if e.path == f"/cut/audio/{name}" and e.query == query
               and e.dest == "audio"]
        self.assertTrue(log, "Chromium fetched the cut")
        for e in log:
            self.assertEqual(e.status, 206, e)
            first, last, length = e.window()
            self.assertEqual(length, cut_length, e)
            self.assertLessEqual(e.size, PIECE, e)
            # Chromium revalidates with the cut's own ETag, and the answer was still a 206
            # (mod_log_config writes the quotes escaped).
            if e.if_range != "-":
                self.assertEqual(e.if_range.replace('\\"', '"'), head.header("ETag"), e)
        # The figures for the report: what Chromium saw and how it asked.
        print(f"\n  {name} t={start}: cut start {cut_start:.6f}, original {original:.3f}, "
              f"Chromium duration {result['duration']:.3f}, currentTime {result['currentTime']:.3f}, "
              f"{len(log)} ranges, {sum(1 for e in log if e.if_range != '-')} with If-Range", flush=True)

    def test_chromium_plays_an_mp3_cut(self):
        self.play_cut("sample.mp3", 20, 25)

    def test_chromium_plays_an_ogg_vorbis_cut(self):
        self.play_cut("sample.ogg", "0:15", 30)

    def test_chromium_plays_a_wav_cut(self):
        self.play_cut("sample.wav", "00:00:30.500", 20)

    def test_chromium_plays_a_flac_cut(self):
        # Renumbered frames: Chromium (ffmpeg inside) times the cut from 0, not from 30.4 s.
        self.play_cut("sample.flac", "30.5", 20)

    def test_chromium_plays_an_ogg_opus_cut(self):
        # The cut starts 80 ms early (RFC 7845 pre-roll) and raises pre-skip to hide it; ffprobe
        # honours that, Chromium's duration counts the pre-roll (measured: +0.089 s).
        self.play_cut("sample.opus", "12.25", 20, tolerance=0.1 + 0.08)

    def test_chromium_plays_a_vbr_mp3_cut(self):
        # The fresh Xing frame gives the cut's duration; without it Chromium would guess.
        self.play_cut("vbr.mp3", "0:35", 10)


def tail(text, lines=25):
    return "\n".join(text.splitlines()[-lines:])
