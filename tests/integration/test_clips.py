"""Clips (?t=START,END) against a real httpd: every format clipped over HTTP and judged by
independent decoders, and a clip as a representation of its own.

Sources: 120 s chirps (no silence, one alignment), encoded as uploads are: LAME's own command
line (VBR) and ffmpeg's libmp3lame (CBR), flac, oggenc, opusenc, SoX (24-bit WAV), ffmpeg's AAC
and ALAC (the moov at the end), made a day old so that Apache's ETags are strong. A clip's ETag
ends in -t<start>-<end>: where it really starts (as the cut at START does) and where it ends (the
first sample boundary at or after END). Every oracle measures from that start:
  - ffmpeg decodes it without a word, and decodes exactly the samples from the start to END
    (FLAC: through the frame that holds END, whose samples STREAMINFO's total leaves out; MP4:
    ffmpeg 5.1 decodes the last packet whole, whatever the edit list says, on any file);
  - those samples are the original's: equal for the lossless formats, aligned and correlated at
    both ends for the lossy ones;
  - ffprobe's duration is END less the start within 0.15 s (what a player shows);
  - flac -t, ogginfo and opusinfo find nothing to say.
"""
import os
import re
import subprocess

from harness import Connection
import test_time_seek as ts

SECONDS = 120
STEREO44 = "aevalsrc=0.5*sin(2*PI*(220+4*t)*t)|0.5*sin(2*PI*(330+3*t)*t):s=44100:d=%d" % SECONDS
# name: (content type, decoder rate, lossless, samples the decoded end may run past END)
FORMATS = {
    "lame.mp3": ("audio/mpeg", 44100, False, 0),
    "cbr.mp3": ("audio/mpeg", 44100, False, 0),
    "tone.flac": ("audio/flac", 44100, True, 4608),  # through the frame holding END
    "vorbis.ogg": ("audio/ogg", 44100, False, 0),
    "opus.opus": ("audio/ogg", 48000, False, 0),
    "sox24.wav": ("audio/x-wav", 44100, True, 0),
    "aac.m4a": ("audio/mp4", 44100, False, 1024),  # ffmpeg: the last packet whole
    "alac.m4a": ("audio/mp4", 44100, True, 4096),
}
# A clip shorter than a packet of these may start up to one packet early (seconds).
SHORT_EARLY = {"vorbis.ogg": 1024 / 44100, "opus.opus": 0.020}
# (?t= as written, START, END): the middle, from 0, one millisecond, END inside the last packet
# (the last 1024 samples of every format), forms Media Fragments allows.
CLIPS = (
    ("30,45", 30.0, 45.0),
    (",5", 0.0, 5.0),
    ("7,7.001", 7.0, 7.001),
    ("100,119.995", 100.0, 119.995),
    ("npt:1:02.5,1:10", 62.5, 70.0),
)


def micros(seconds):
    return int(round(seconds * 1e6))


def clip_etag(etag):
    """(start, end) in microseconds from a clip's strong ETag "...-t<start>-<end>"."""
    m = re.fullmatch(r'"[^"]*-t(\d+)-(\d+)"', etag or "")
    assert m, f"not a strong clip ETag: {etag!r}"
    return int(m.group(1)), int(m.group(2))


def generate(docroot):
    """The sources, in docroot/audio; returns {name: path}."""
    audio = os.path.join(docroot, "audio")
    os.makedirs(audio, exist_ok=True)
    out = {name: os.path.join(audio, name) for name in FORMATS}
    with ts.scratch("audio_stream_clip_src_") as work:
        master = os.path.join(work, "master.wav")
        ts.ffmpeg("-f", "lavfi", "-i", STEREO44, "-c:a", "pcm_s16le", master)
        steps = (
            ["lame", "--quiet", "-V", "4", master, out["lame.mp3"]],
            ["ffmpeg", "-v", "error", "-i", master, "-c:a", "libmp3lame", "-b:a", "128k", out["cbr.mp3"]],
            ["flac", "-s", "-f", "-o", out["tone.flac"], master],
            ["oggenc", "-Q", "-q", "4", "-o", out["vorbis.ogg"], master],
            ["opusenc", "--quiet", master, out["opus.opus"]],
            ["sox", master, "-b", "24", out["sox24.wav"]],
            ["ffmpeg", "-v", "error", "-i", master, "-c:a", "aac", "-b:a", "128k", out["aac.m4a"]],
            ["ffmpeg", "-v", "error", "-i", master, "-c:a", "alac", out["alac.m4a"]],
        )
        for step in steps:
            r = ts.run(step)
            assert r.returncode == 0, (step, r.stderr)
    return ts.published(out)


class ClipCase(ts.TimeSeekCase):
    """Base: the generated files in /audio/; a clip is fetched as a cut is (cut, save)."""

    generate = staticmethod(generate)
    clip = ts.TimeSeekCase.cut


class ClipFormats(ClipCase):
    """Every format at every pair: the oracles of the module docstring. `formats` names the files
    generate() makes, as FORMATS does (test_real_files.py brings other files to the same tests)."""

    formats = FORMATS

    @classmethod
    def prepare_docroot(cls, docroot):
        super().prepare_docroot(docroot)
        cls.decoded = {name: ts.decode(path, cls.formats[name][2], from_zero=name.endswith(".ogg"))
                       for name, path in cls.paths.items()}
        cls.channels = {name: ts.probe_stream(path)[1] for name, path in cls.paths.items()}

    def test_every_format_every_pair(self):
        for name in self.formats:
            for t, start, end in CLIPS:
                with self.subTest(file=name, t=t):
                    self.check_clip(name, t, start, end)

    def check_clip(self, name, t, start, end):
        ctype, rate, lossless, overrun = self.formats[name]
        resp = self.clip(name, t)
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(resp.header("Content-Type"), ctype)
        self.assertEqual(resp.header("Content-Length"), str(len(resp.body)))
        start_us, end_us = clip_etag(resp.header("ETag"))
        cut = self.clip(name, t.split(",")[0] or "0")
        if name in SHORT_EARLY and end - start < SHORT_EARLY[name]:
            # Shorter than a packet: an Ogg clip may start up to one packet before the cut (a
            # Vorbis first page must keep the priming packet and a granule of at least 1; ffmpeg
            # drops an Opus pre-skip left over on the packet that carries the end trim).
            self.assertLessEqual(start_us, ts.etag_start(cut.header("ETag")))
            self.assertLessEqual(micros(start) - start_us, micros(SHORT_EARLY[name]))
        else:
            self.assertEqual(ts.etag_start(cut.header("ETag")), start_us, "a clip starts where the cut at START does")
        self.assertLessEqual(start_us, micros(start))
        self.assertGreaterEqual(end_us, micros(end))
        self.assertLess(end_us - micros(end), 1e6 / rate + 1, "the first sample boundary at or after END")
        path = self.save(resp.body, os.path.splitext(name)[1])
        r = ts.run(["ffmpeg", "-nostdin", "-v", "error", "-i", path, "-f", "null", "-"])
        self.assertEqual((r.returncode, r.stdout + r.stderr), (0, ""), "ffmpeg decodes it silently")
        self.check_tool(name, path)
        first = (start_us * rate + 999999) // 1000000  # the clip's first sample in the original
        last = (micros(end) * rate + 999999) // 1000000  # one past the last sample before END
        got = ts.decode(path, lossless, from_zero=name.endswith(".ogg"))
        channels = self.channels[name] if lossless else 1
        frames = len(got) // channels
        print(f"\n  {name} t={t}: start {start_us} us, end {end_us} us, decoded {frames} samples, "
              f"expected {last - first} (+{frames - (last - first)})", flush=True)
        if name.endswith(".m4a") and last - first < overrun:
            # START and END in one packet: ffmpeg 5.1 (mov_fix_index) takes the edit's length
            # for the packet's, and plays nothing or the whole packet from START. The tables
            # are right: ffprobe's duration is checked below.
            self.assertLessEqual(frames, overrun, "at most the packet")
            return self.check_probe(name, path, resp.body, (last - first) / rate, 1e-3)
        if name.endswith(".mp3") and last - first < 1152:
            # START and END in one decoded frame: ffmpeg 5.1 carries a packet's start skip and
            # end discard in one field, and the end's resets what is left of the start's
            # (decode.c): it ends at END and starts at that frame's first sample.
            self.assertGreaterEqual(frames, last - first, "the clip plays to END")
            self.assertLess(frames - (last - first), 1152, "from at most a frame before START")
            return self.check_probe(name, path, resp.body, (last - first) / rate, 0.15)
        self.assertGreaterEqual(frames, last - first - 1, "the clip plays to END, within a sample")
        self.assertLessEqual(frames - (last - first), max(overrun, 1), "and ends there")
        original = self.decoded[name]
        if lossless:
            want = original[first * channels:(first + frames) * channels]
            self.assertTrue(got == want, "the decoded clip is the original's samples")
        else:
            self.check_alignment(original, got, first, last - first)
        self.check_probe(name, path, resp.body, (last - first) / rate, 0.15)

    def check_probe(self, name, path, body, seconds, delta):
        """ffprobe's duration is the clip's (what a player shows), within delta."""
        expected = seconds
        if name.endswith(".mp3"):
            expected += ts.mp3_probe_excess(body, self.formats[name][1])
        if name.endswith(".opus"):
            expected += ts.opus_pre_skip(body) / 48000
        self.assertAlmostEqual(ts.ffprobe_duration(path), expected, delta=delta, msg="ffprobe's duration")

    def check_alignment(self, original, got, first, count):
        """A lossy clip begins and ends where the original's samples do: the best lag is 0 at
        both ends (what is long enough to judge)."""
        window = min(4096, count)
        if window < 1024:
            return  # a few milliseconds of a lossy codec: its count is all that can be judged
        lag, corr = ts.best_lag(original, first, got, window, range(-64, 65))
        self.assertEqual(lag, 0, "aligned at its start")
        self.assertGreater(corr, 0.95)
        tail = got[count - window:count]
        lag, corr = ts.best_lag(original, first + count - window, tail, window, range(-64, 65))
        self.assertEqual(lag, 0, "aligned at its end")
        self.assertGreater(corr, 0.95)

    def check_tool(self, name, path):
        if name.endswith(".flac"):
            r = ts.run(["flac", "-t", "-s", path])
            said = [l for l in r.stderr.splitlines()
                    if not l.endswith("WARNING, cannot check MD5 signature since it was unset in the STREAMINFO")]
            self.assertEqual((r.returncode, said), (0, []), "flac -t")
        elif name.endswith(".ogg") or name.endswith(".opus"):
            tool = "opusinfo" if name.endswith(".opus") else "ogginfo"
            r = ts.run([tool, path])
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertNotRegex(r.stdout + r.stderr, r"(?i)warning|error|corrupt|hole", tool)

    def audio_end(self, name):
        """Where the file's audio ends (seconds): an END there makes the cut from START, a START
        there is past the end."""
        return SECONDS

    def test_an_end_past_the_end_is_the_cut_from_start(self):
        for name in self.formats:
            with self.subTest(file=name):
                cut = self.clip(name, "100")
                end = self.audio_end(name)
                for t in (f"100,{end:.6f}", f"100,{end + 1:.6f}", "100,99999"):
                    clip = self.clip(name, t)
                    self.assertEqual(clip.status, 200, clip)
                    self.assertEqual(clip.header("ETag"), cut.header("ETag"), t)
                    self.assertTrue(clip.body == cut.body, t)

    def test_a_start_past_the_end_is_416_whatever_the_end(self):
        for name in self.formats:
            with self.subTest(file=name):
                end = self.audio_end(name)
                resp = self.clip(name, f"{end:.6f},{end + 10:.6f}")
                self.assertEqual(resp.status, 416, resp)
                self.assertIsNone(resp.header("Content-Range"))


class ClipHttp(ClipCase):
    """A clip is a representation of its own: validators, ranges, conditionals, HEAD, 400s."""

    def test_validators_are_distinct_from_the_cut_and_from_other_clips(self):
        whole = self.get("/audio/cbr.mp3")
        cut = self.clip("cbr.mp3", "30")
        etags = {}
        for t in ("30,45", "30,46", "31,45", "30,45.5"):
            resp = self.clip("cbr.mp3", t)
            self.assertEqual(resp.status, 200, resp)
            self.assertNotRegex(resp.header("ETag"), r"^W/")
            self.assertEqual(resp.header("Last-Modified"), whole.header("Last-Modified"))
            self.assertEqual(resp.header("Accept-Ranges"), "bytes")
            # The file's ETag, with the writers' generation and the clip's start and end inside
            # the quotes.
            self.assertEqual(re.sub(r"-c\d+-t\d+-\d+\"$", '"', resp.header("ETag")), whole.header("ETag"))
            self.assertLess(len(resp.body), len(cut.body))
            etags[t] = resp.header("ETag")
        self.assertEqual(len(set(etags.values())), len(etags), etags)
        self.assertNotIn(cut.header("ETag"), etags.values())
        # The same clip asked as Media Fragments may write it: the same representation.
        for t in ("30,45", "npt:30,45", "0:30,0:45", "00:00:30.000,45", "30%2C45", "npt%3A30%2C45"):
            with self.subTest(t=t):
                resp = self.clip("cbr.mp3", t)
                self.assertEqual((resp.status, resp.header("ETag")), (200, etags["30,45"]))

    def test_ranges_if_range_head_and_304(self):
        full = self.clip("cbr.mp3", "30,45")
        n, etag = len(full.body), full.header("ETag")
        part = self.clip("cbr.mp3", "30,45", [("Range", "bytes=100-1099")])
        self.assertEqual((part.status, part.header("Content-Range"), part.body),
                         (206, f"bytes 100-1099/{n}", full.body[100:1100]))
        tail = self.clip("cbr.mp3", "30,45", [("Range", "bytes=-10")])
        self.assertEqual((tail.status, tail.body), (206, full.body[-10:]))
        multi = self.clip("cbr.mp3", "30,45", [("Range", "bytes=0-9,500-599")])
        self.assertEqual(multi.status, 206, multi)
        self.assertIn(full.body[500:600], multi.body)
        same = self.clip("cbr.mp3", "30,45", [("Range", "bytes=10-19"), ("If-Range", etag)])
        self.assertEqual((same.status, same.body), (206, full.body[10:20]))
        cut_etag = self.clip("cbr.mp3", "30").header("ETag")
        other = self.clip("cbr.mp3", "30,45", [("Range", "bytes=10-19"), ("If-Range", cut_etag)])
        self.assertEqual((other.status, other.body), (200, full.body))
        head = self.clip("cbr.mp3", "30,45", method="HEAD")
        self.assertEqual((head.status, head.header("Content-Length"), head.header("ETag"), head.body),
                         (200, str(n), etag, b""))
        cached = self.clip("cbr.mp3", "30,45", [("If-None-Match", etag)])
        self.assertEqual((cached.status, cached.header("ETag"), cached.body), (304, etag, b""))
        for validator in (cut_etag, self.get("/audio/cbr.mp3").header("ETag")):
            self.assertEqual(self.clip("cbr.mp3", "30,45", [("If-None-Match", validator)]).status, 200)
        beyond = self.clip("cbr.mp3", "30,45", [("Range", f"bytes={n}-")])
        self.assertEqual((beyond.status, beyond.header("Content-Range")), (416, f"bytes */{n}"))

    def test_malformed_spans_are_400_with_one_info_line(self):
        for t in ("5,3", "5,5", "5,", ",", "1,2,3", "npt:", "npt:5,x", "smpte:0:00:05:00", "5,3%2C4"):
            with self.subTest(t=t):
                self.server.mark_log()
                resp = self.clip("cbr.mp3", t)
                self.assertEqual(resp.status, 400, resp)
                self.assertNotEqual(resp.header("Content-Type"), "audio/mpeg")
                lines = [l for l in self.server.log_since_mark() if "AS00" in l]
                self.assertEqual(len(lines), 1, lines)
                self.assertRegex(lines[0], r"\[audio_stream:info\].*AS0020")

    def test_the_clip_is_made_once_then_cached(self):
        conn = Connection(self.server.port)
        try:
            answers = []
            for _ in range(2):
                conn.send("GET", "/audio/tone.flac?t=10,20")
                answers.append(conn.read_response())
        finally:
            conn.close()
        self.assertEqual([a.status for a in answers], [200, 200])
        self.assertEqual(answers[0].body, answers[1].body)
        start, end = clip_etag(answers[0].header("ETag"))
        lines = [l for l in self.server.log_since_mark() if "AS0024" in l]
        self.assertEqual(len(lines), 2, lines)
        said = f"AS0024: ?t=10,20 -> clip from {start} us to {end} us, {len(answers[0].body)} bytes"
        self.assertIn(said + " (made", lines[0])
        self.assertIn(said + " (cached)", lines[1])
