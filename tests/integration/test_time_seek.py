"""Time seek (?t=) against a real httpd: each format cut over HTTP and judged by independent tools.

Files are generated once per class (ffmpeg, flac, oggenc, opusenc), made a day old so that
Apache's ETags are strong. A cut's ETag ends in -t<micros>: where the cut really starts on the
original's timeline (t's sample for MP3, Vorbis, Opus and WAV; a frame boundary at or before t
for FLAC; for Vorbis up to half a long block before t when a page ends that close before it).
Every oracle compares against that start:
  - ffprobe's duration of the cut ≈ the original's less the start (within a frame or packet;
    for MP3, ffprobe counts every frame whatever the LAME tag trims, see mp3_probe_excess);
  - `ffmpeg -v error -i cut -f null -` says nothing; flac -t / ogginfo / opusinfo are clean;
  - the decoded cut is the original from the start on: sample-exact for WAV and FLAC, the same
    alignment and a high correlation for the lossy codecs.
"""
import array
import concurrent.futures
import contextlib
import email.utils
import json
import math
import os
import random
import re
import shutil
import subprocess
import tempfile
import time
import unittest

from harness import Connection, ServerTestCase, write_file

DAY_AGO = time.time() - 86400
SECONDS = 20
TOOL_TIMEOUT = 120

# Chirps, so that a misaligned cut cannot match the original by accident.
STEREO44 = "aevalsrc=0.5*sin(2*PI*(220+40*t)*t)|0.5*sin(2*PI*(330+25*t)*t):s=44100:d=%d" % SECONDS
SIX48 = ("aevalsrc=" + "|".join(f"0.4*sin(2*PI*({f0}+{df}*t)*t)" for f0, df in
                                ((220, 40), (330, 25), (150, 30), (440, 20), (260, 35), (180, 45)))
         + ":s=48000:d=%d" % SECONDS)

# name: (content type, how far before t the cut may start (s), lossless, ffprobe tolerance (s))
FORMATS = {
    "cbr.mp3": ("audio/mpeg", 1 / 44100, False, 1e-5),
    "vbr.mp3": ("audio/mpeg", 1 / 44100, False, 1e-5),
    "tone.flac": ("audio/flac", 4608 / 44100, True, 1e-3),
    "vorbis.ogg": ("audio/ogg", 1025 / 44100, False, 1e-3),
    "opus.opus": ("audio/ogg", 1 / 48000 + 1e-6, False, 0.02),
    "pcm16.wav": ("audio/x-wav", 1 / 44100, True, 1e-3),
    "ext24x6.wav": ("audio/x-wav", 1 / 48000, True, 1e-3),
    "aac.m4a": ("audio/mp4", 1 / 44100, False, 1e-3),
    "alac.m4a": ("audio/mp4", 1 / 44100, True, 1e-3),
}
# ?t= forms and the time each names.
TIMES = {"0": 0.0, "3.25": 3.25, "0:12": 12.0, "00:00:17.500": 17.5}
# Exact starts at the edges: inside the first frames (the MP3 decoder delay, 529 samples, and
# lead-in; the first Vorbis packets) and within one packet of the end (MP3: 1152 samples).
EDGE_TIMES = {"0.01": 0.01, "0.03": 0.03, "0.1": 0.1, "19.99": 19.99, "19.999": 19.999}
EXACT = ("cbr.mp3", "vbr.mp3", "vorbis.ogg", "aac.m4a", "alac.m4a")


def aged(path, when=DAY_AGO):
    os.utime(path, (when, when))


def run(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, timeout=TOOL_TIMEOUT, **kw)


def ffmpeg(*args):
    r = run(["ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-y", *args])
    assert r.returncode == 0, r.stderr
    return r


def ffprobe_duration(path):
    r = run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", path])
    assert r.returncode == 0, r.stderr
    return float(r.stdout.strip())


def ffprobe_start_time(path):
    """Where the first packet sits on the timeline players show."""
    r = run(["ffprobe", "-v", "error", "-select_streams", "a:0", "-show_entries",
             "stream=start_time", "-of", "csv=p=0", path])
    assert r.returncode == 0, r.stderr
    return float(r.stdout.strip())


def decode(path, lossless, from_zero=False):
    """Interleaved samples as ffmpeg decodes them: every channel as s32 when lossless (exact),
    else a mono s16 mix (enough to check alignment). from_zero: as a player places them, without
    the samples timed before 0 (ffmpeg's command line writes those out too: a Vorbis cut's first
    page has decoders drop them, Vorbis I §A.2, and ffmpeg times them so, but only a filter
    drops them)."""
    args = ["ffmpeg", "-nostdin", "-v", "error", "-i", path]
    args += ["-af", "atrim=start=0"] if from_zero else []
    args += ["-f", "s32le"] if lossless else ["-ac", "1", "-f", "s16le"]
    r = subprocess.run(args + ["-"], capture_output=True, timeout=TOOL_TIMEOUT)
    assert r.returncode == 0 and not r.stderr, r.stderr
    samples = array.array("i" if lossless else "h")
    samples.frombytes(r.stdout)
    return samples


def last_packet_pts(path):
    """The first sample of an audio stream's last packet, in its time base (MP4: the sample rate)."""
    r = run(["ffprobe", "-v", "error", "-select_streams", "a:0", "-show_entries", "packet=pts",
             "-of", "csv=p=0", path])
    assert r.returncode == 0, r.stderr
    return int(r.stdout.split()[-1])


def probe_stream(path):
    r = run(["ffprobe", "-v", "error", "-select_streams", "a:0", "-show_entries",
             "stream=sample_rate,channels", "-of", "csv=p=0", path])
    assert r.returncode == 0, r.stderr
    rate, channels = r.stdout.strip().split(",")[:2]
    return int(rate), int(channels)


def best_lag(whole, guess, part, length, lags):
    """The lag in `lags` where part[0:length] best fits whole[guess + lag:] (least squares on
    every 4th sample), and the normalised correlation there."""
    best, best_error = None, None
    for lag in lags:
        at = guess + lag
        if at < 0 or at + length > len(whole):
            continue
        error = 0
        for i in range(0, length, 4):
            d = whole[at + i] - part[i]
            error += d * d
        if best_error is None or error < best_error:
            best, best_error = lag, error
    xy = xx = yy = 0
    for i in range(length):
        x, y = whole[guess + best + i], part[i]
        xy += x * y
        xx += x * x
        yy += y * y
    return best, xy / math.sqrt(xx * yy + 1e-9)


def opus_pre_skip(data):
    at = data.find(b"OpusHead")
    assert at >= 0
    return int.from_bytes(data[at + 10:at + 12], "little")


def ogg_page_granules(data):
    """The granule position of every audio page (RFC 3533 §6), in file order."""
    out, pos = [], 0
    while pos + 27 <= len(data):
        assert data[pos:pos + 4] == b"OggS", pos
        granule = int.from_bytes(data[pos + 6:pos + 14], "little", signed=True)
        segments = data[pos + 26]
        body = sum(data[pos + 27:pos + 27 + segments])
        if granule > 0:
            out.append(granule)
        pos += 27 + segments + body
    return out


def lame_tag(data):
    """(encoder delay, padding, frame count) from the Xing/Info frame's LAME tag of an MP3
    whose ID3v2 tag, if any, is followed by that frame; None without one."""
    at = 0
    if data[:3] == b"ID3":
        at = 10 + (data[6] << 21 | data[7] << 14 | data[8] << 7 | data[9])
    mpeg1, mono = (data[at + 1] >> 3 & 3) == 3, (data[at + 3] >> 6) == 3
    p = at + 4 + ((17 if mono else 32) if mpeg1 else (9 if mono else 17))
    if data[p:p + 4] not in (b"Xing", b"Info"):
        return None
    flags = int.from_bytes(data[p + 4:p + 8], "big")
    frames = int.from_bytes(data[p + 8:p + 12], "big") if flags & 1 else None
    p += 8 + 4 * bool(flags & 1) + 4 * bool(flags & 2) + 100 * bool(flags & 4) + 4 * bool(flags & 8)
    if data[p:p + 4] not in (b"LAME", b"Lavf", b"Lavc"):
        return None
    v = int.from_bytes(data[p + 21:p + 24], "big")
    return v >> 12, v & 0xFFF, frames


def mp3_probe_excess(data, rate):
    """What ffprobe (5.1) adds to an MP3's playing time: it counts every frame of the Xing frame
    count, the LAME tag's encoder delay and padding included (it trims them when decoding)."""
    tag = lame_tag(data)
    return (tag[0] + tag[1]) / rate if tag else 0.0


def top_level_boxes(data):
    """The types of an MP4 file's top-level boxes (ISO/IEC 14496-12 §4.2), in file order."""
    out, pos = [], 0
    while pos + 8 <= len(data):
        size, kind = int.from_bytes(data[pos:pos + 4], "big"), data[pos + 4:pos + 8].decode("latin-1")
        if size == 1:
            size = int.from_bytes(data[pos + 8:pos + 16], "big")
        elif size == 0:
            size = len(data) - pos
        assert size >= 8, (pos, kind, size)
        out.append(kind)
        pos += size
    assert pos == len(data), "boxes end with the file"
    return out


def etag_start(etag):
    """The cut's start in microseconds, from its strong ETag "...-c<generation>-t<micros>"."""
    m = re.fullmatch(r'"[^"]*-t(\d+)"', etag or "")
    assert m, f"not a strong cut ETag: {etag!r}"
    return int(m.group(1))


def generate(docroot):
    """The sources, in docroot/audio; returns {name: path}."""
    audio = os.path.join(docroot, "audio")
    with scratch("audio_stream_seek_src_") as work:
        master = os.path.join(work, "master.wav")
        ffmpeg("-f", "lavfi", "-i", STEREO44, "-c:a", "pcm_s16le", master)
        out = {name: os.path.join(audio, name) for name in FORMATS}
        ffmpeg("-i", master, "-c:a", "libmp3lame", "-b:a", "128k", out["cbr.mp3"])
        ffmpeg("-i", master, "-c:a", "libmp3lame", "-q:a", "4", out["vbr.mp3"])
        r = run(["flac", "-s", "-f", "-o", out["tone.flac"], master])
        assert r.returncode == 0, r.stderr
        r = run(["oggenc", "-Q", "-q", "4", "-o", out["vorbis.ogg"], master])
        assert r.returncode == 0, r.stderr
        r = run(["opusenc", "--quiet", master, out["opus.opus"]])
        assert r.returncode == 0, r.stderr
        shutil.copyfile(master, out["pcm16.wav"])
        ffmpeg("-f", "lavfi", "-i", SIX48, "-c:a", "pcm_s24le", out["ext24x6.wav"])
        # ffmpeg's default: the moov after the mdat.
        ffmpeg("-i", master, "-c:a", "aac", "-b:a", "128k", out["aac.m4a"])
        ffmpeg("-i", master, "-c:a", "alac", out["alac.m4a"])
    return published(out)


@contextlib.contextmanager
def scratch(prefix):
    """A working directory for making sources, removed afterwards."""
    work = tempfile.mkdtemp(prefix=prefix)
    try:
        yield work
    finally:
        shutil.rmtree(work, ignore_errors=True)


def saved(test, data, suffix):
    """data in a temporary file, removed when the test ends; its path."""
    fd, path = tempfile.mkstemp(prefix="audio_stream_cut_", suffix=suffix)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    test.addCleanup(os.remove, path)
    return path


def published(paths):
    """The generated files world-readable (the server runs as nobody) and a day old (strong ETags)."""
    for path in paths.values():
        os.chmod(path, 0o644)
        aged(path)
    return paths


class TimeSeekCase(ServerTestCase):
    """Base: the generated files in /audio/, and helpers to fetch and judge cuts."""

    generate = staticmethod(generate)

    @classmethod
    def prepare_docroot(cls, docroot):
        cls.paths = cls.generate(docroot)
        cls.data = {n: open(p, "rb").read() for n, p in cls.paths.items()}

    def cut(self, name, t, headers=(), method="GET"):
        return self.get(f"/audio/{name}?t={t}", headers, method)

    def save(self, data, suffix):
        return saved(self, data, suffix)


class TimeSeekFormats(TimeSeekCase):
    """Every format at every t form: the oracles of the module docstring."""

    @classmethod
    def prepare_docroot(cls, docroot):
        super().prepare_docroot(docroot)
        cls.info = {}
        # WAV has no timestamps of its own (ffprobe: N/A): its samples are positional.
        cls.start_times = {name: ffprobe_start_time(path) for name, path in cls.paths.items()
                           if not name.endswith(".wav")}
        for name, path in cls.paths.items():
            lossless = FORMATS[name][2]
            rate, channels = probe_stream(path)
            cls.info[name] = (ffprobe_duration(path), decode(path, lossless), rate, channels)
        cls.last_packet = {name: last_packet_pts(path) for name, path in cls.paths.items() if name.endswith(".m4a")}

    def test_generated_sources_are_what_they_claim(self):
        """The oracles below are only as good as the fixtures."""
        cbr, vbr = self.data["cbr.mp3"], self.data["vbr.mp3"]
        self.assertIn(b"Info", cbr[:4096], "a CBR MP3 with an Info frame")
        self.assertIn(b"Xing", vbr[:4096], "a VBR MP3 with a Xing frame")
        ext = self.data["ext24x6.wav"]
        self.assertEqual(ext[20:22], b"\xfe\xff", "WAVE_FORMAT_EXTENSIBLE")
        self.assertEqual(int.from_bytes(ext[22:24], "little"), 6)
        self.assertEqual(int.from_bytes(ext[34:36], "little"), 24)
        self.assertIn(b"OpusHead", self.data["opus.opus"][:200])
        self.assertIn(b"\x01vorbis", self.data["vorbis.ogg"][:200])
        for name in ("aac.m4a", "alac.m4a"):
            boxes = top_level_boxes(self.data[name])
            self.assertLess(boxes.index("mdat"), boxes.index("moov"), f"{name}: the moov at the end")
        for name in FORMATS:
            self.assertAlmostEqual(self.info[name][0], SECONDS, delta=0.1, msg=name)

    def check_cut(self, name, t_text, t=None):
        ctype, max_lead, _, probe_tol = FORMATS[name]
        duration, _, rate, _ = self.info[name]
        t = TIMES[t_text] if t is None else t
        with self.subTest(file=name, t=t_text):
            resp = self.cut(name, t_text)
            self.assertEqual(resp.status, 200, resp)
            self.assertEqual(resp.header("Content-Type"), ctype)
            self.assertEqual(resp.header("Content-Length"), str(len(resp.body)))
            start_us = etag_start(resp.header("ETag"))
            start = start_us / 1e6
            self.assertLessEqual(start, t, "a cut starts at or before t")
            self.assertLessEqual(t - start, max_lead, "and not earlier than the format needs")
            path = self.save(resp.body, os.path.splitext(name)[1])

            r = run(["ffmpeg", "-nostdin", "-v", "error", "-i", path, "-f", "null", "-"])
            self.assertEqual((r.returncode, r.stdout + r.stderr), (0, ""), "ffmpeg decodes it silently")
            probed = ffprobe_duration(path)
            expected = duration - start
            if name.endswith(".mp3"):
                # Compare like with like: what each plays, plus what ffprobe counts on top.
                expected += mp3_probe_excess(resp.body, rate) - mp3_probe_excess(self.data[name], rate)
            if name.endswith(".opus"):
                # ffprobe counts an Opus stream from granule 0, pre-skip included.
                expected += (opus_pre_skip(resp.body) - opus_pre_skip(self.data[name])) / 48000
            self.assertAlmostEqual(probed, expected, delta=probe_tol,
                                   msg=f"ffprobe duration vs original {duration} less start {start}")
            if name in self.start_times:
                # The cut's timeline starts where the original's does (Opus: less the pre-roll).
                self.assertAlmostEqual(ffprobe_start_time(path), self.start_times[name], delta=0.1,
                                       msg="the cut's first timestamp")
            said = self.check_tool(name, path)
            if name.endswith(".opus"):
                # opusinfo subtracts the pre-skip: the playback length is exact (in ms).
                m = re.search(r"Playback length: (\d+)m:([\d.]+)s", said)
                self.assertIsNotNone(m, said)
                self.assertAlmostEqual(int(m.group(1)) * 60 + float(m.group(2)), SECONDS - start,
                                       delta=1.5e-3, msg="opusinfo playback length")
            if name.endswith(".ogg"):
                # Vorbis cuts start at t's sample unless a page of the original ends within half
                # a long block (1024 samples) before it.
                sample = int(t * rate + 1e-6)
                if not any(sample - 1024 < g <= sample for g in ogg_page_granules(self.data[name])):
                    self.assertEqual(start_us, sample * 1000000 // rate, "a Vorbis cut starts at t's sample")
            if name.endswith(".mp3"):
                self.assertEqual(start_us, int(t * rate + 1e-6) * 1000000 // rate, "an MP3 cut starts at t's sample")
            self.check_samples(name, path, start_us, t)
            return start, probed, expected

    def check_tool(self, name, path):
        if name.endswith(".flac"):
            r = run(["flac", "-t", "-s", path])
            # A cut's MD5 is unknown, so the cutter leaves it unset (RFC 9639 §8.2): flac says
            # so and can say nothing else.
            said = [l for l in r.stderr.splitlines()
                    if not l.endswith("WARNING, cannot check MD5 signature since it was unset in the STREAMINFO")]
            self.assertEqual((r.returncode, said), (0, []), "flac -t")
        elif name.endswith(".ogg") or name.endswith(".opus"):
            tool = "opusinfo" if name.endswith(".opus") else "ogginfo"
            r = run([tool, path])
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertNotRegex(r.stdout + r.stderr, r"(?i)warning|error|corrupt|hole", tool)
            return r.stdout
        elif name.endswith(".m4a"):
            # A cut is always a faststart file: players read the moov first.
            boxes = [b for b in top_level_boxes(open(path, "rb").read()) if b not in ("free", "skip")]
            self.assertEqual(boxes[:3], ["ftyp", "moov", "mdat"], "an MP4 cut's top-level boxes")

    def check_samples(self, name, path, start_us, t):
        lossless = FORMATS[name][2]
        _, original, rate, channels = self.info[name]
        cut = decode(path, lossless, from_zero=name.endswith(".ogg"))
        first = (start_us * rate + 999999) // 1000000  # the cut's first sample in the original
        if name.endswith(".m4a") and first > self.last_packet[name]:
            # t inside the last packet: the edit list starts and ends inside one packet, and
            # ffmpeg 5.1 skips the edit's length there rather than its start, so it plays less
            # than is left (ALAC, none). The tables are checked above (ffprobe's duration).
            self.assertLessEqual(len(cut), (len(original) - first * channels) if lossless else len(original) - first)
            return
        if lossless:
            # Every sample of every channel, to the end.
            self.assertEqual(len(cut), len(original) - first * channels)
            self.assertTrue(cut == original[first * channels:], "decoded cut == original from start")
            return
        window = min(4096, len(cut))
        left = len(original) - first
        if left < 1152 and len(cut) > left:
            # t in the last frame or packet: ffmpeg (5.1) plays up to a frame before it. MP3:
            # it carries a delay longer than a frame over to the next, but the last frame's
            # padding replaces what is left. Vorbis: in a first page, it times a short block
            # after a long one 448 samples late. What it plays is still the original's end.
            self.assertLess(len(cut) - left, 1152, "starts within a frame of t")
            tail = original[len(original) - len(cut):]
            lag, corr = best_lag(tail, 0, cut, len(cut), range(0, 1))
            self.assertGreater(corr, 0.99 if name.endswith(".mp3") else 0.95, "the original's end")
            return
        if name.endswith(".mp3"):
            # The LAME tag's delay drops the frames before t; the decoder has all its main data
            # (the reservoir frame carries what the first frame borrows).
            lag, corr = best_lag(original, first, cut, window, range(-64, 65))
            self.assertEqual(lag, 0, "MP3 cut aligned to the sample from its start")
            self.assertGreater(corr, 0.99)
        elif name.endswith(".m4a"):
            # The edit list skips the pre-roll packet the roll group names: the decoder is
            # primed and the first sample played is t's.
            lag, corr = best_lag(original, first, cut, window, range(-64, 65))
            self.assertEqual(lag, 0, "AAC cut aligned to the sample")
            self.assertGreater(corr, 0.99)
        elif name.endswith(".opus"):
            # The pre-roll has converged the decoder: the first samples already match.
            lag, corr = best_lag(original, first, cut, window, range(-64, 65))
            self.assertEqual(lag, 0, "Opus cut aligned to the sample")
            self.assertGreater(corr, 0.99)
        else:
            # Vorbis: the first packet only primes the decoder (Vorbis I §1.3.2) and the first
            # page's granule position drops what it yields before the start.
            lag, corr = best_lag(original, first, cut, window, range(-64, 65))
            self.assertEqual(lag, 0, "Vorbis cut aligned to the sample from its start")
            self.assertGreater(corr, 0.95, f"Vorbis cut at lag {lag}")
        self.assertAlmostEqual(len(cut), len(original) - first, delta=1152 if name.endswith(".mp3") else 1024)

    def test_exact_starts_at_the_edges(self):
        """MP3, Vorbis and MP4 cuts start at t's sample, in the first frames and in the last."""
        self.check_cuts([(name, t_text, t) for name in EXACT for t_text, t in EDGE_TIMES.items()])

    def test_every_format_and_time_form(self):
        self.check_cuts([(name, t_text, None) for name in FORMATS for t_text in TIMES])

    def check_cuts(self, cases):
        """check_cut for each (file, t as written, t or None); AUDIO_STREAM_SEEK_FIGURES=path
        appends what was measured, for reports."""
        figures = []
        for name, t_text, t in cases:
            got = self.check_cut(name, t_text, t)
            if got:
                figures.append(f"{name} t={t_text}: start {got[0]:.6f} ffprobe {got[1]:.6f} "
                               f"expected {got[2]:.6f}")
        if os.environ.get("AUDIO_STREAM_SEEK_FIGURES"):
            with open(os.environ["AUDIO_STREAM_SEEK_FIGURES"], "a") as f:
                f.write("\n".join(figures) + "\n")


class TimeSeekHttp(TimeSeekCase):
    """A cut is a representation of its own: validators, ranges, conditionals, HEAD, piece."""

    @classmethod
    def copy_with_htaccess(cls, directory, htaccess):
        """A new directory holding an aged copy of cbr.mp3 and this .htaccess."""
        os.makedirs(directory)
        os.chmod(directory, 0o755)
        copy = os.path.join(directory, "cbr.mp3")
        shutil.copyfile(cls.paths["cbr.mp3"], copy)
        os.chmod(copy, 0o644)
        aged(copy)
        write_file(os.path.join(directory, ".htaccess"), htaccess)

    @classmethod
    def prepare_docroot(cls, docroot):
        super().prepare_docroot(docroot)
        audio = os.path.join(docroot, "audio")
        # The piece window on a cut: 64K for every media element's open-ended range.
        cls.copy_with_htaccess(os.path.join(audio, "piece"), b"AudioStreamPieceSize 64K\n")
        # Time seek switched off.
        cls.copy_with_htaccess(os.path.join(audio, "off"), b"AudioStreamTimeSeek Off\n")
        # And On again below it: the nearer directory wins.
        cls.copy_with_htaccess(os.path.join(audio, "off", "on"), b"AudioStreamTimeSeek On\n")
        # Types no cutter knows, and files that are not what their name says.
        rnd = random.Random(6)
        for name, data in (("raw.aac", rnd.randbytes(50_000)), ("notes.txt", b"hello\n" * 100),
                           ("junk.m4a", rnd.randbytes(100_000)),
                           ("junk.mp3", rnd.randbytes(100_000)), ("junk.flac", rnd.randbytes(100_000)),
                           ("junk.ogg", rnd.randbytes(100_000)), ("junk.wav", rnd.randbytes(100_000)),
                           ("empty.mp3", b"")):
            write_file(os.path.join(audio, name), data)
            aged(os.path.join(audio, name))

    def whole(self, name):
        resp = self.get(f"/audio/{name}")
        self.assertEqual(resp.status, 200, resp)
        return resp

    def test_cut_validators_and_headers(self):
        whole = self.whole("cbr.mp3")
        a = self.cut("cbr.mp3", "5")
        b = self.cut("cbr.mp3", "10")
        again = self.cut("cbr.mp3", "5")
        for resp in (a, b):
            self.assertEqual(resp.status, 200, resp)
            self.assertNotRegex(resp.header("ETag"), r"^W/", "a day-old file's cut has a strong ETag")
            self.assertNotEqual(resp.header("ETag"), whole.header("ETag"))
            self.assertEqual(resp.header("Last-Modified"), whole.header("Last-Modified"))
            self.assertEqual(resp.header("Last-Modified"), email.utils.formatdate(int(DAY_AGO), usegmt=True))
            self.assertEqual(resp.header("Accept-Ranges"), "bytes")
            self.assertEqual(resp.header("Content-Type"), "audio/mpeg")
            self.assertEqual(resp.header("Content-Length"), str(len(resp.body)))
            self.assertIsNone(resp.header("Content-Range"))
            # The file's ETag, with the writers' generation and the cut's start inside the quotes.
            self.assertEqual(re.sub(r"-c\d+-t\d+\"$", '"', resp.header("ETag")), whole.header("ETag"))
        self.assertNotEqual(a.header("ETag"), b.header("ETag"))
        self.assertNotEqual(a.body, b.body)
        self.assertEqual((again.header("ETag"), again.body), (a.header("ETag"), a.body))
        self.assertLess(len(a.body), len(whole.body))

    def test_the_cut_is_made_once_then_cached(self):
        # One connection, so one child process and its cache.
        conn = Connection(self.server.port)
        try:
            answers = []
            for _ in range(2):
                conn.send("GET", "/audio/vbr.mp3?t=7.5")
                answers.append(conn.read_response())
        finally:
            conn.close()
        self.assertEqual([a.status for a in answers], [200, 200])
        self.assertEqual(answers[0].body, answers[1].body)
        start, length = etag_start(answers[0].header("ETag")), len(answers[0].body)
        lines = [l for l in self.server.log_since_mark() if "AS0024" in l]
        self.assertEqual(len(lines), 2, lines)
        # A VBR file: the first cut of it also indexes it (README, "Seek indexes"), whichever
        # test of the class came first.
        self.assertRegex(lines[0], re.escape(f"AS0024: ?t=7.5 -> cut from {start} us, {length} bytes (made")
                         + r"(, file indexed)?\)")
        self.assertIn(f"AS0024: ?t=7.5 -> cut from {start} us, {length} bytes (cached)", lines[1])

    def test_concurrent_cuts_are_the_sequential_ones(self):
        # Many threads of one child share its cut cache: every answer must be the cut itself.
        wanted = [(name, t) for name in ("cbr.mp3", "vbr.mp3", "pcm16.wav", "vorbis.ogg")
                  for t in ("1", "2.5", "0:07", "13")]
        expected = {w: self.cut(*w).body for w in wanted}
        with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
            futures = {pool.submit(self.cut, *w): w for w in wanted * 3}
            for f in concurrent.futures.as_completed(futures, timeout=120):
                resp = f.result()
                self.assertEqual(resp.status, 200, resp)
                self.assertTrue(resp.body == expected[futures[f]], futures[f])

    def test_a_fresh_file_gives_a_weak_cut_etag_that_if_range_never_matches(self):
        # Apache makes the ETag weak while the file is under a second old; the cut's follows.
        # An mtime in the future keeps it that young however slow the machine.
        path = os.path.join(self.server.docroot, "audio", "fresh.wav")
        shutil.copyfile(self.paths["pcm16.wav"], path)
        os.chmod(path, 0o644)
        aged(path, time.time() + 3600)
        self.addCleanup(os.remove, path)
        full = self.cut("fresh.wav", "5")
        self.assertEqual(full.status, 200, full)
        self.assertRegex(full.header("ETag"), r'^W/"[^"]*-t5000000"$')
        ranged = self.cut("fresh.wav", "5", [("Range", "bytes=0-99"), ("If-Range", full.header("ETag"))])
        self.assertEqual(ranged.status, 200, ranged)
        self.assertEqual(ranged.body, full.body)

    def test_ranges_inside_the_cut(self):
        full = self.cut("cbr.mp3", "5")
        n = len(full.body)
        etag = full.header("ETag")
        pieces = []
        for first, last in ((0, 999), (1000, n // 2), (n // 2 + 1, n - 1)):
            resp = self.cut("cbr.mp3", "5", [("Range", f"bytes={first}-{last}")])
            self.assertEqual(resp.status, 206, resp)
            self.assertEqual(resp.header("Content-Range"), f"bytes {first}-{last}/{n}")
            self.assertEqual(resp.header("Content-Length"), str(last - first + 1))
            self.assertEqual(resp.header("ETag"), etag)
            pieces.append(resp.body)
        self.assertEqual(b"".join(pieces), full.body)
        suffix = self.cut("cbr.mp3", "5", [("Range", "bytes=-100")])
        self.assertEqual(suffix.status, 206, suffix)
        self.assertEqual(suffix.header("Content-Range"), f"bytes {n - 100}-{n - 1}/{n}")
        self.assertEqual(suffix.body, full.body[-100:])
        # Crossing the rewritten header block into the file extent, in one multipart answer.
        multi = self.cut("cbr.mp3", "5", [("Range", "bytes=0-9,400-499")])
        self.assertEqual(multi.status, 206, multi)
        self.assertIn(full.body[0:10], multi.body)
        self.assertIn(full.body[400:500], multi.body)
        beyond = self.cut("cbr.mp3", "5", [("Range", f"bytes={n}-")])
        self.assertEqual(beyond.status, 416, beyond)
        self.assertEqual(beyond.header("Content-Range"), f"bytes */{n}")

    def test_if_range_with_the_cut_validators(self):
        full = self.cut("cbr.mp3", "5")
        n = len(full.body)
        file_etag = self.whole("cbr.mp3").header("ETag")
        same = self.cut("cbr.mp3", "5", [("Range", "bytes=100-199"), ("If-Range", full.header("ETag"))])
        self.assertEqual(same.status, 206, same)
        self.assertEqual(same.body, full.body[100:200])
        other = self.cut("cbr.mp3", "5", [("Range", "bytes=100-199"), ("If-Range", file_etag)])
        self.assertEqual(other.status, 200, other)
        self.assertEqual(other.body, full.body)
        self.assertEqual(other.header("Content-Length"), str(n))
        other_cut = self.cut("cbr.mp3", "10", [("Range", "bytes=100-199"), ("If-Range", full.header("ETag"))])
        self.assertEqual(other_cut.status, 200, other_cut)
        by_date = self.cut("cbr.mp3", "5", [("Range", "bytes=100-199"),
                                           ("If-Range", full.header("Last-Modified"))])
        self.assertEqual(by_date.status, 206, by_date)
        self.assertEqual(by_date.body, full.body[100:200])

    def test_conditionals_with_the_cut_etag(self):
        full = self.cut("cbr.mp3", "5")
        file_etag = self.whole("cbr.mp3").header("ETag")
        cached = self.cut("cbr.mp3", "5", [("If-None-Match", full.header("ETag"))])
        self.assertEqual(cached.status, 304, cached)
        self.assertEqual(cached.header("ETag"), full.header("ETag"))
        self.assertEqual(cached.body, b"")
        # The file's validator does not stand for the cut, nor one cut's for another.
        for etag, t in ((file_etag, "5"), (full.header("ETag"), "10")):
            resp = self.cut("cbr.mp3", t, [("If-None-Match", etag)])
            self.assertEqual(resp.status, 200, resp)
        matched = self.cut("cbr.mp3", "5", [("If-Match", full.header("ETag"))])
        self.assertEqual(matched.status, 200, matched)
        failed = self.cut("cbr.mp3", "5", [("If-Match", file_etag)])
        self.assertEqual(failed.status, 412, failed)

    def test_head_is_get_without_body(self):
        for headers in ((), (("Range", "bytes=10-20"),)):
            get = self.cut("cbr.mp3", "5", headers)
            head = self.cut("cbr.mp3", "5", headers, method="HEAD")
            self.assertEqual(head.status, get.status)
            strip = lambda r: [(k, v) for (k, v) in r.headers if k.lower() not in ("date", "connection")]
            self.assertEqual(strip(head), strip(get))
            self.assertEqual(head.body, b"")

    def test_piece_window_on_a_cut(self):
        full = self.get("/audio/piece/cbr.mp3?t=5")
        n = len(full.body)
        self.assertGreater(n, 2 * 65536)
        media = [("Range", "bytes=0-"), ("Sec-Fetch-Dest", "audio")]
        capped = self.get("/audio/piece/cbr.mp3?t=5", media)
        self.assertEqual(capped.status, 206, capped)
        self.assertEqual(capped.header("Content-Range"), f"bytes 0-65535/{n}")
        self.assertEqual(capped.body, full.body[:65536])
        rest = self.get("/audio/piece/cbr.mp3?t=5", [("Range", f"bytes={n - 1000}-"), ("Sec-Fetch-Dest", "audio")])
        self.assertEqual(rest.header("Content-Range"), f"bytes {n - 1000}-{n - 1}/{n}")
        self.assertEqual(rest.body, full.body[-1000:])

    def test_other_query_parameters(self):
        plain = self.cut("cbr.mp3", "5")
        for query in ("foo=1&t=5", "t=5&foo=1", "t=%35", "t=5&t=9", "t=0:05", "t=00:00:05.000"):
            with self.subTest(query=query):
                resp = self.get(f"/audio/cbr.mp3?{query}")
                self.assertEqual(resp.status, 200, resp)
                self.assertEqual(resp.header("ETag"), plain.header("ETag"))
                self.assertEqual(resp.body, plain.body)
        whole = self.whole("cbr.mp3")
        for query in ("T=5", "tt=5", "foo=1", "xt=5"):
            with self.subTest(query=query):
                resp = self.get(f"/audio/cbr.mp3?{query}")
                self.assertEqual(resp.status, 200, resp)
                self.assertEqual(resp.header("ETag"), whole.header("ETag"))
                self.assertEqual(resp.body, self.data["cbr.mp3"])

    def test_t_zero_is_a_cut_of_the_whole_audio(self):
        resp = self.cut("cbr.mp3", "0")
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(etag_start(resp.header("ETag")), 0)
        path = self.save(resp.body, ".mp3")
        self.assertAlmostEqual(ffprobe_duration(path), ffprobe_duration(self.paths["cbr.mp3"]),
                               delta=1152 / 44100)

    def test_malformed_t_is_400(self):
        for t in ("abc", "-1", "1:75", "", "1:2", "5s", "1.2.3", "1:00:00:00", "0x10", "%zz",
                  "1e3", "+5", " 5", "1.1234567", "99999999999999"):
            with self.subTest(t=t):
                resp = self.get(f"/audio/cbr.mp3?t={t.replace(' ', '%20')}")
                self.assertEqual(resp.status, 400, resp)
                self.assertNotEqual(resp.header("Content-Type"), "audio/mpeg")
        self.assertTrue(any("AS0020" in l for l in self.server.log_since_mark()))

    def test_past_the_end_is_416(self):
        for name in FORMATS:
            for t in ("20", "21", "99", "1:00:00"):
                with self.subTest(file=name, t=t):
                    resp = self.cut(name, t)
                    self.assertEqual(resp.status, 416, resp)
                    # No byte representation exists to give a length of.
                    self.assertIsNone(resp.header("Content-Range"))
                    self.assertNotRegex(resp.header("Content-Type") or "", r"^audio/")
        # Just before the end is still a (short) cut.
        last = self.cut("pcm16.wav", "19.9")
        self.assertEqual(last.status, 200, last)

    def test_types_without_a_cutter_are_501(self):
        for name in ("raw.aac", "notes.txt"):
            with self.subTest(file=name):
                resp = self.cut(name, "5")
                self.assertEqual(resp.status, 501, resp)
                # Without t they are served as ever.
                self.assertEqual(self.whole(name).body, open(os.path.join(self.server.docroot, "audio", name), "rb").read())
        self.assertTrue(any("AS0021" in l for l in self.server.log_since_mark()))

    def test_malformed_file_is_500_with_one_error_line(self):
        for name in ("junk.mp3", "junk.flac", "junk.ogg", "junk.wav", "junk.m4a", "empty.mp3"):
            with self.subTest(file=name):
                self.server.mark_log()
                resp = self.cut(name, "5")
                self.assertEqual(resp.status, 500, resp)
                self.assertNotRegex(resp.header("Content-Type") or "", r"^audio/")
                lines = [l for l in self.server.log_since_mark() if "AS00" in l]
                self.assertEqual(len(lines), 1, lines)
                self.assertRegex(lines[0], r"\[audio_stream:error\].*AS0023: cannot cut .*" + re.escape(name))
        self.extra_expected_log.append(r"AS0023")

    def test_a_refusal_is_cached_as_a_cut_is(self):
        # The test server runs one child (start_servers=1, spare threads enough): the verdict a
        # file's parser reached once is the cache's the next time, at its own level and status.
        for name, t, status, level in (("junk.mp3", "6.125", 500, "error"), ("junk.m4a", "6.125", 500, "error"),
                                        ("cbr.mp3", "99.125", 416, "debug")):
            with self.subTest(file=name):
                lines = []
                for _ in range(2):
                    self.server.mark_log()
                    self.assertEqual(self.cut(name, t).status, status)
                    lines += [l for l in self.server.log_since_mark() if "AS00" in l]
                self.assertEqual(len(lines), 2, lines)
                self.assertNotIn("(verdict cached)", lines[0])
                self.assertRegex(lines[1], rf"\[audio_stream:{level}\].*{re.escape(name)}.*\(verdict cached\)$")
        self.extra_expected_log.append(r"AS0023")

    def test_time_seek_off_serves_the_whole_file(self):
        whole = self.get("/audio/off/cbr.mp3")
        for t in ("5", "abc", "99"):
            with self.subTest(t=t):
                resp = self.get(f"/audio/off/cbr.mp3?t={t}")
                self.assertEqual(resp.status, 200, resp)
                self.assertEqual(resp.header("ETag"), whole.header("ETag"))
                self.assertEqual(resp.body, self.data["cbr.mp3"])
        below = self.get("/audio/off/on/cbr.mp3?t=5")
        self.assertEqual(below.status, 200, below)
        self.assertEqual(below.body, self.cut("cbr.mp3", "5").body)
        self.assertNotEqual(below.body, self.data["cbr.mp3"])


class TimeSeekFileChanges(TimeSeekCase):
    """The cut cache is keyed by the file's identity: a changed file gets a new cut."""

    def test_changed_file_gets_a_new_cut(self):
        path = self.paths["cbr.mp3"]
        first = self.cut("cbr.mp3", "5")
        self.assertEqual(first.status, 200, first)
        # Another encoding of the same audio: another size, and an mtime an hour later.
        tmp = path + ".new.mp3"
        ffmpeg("-i", self.paths["pcm16.wav"], "-c:a", "libmp3lame", "-b:a", "64k", tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
        aged(path, DAY_AGO + 3600)
        second = self.cut("cbr.mp3", "5")
        self.assertEqual(second.status, 200, second)
        self.assertNotEqual(second.header("ETag"), first.header("ETag"))
        self.assertNotEqual(second.header("Last-Modified"), first.header("Last-Modified"))
        self.assertNotEqual(len(second.body), len(first.body))
        cut = self.save(second.body, ".mp3")
        r = run(["ffmpeg", "-nostdin", "-v", "error", "-i", cut, "-f", "null", "-"])
        self.assertEqual((r.returncode, r.stderr), (0, ""))
        start = etag_start(second.header("ETag")) / 1e6
        excess = mp3_probe_excess(second.body, 44100) - mp3_probe_excess(open(path, "rb").read(), 44100)
        self.assertAlmostEqual(ffprobe_duration(cut), ffprobe_duration(path) - start + excess, delta=1e-5)
        # And the old validator no longer matches.
        again = self.cut("cbr.mp3", "5", [("If-None-Match", first.header("ETag"))])
        self.assertEqual(again.status, 200, again)


class TimeSeekVirtualHosts(TimeSeekCase):
    """Each child has one cut cache, which every virtual host's requests use. A virtual host
    shares the main server's module record unless one of the module's directives appears in
    it: other.test has one (the default value), so it has a record of its own."""

    @classmethod
    def prepare_docroot(cls, docroot):
        super().prepare_docroot(docroot)
        port = cls.server.port
        cls.server.extra_conf = (
            f"<VirtualHost 127.0.0.1:{port}>\n    ServerName 127.0.0.1\n    DocumentRoot {docroot}\n"
            f"</VirtualHost>\n<VirtualHost 127.0.0.1:{port}>\n    ServerName other.test\n"
            f"    DocumentRoot {docroot}\n    AudioStreamMaxRanges 200\n</VirtualHost>\n")

    def test_one_cache_serves_every_virtual_host(self):
        # One connection, so one child process.
        conn = Connection(self.server.port)
        try:
            answers = []
            for host in ("other.test", "other.test", "127.0.0.1"):
                conn.send("GET", "/audio/cbr.mp3?t=4", host=host)
                answers.append(conn.read_response())
        finally:
            conn.close()
        self.assertEqual([a.status for a in answers], [200, 200, 200])
        self.assertEqual(answers[0].body, answers[1].body)
        self.assertEqual(answers[0].body, answers[2].body)
        lines = [l for l in self.server.log_since_mark() if "AS0024" in l]
        self.assertEqual(len(lines), 3, lines)
        self.assertEqual([l.rsplit("(", 1)[1] for l in lines], ["made)", "cached)", "cached)"])


class TimeSeekFlacTimeline(TimeSeekCase):
    """FLAC cuts renumber their frames from 0 (RFC 9639 §9.1.5, CRC-8 and CRC-16 recomputed):
    ffmpeg, and Chromium with it, time a cut's packets from its first frame's number, so a cut
    that kept the original numbers would start at t (30.4 s for a cut at 30.5 s) with a wrong
    duration. The cut starts at 0 and its first packet is timed 0."""

    def test_flac_cut_timeline_starts_at_zero(self):
        resp = self.cut("tone.flac", "12")
        self.assertEqual(resp.status, 200, resp)
        path = self.save(resp.body, ".flac")
        self.assertAlmostEqual(ffprobe_start_time(path), 0.0, delta=0.001)


class TimeSeekLongCutInSlices(ServerTestCase):
    """A cut of thousands of extents (a FLAC cut has two per frame) goes down in slices of 512
    extents, each flushed before the next is made, so that a request never holds the buckets of
    the whole cut: the bytes must be the same as those of ranged requests, and decode."""

    @classmethod
    def prepare_docroot(cls, docroot):
        # 576-sample frames: a 60 s cut has ~4,600 frames, ~9,200 extents, 18 slices.
        cls.path = os.path.join(docroot, "audio", "long.flac")
        ffmpeg("-f", "lavfi", "-i", "sine=frequency=330:duration=70", "-ar", "44100",
               "-c:a", "flac", "-frame_size", "576", cls.path)
        os.chmod(cls.path, 0o644)
        aged(cls.path)

    def test_whole_cut_equals_its_ranges_and_decodes(self):
        whole = self.get("/audio/long.flac?t=10")
        self.assertEqual(whole.status, 200, whole)
        length = int(whole.header("Content-Length"))
        self.assertEqual(len(whole.body), length)
        step = 1 << 20
        parts = []
        for first in range(0, length, step):
            last = min(length, first + step) - 1
            r = self.get("/audio/long.flac?t=10", [("Range", f"bytes={first}-{last}")])
            self.assertEqual((r.status, r.header("Content-Range")),
                             (206, f"bytes {first}-{last}/{length}"), r)
            parts.append(r.body)
        self.assertEqual(b"".join(parts), whole.body, "the sliced body differs from its ranges")
        cut = tempfile.mkstemp(prefix="audio_stream_cut_", suffix=".flac")
        with os.fdopen(cut[0], "wb") as f:
            f.write(whole.body)
        self.addCleanup(os.remove, cut[1])
        r = run(["flac", "-t", "-s", cut[1]])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertAlmostEqual(ffprobe_duration(cut[1]), 70 - etag_start(whole.header("ETag")) / 1e6,
                               delta=576 / 44100 + 1e-5)
        # HTTP/2 (h2c): each slice is read by the handler; the same bytes.
        h2 = subprocess.run(["curl", "-sS", "--http2-prior-knowledge", "-o", "-", "-w",
                             "%{http_version}", self.server.url("/audio/long.flac?t=10")],
                            capture_output=True, timeout=TOOL_TIMEOUT)
        self.assertEqual(h2.returncode, 0, h2.stderr)
        self.assertEqual(h2.stdout, whole.body + b"2", "the HTTP/2 body differs")


class TimeSeekMp4(ServerTestCase):
    """MP4 audio over HTTP: an audiobook's chapters after a cut, the faststart copy at t=0, a cut
    read by ffprobe through its own Range requests, and the MP4s no cut is made of."""

    CHAPTERS = (("Opening", 0, 7000), ("Storm", 7000, 16500), ("Harbour", 16500, 24000),
                ("Home", 24000, 30000))

    @classmethod
    def prepare_docroot(cls, docroot):
        audio = os.path.join(docroot, "audio")
        with scratch("audio_stream_mp4_src_") as work:
            meta = os.path.join(work, "chapters.txt")
            with open(meta, "w") as f:
                f.write(";FFMETADATA1\n")
                for title, start, end in cls.CHAPTERS:
                    f.write(f"[CHAPTER]\nTIMEBASE=1/1000\nSTART={start}\nEND={end}\ntitle={title}\n")
            tone = "aevalsrc=0.5*sin(2*PI*(220+20*t)*t):s=44100:d=30"
            ffmpeg("-f", "lavfi", "-i", tone, "-i", meta, "-map", "0:a", "-map_chapters", "1",
                   "-c:a", "aac", "-b:a", "64k", "-f", "ipod", os.path.join(audio, "book.m4b"))
            ffmpeg("-f", "lavfi", "-i", tone, "-c:a", "alac", os.path.join(audio, "alac.m4a"))
            ffmpeg("-f", "lavfi", "-i", tone, "-c:a", "aac", "-movflags", "frag_keyframe+empty_moov",
                   os.path.join(audio, "fragmented.m4a"))
            ffmpeg("-f", "lavfi", "-i", "testsrc=size=64x48:rate=5:duration=30", "-f", "lavfi", "-i", tone,
                   "-c:v", "mpeg4", "-c:a", "aac", "-shortest", os.path.join(audio, "video.mp4"))
        for name in os.listdir(audio):
            os.chmod(os.path.join(audio, name), 0o644)
            aged(os.path.join(audio, name))
        cls.audio = audio

    def probe_chapters(self, url_or_path):
        r = run(["ffprobe", "-v", "error", "-show_chapters", "-of", "json", url_or_path])
        self.assertEqual(r.returncode, 0, r.stderr)
        return [(c["tags"]["title"], float(c["start_time"]), float(c["end_time"]))
                for c in json.loads(r.stdout)["chapters"]]

    def test_chapters_after_t_are_kept_and_rebased(self):
        original = self.probe_chapters(os.path.join(self.audio, "book.m4b"))
        self.assertEqual([c[0] for c in original], [c[0] for c in self.CHAPTERS], "the fixture's chapters")
        for t in (0, 5, 7, 20.25):
            with self.subTest(t=t):
                resp = self.get(f"/audio/book.m4b?t={t}")
                self.assertEqual(resp.status, 200, resp)
                self.assertEqual(resp.header("Content-Type"), "audio/mp4")
                # ffprobe reads the cut from the server itself, with its own Range requests.
                got = self.probe_chapters(self.server.url(f"/audio/book.m4b?t={t}"))
                want = [(title, max(0.0, start - t), end - t) for title, start, end in original if end > t]
                self.assertEqual([c[0] for c in got], [c[0] for c in want])
                for (_, start, end), (_, w_start, w_end) in zip(got, want):
                    self.assertAlmostEqual(start, w_start, delta=1e-3)
                    self.assertAlmostEqual(end, w_end, delta=1e-3)
                url = self.server.url(f"/audio/book.m4b?t={t}")
                r = run(["ffmpeg", "-nostdin", "-v", "error", "-i", url, "-f", "null", "-"])
                self.assertEqual((r.returncode, r.stderr), (0, ""), "ffmpeg decodes it over HTTP")
                self.assertAlmostEqual(ffprobe_duration(url), 30 - t, delta=1024 / 44100)

    def test_t_zero_is_a_faststart_copy_with_the_same_audio(self):
        name = "alac.m4a"
        data = open(os.path.join(self.audio, name), "rb").read()
        self.assertLess(top_level_boxes(data).index("mdat"), top_level_boxes(data).index("moov"))
        plain = self.get(f"/audio/{name}")
        self.assertEqual(plain.body, data, "the plain URL is the file, byte for byte")
        cut = self.get(f"/audio/{name}?t=0")
        self.assertEqual(cut.status, 200, cut)
        self.assertNotEqual(cut.header("ETag"), plain.header("ETag"))
        self.assertEqual([b for b in top_level_boxes(cut.body) if b != "free"][:3], ["ftyp", "moov", "mdat"])
        path = os.path.join(tempfile.mkdtemp(prefix="audio_stream_mp4_"), name)
        self.addCleanup(shutil.rmtree, os.path.dirname(path), True)
        with open(path, "wb") as f:
            f.write(cut.body)
        self.assertTrue(decode(path, True) == decode(os.path.join(self.audio, name), True), "the same samples")
        # Ranges of the cut are its bytes; HEAD is GET without the body.
        length = len(cut.body)
        part = self.get(f"/audio/{name}?t=0", [("Range", "bytes=100-4099")])
        self.assertEqual((part.status, part.header("Content-Range"), part.body),
                         (206, f"bytes 100-4099/{length}", cut.body[100:4100]))
        head = self.get(f"/audio/{name}?t=0", method="HEAD")
        self.assertEqual((head.status, head.header("Content-Length"), head.body), (200, str(length), b""))

    def test_fragmented_and_video_mp4_are_501_with_one_log_line(self):
        for name, why in (("fragmented.m4a", "fragmented"), ("video.mp4", "video")):
            with self.subTest(file=name):
                self.server.mark_log()
                resp = self.get(f"/audio/{name}?t=5")
                self.assertEqual(resp.status, 501, resp)
                self.assertNotRegex(resp.header("Content-Type") or "", r"^(audio|video)/")
                lines = [l for l in self.server.log_since_mark() if "AS00" in l]
                self.assertEqual(len(lines), 1, lines)
                self.assertRegex(lines[0], r"\[audio_stream:warn\].*AS0025: no time seek for .*" +
                                 re.escape(name) + ".*" + why)
                # Without t it is served as ever.
                self.assertEqual(self.get(f"/audio/{name}").body,
                                 open(os.path.join(self.audio, name), "rb").read())
        self.extra_expected_log.append(r"AS0025")


class TimeSeekChainedOgg(ServerTestCase):
    """A chained Ogg file (two links, as stream recorders write: oggenc's two streams of serial
    numbers 1 and 2, one after the other) is refused with 501 and one AS0025 line, cut or clipped:
    a cut within its first link would end where that link does. Each link alone is cut."""

    @classmethod
    def prepare_docroot(cls, docroot):
        audio = os.path.join(docroot, "audio")
        with scratch("audio_stream_chain_src_") as work:
            links = []
            for serial, freq in ((1, 330), (2, 550)):
                wav = os.path.join(work, f"{serial}.wav")
                run(["sox", "-n", "-r", "44100", "-c", "2", "-b", "16", wav, "synth", "30", "sine", str(freq)],
                    check=True)
                link = os.path.join(audio, f"link{serial}.ogg")
                run(["oggenc", "-Q", "-s", str(serial), "-o", link, wav], check=True)
                links.append(open(link, "rb").read())
            write_file(os.path.join(audio, "chained.ogg"), b"".join(links))
        published({n: os.path.join(audio, n) for n in ("link1.ogg", "link2.ogg", "chained.ogg")})
        cls.audio = audio

    def test_a_chained_file_is_501_with_one_log_line_and_served_whole_without_t(self):
        for i, t in enumerate(("17.25", "41.25", "10,20", "35,50")):
            with self.subTest(t=t):
                self.server.mark_log()
                resp = self.get(f"/audio/chained.ogg?t={t}")
                self.assertEqual(resp.status, 501, resp)
                lines = [l for l in self.server.log_since_mark() if "AS00" in l]
                self.assertEqual(len(lines), 1, lines)
                self.assertRegex(lines[0], r"\[audio_stream:warn\].*AS0025: no time seek for .*chained\.ogg"
                                 r".*a chained Ogg file \(another stream's page at byte \d+\)")
                # The verdict is the file's: the first t reads the file, every other one looks it up.
                (self.assertNotIn if i == 0 else self.assertIn)("(verdict cached)", lines[0])
        self.extra_expected_log.append(r"AS0025")
        whole = open(os.path.join(self.audio, "chained.ogg"), "rb").read()
        self.assertEqual(self.get("/audio/chained.ogg").body, whole)
        for name in ("link1.ogg", "link2.ogg"):
            with self.subTest(file=name):
                cut = self.get(f"/audio/{name}?t=17.25")
                self.assertEqual(cut.status, 200, cut)
                self.assertAlmostEqual(ffprobe_duration(saved(self, cut.body, ".ogg")), 12.75, delta=0.05)


# Debian's python3 with python3-mutagen (scripts/ensure-deps test): the tests may run under
# another interpreter, which does not see Debian's packages.
DEBIAN_PYTHON = "/usr/bin/python3"

TAG_PODCAST = r"""
import sys
from mutagen.id3 import ID3, TIT2, TLEN, CTOC, CHAP, CTOCFlags, APIC
path, version, cover = sys.argv[1], int(sys.argv[2]), open(sys.argv[3], "rb").read()
tags = ID3()
tags.add(TIT2(encoding=3, text="Show"))
tags.add(CTOC(element_id="toc", flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED,
              child_element_ids=["chp0", "chp1", "chp2"], sub_frames=[TIT2(encoding=3, text="Contents")]))
for i, (start, end, title) in enumerate(((0, 10000, "Intro"), (10000, 20000, "Middle"), (20000, 30000, "End"))):
    tags.add(CHAP(element_id=f"chp{i}", start_time=start, end_time=end, start_offset=0xFFFFFFFF,
                  end_offset=0xFFFFFFFF, sub_frames=[TIT2(encoding=3, text=title)]))
tags.add(TLEN(encoding=0, text="30000"))
tags.add(APIC(encoding=0, mime="image/png", type=3, desc="cover", data=cover))
tags.save(path, v2_version=version)
"""

READ_TAG = r"""
import json, sys
from mutagen.id3 import ID3
t = ID3(sys.argv[1])
print(json.dumps({"title": str(t["TIT2"]), "length": str(t["TLEN"]) if "TLEN" in t else None,
                  "cover": t.getall("APIC")[0].data.hex(),
                  "toc": t.getall("CTOC")[0].child_element_ids,
                  "chapters": [[c.element_id, c.start_time, c.end_time, c.start_offset, c.end_offset,
                                str(c.sub_frames["TIT2"])] for c in t.getall("CHAP")]}))
"""


class TimeSeekId3Chapters(ServerTestCase):
    """A podcast MP3 (LAME, then chapters, a table of contents, a length and cover art written by
    mutagen, ID3v2.3 and v2.4): a cut or clip keeps the tag, its chapters rebased (ffprobe and
    mutagen read them), the cover art byte for byte, TLEN the cut's length."""

    @classmethod
    def prepare_docroot(cls, docroot):
        audio = os.path.join(docroot, "audio")
        with scratch("audio_stream_id3_src_") as work:
            wav = os.path.join(work, "talk.wav")
            run(["sox", "-n", "-r", "44100", "-c", "2", "-b", "16", wav, "synth", "30", "sine", "200-800"],
                check=True)
            cls.cover = os.path.join(work, "cover.png")
            ffmpeg("-f", "lavfi", "-i", "testsrc=size=64x64:duration=1", "-frames:v", "1", cls.cover)
            cls.cover_bytes = open(cls.cover, "rb").read()
            for version in (3, 4):
                path = os.path.join(audio, f"podcast-v2{version}.mp3")
                run(["lame", "--quiet", "-b", "128", wav, path], check=True)
                run([DEBIAN_PYTHON, "-c", TAG_PODCAST, path, str(version), cls.cover], check=True)
            published({n: os.path.join(audio, n) for n in os.listdir(audio) if n.startswith("podcast")})

    def check(self, name, t, chapters, length_ms):
        resp = self.get(f"/audio/{name}?t={t}")
        self.assertEqual(resp.status, 200, resp)
        path = saved(self, resp.body, ".mp3")
        probe = json.loads(run(["ffprobe", "-v", "error", "-show_chapters", "-show_format", "-of", "json", path],
                               check=True).stdout)
        self.assertEqual(probe["format"]["tags"].get("title"), "Show")
        # In the tag's order, which is mutagen's: sorted by start, as players show them.
        self.assertEqual(sorted((float(c["start_time"]), float(c["end_time"]), c["tags"]["title"])
                                for c in probe["chapters"]),
                         [(start / 1000, end / 1000, title) for _, start, end, title in chapters])
        # ffmpeg decodes the cut, trimmed by its LAME tag, to the sample: the tag misleads nothing.
        self.assertEqual(len(decode(path, False)), length_ms * 44100 // 1000)
        tag = json.loads(run([DEBIAN_PYTHON, "-c", READ_TAG, path], check=True).stdout)
        self.assertEqual(tag["title"], "Show")
        self.assertEqual(tag["length"], str(length_ms))
        self.assertEqual(bytes.fromhex(tag["cover"]), self.cover_bytes)
        self.assertEqual(tag["toc"], [c[0] for c in chapters])
        self.assertEqual(sorted(tag["chapters"], key=lambda c: c[1]),
                         [[cid, start, end, 0xFFFFFFFF, 0xFFFFFFFF, title] for cid, start, end, title in chapters])

    def test_cuts_and_clips_keep_the_tag_with_chapters_rebased(self):
        for name in ("podcast-v23.mp3", "podcast-v24.mp3"):
            with self.subTest(file=name):
                # 12 s: "Intro" ends before it, "Middle" holds it.
                self.check(name, "12", [("chp1", 0, 8000, "Middle"), ("chp2", 8000, 18000, "End")], 18000)
                self.check(name, "12,25", [("chp1", 0, 8000, "Middle"), ("chp2", 8000, 13000, "End")], 13000)
                self.check(name, ",5", [("chp0", 0, 5000, "Intro")], 5000)
                whole = self.get(f"/audio/{name}")
                self.assertEqual(whole.body, open(os.path.join(self.server.docroot, "audio", name), "rb").read())
