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
import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse

from harness import REPO, ServerTestCase, autotest_result, chromium_dump_dom, request, write_file

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
        make_encoded(cls.sample, os.path.join(cut_dir, "sample.m4a"), ["-c:a", "aac", "-b:a", "128k"])
        day_ago = time.time() - 86400
        for name in ("sample.mp3", "sample.ogg", "sample.wav", "sample.flac", "sample.opus", "vbr.mp3",
                     "sample.m4a"):
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
        text, step = autotest_result(dom)
        if not text:
            raise NoResult(f"no autotest result in the page loaded from {path} "
                      f"(chromium exit {returncode}; last autotest {step})"
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
        # Chromium's media cache may revalidate a range it holds (If-None-Match, which this log
        # does not show): a 304 with no body is the right answer to that, and carries no window.
        self.assertEqual([e for e in log if e.status != 206 and (e.status, e.size) != (304, 0)], [],
                         f"Chromium's media requests should all be answered 206 (or 304): {log}")
        log = [e for e in log if e.status == 206]
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

    def test_chromium_plays_an_aac_m4a_cut(self):
        # The moov at the end (ffmpeg's default): the cut puts it first, so Chromium starts at once.
        self.play_cut("sample.m4a", "25.75", 20)

    def test_chromium_plays_a_vbr_mp3_cut(self):
        # The fresh Xing frame gives the cut's duration; without it Chromium would guess.
        self.play_cut("vbr.mp3", "0:35", 10)


    # ---- clips: Chromium and Firefox play ?t=START,END from the demo page's clip form; the
    # duration each reports is END less the clip's start, and playback ends there ----

    def play_clip(self, evaluate, browser, name, span, seek_to):
        url = f"/cut/audio/{name}?t={urllib.parse.quote(span, safe='')}"
        head = request(self.server.port, "HEAD", url)
        self.assertEqual(head.status, 200, head)
        m = re.fullmatch(r'"[^"]*-t(\d+)-(\d+)"', head.header("ETag") or "")
        self.assertIsNotNone(m, f"a strong clip ETag: {head}")
        start, end = int(m.group(1)) / 1e6, int(m.group(2)) / 1e6
        page = f"/cut/index.html?autotest={seek_to}&file={name}&start={urllib.parse.quote(span)}&toend=1"
        if evaluate is chromium_evaluate:
            result = evaluate(self.server.url(page), PAGE_RESULT, ready="location.pathname",
                              ready_value="/cut/index.html")
        else:
            result = evaluate(self.server.url(page), "return " + PAGE_RESULT)
        self.assertIsInstance(result, dict, f"{browser}: no result")
        self.assertIsNone(result.get("error"), f"{browser}: media error: {result}")
        self.assertTrue(result["src"].endswith(url), result)
        self.assertTrue(result.get("ended"), f"{browser} played {name} {span} to its end: {result}")
        print(f"\n  {browser} {name} t={span}: clip {start:.6f}-{end:.6f} ({end - start:.6f} s), "
              f"duration {result['duration']:.6f}, ended at {result['currentTime']:.6f}", flush=True)
        self.assertAlmostEqual(result["duration"], end - start, delta=0.1,
                               msg=f"{browser}: the duration of the clip {name} {span}: {result}")
        self.assertAlmostEqual(result["currentTime"], result["duration"], delta=0.1,
                               msg=f"{browser}: where the clip ended: {result}")

    CLIP_FILES = ("sample.mp3", "vbr.mp3", "sample.ogg", "sample.opus", "sample.flac", "sample.wav",
                  "sample.m4a")

    def test_chromium_plays_clips_from_the_demo_page(self):
        for name in self.CLIP_FILES:
            with self.subTest(file=name):
                self.play_clip(chromium_evaluate, "Chromium", name, "0:30,0:45", 12)

    def test_firefox_plays_clips_from_the_demo_page(self):
        for name in self.CLIP_FILES:
            with self.subTest(file=name):
                self.play_clip(firefox_evaluate, "Firefox", name, "0:30,0:45", 12)


# The demo page's autotest result, once it is there (what --dump-dom hands over), as a promise
# the browser awaits: over DevTools (Chromium) or Marionette (Firefox), in real time.
PAGE_RESULT = """new Promise((resolve) => {
  const poll = setInterval(() => {
    const text = document.getElementById("result").textContent;
    if (text) { clearInterval(poll); resolve(JSON.parse(text)); }
  }, 100);
});"""


def tail(text, lines=25):
    return "\n".join(text.splitlines()[-lines:])


# ---- exact starts: what Chromium and Firefox make of MP3 and Vorbis cuts ----------------------
#
# A probe page (PROBE, written into the docroot) reports, for /probe.html?orig=URL&cut=URL&
# sample=N&rate=HZ: the <audio> element's duration of the cut and its currentTime after a seek
# inside it; where the cut's first samples lie in the original, in samples from N (negative:
# before it), as decodeAudioData decodes it and as the element plays it (its output recorded
# through WebAudio at the file's rate, from the first sound on: the sources are never silent;
# not for a cut of less than 2 s, over before the recording settles).
# Chromium is driven over its DevTools protocol on a pipe (--remote-debugging-pipe), Firefox over
# Marionette's TCP protocol (both in the standard library): each evaluates window.probe, a
# promise, and hands back its value.

PROBE = r"""<!doctype html>
<meta charset="utf-8">
<title>probe</title>
<pre id="result"></pre>
<script>
const q = new URLSearchParams(location.search);
const rate = Number(q.get("rate"));
const at = Number(q.get("sample"));
const out = {};
function show(step) { out.step = step; document.getElementById("result").textContent = JSON.stringify(out); }
function element() {
  return new Promise((resolve) => {
    const a = new Audio();
    a.muted = true;
    a.preload = "auto";
    const timer = setTimeout(() => { out.elementError = "timeout"; resolve(); }, 20000);
    a.onerror = () => { out.elementError = String(a.error && a.error.code); clearTimeout(timer); resolve(); };
    a.onloadedmetadata = () => {
      out.duration = a.duration;
      a.onseeked = () => {
        out.seekedTo = a.currentTime;
        clearTimeout(timer);
        a.removeAttribute("src");  // its request would hold the cache entry the fetches want
        a.load();
        resolve();
      };
      a.currentTime = a.duration / 2;
    };
    a.src = q.get("cut");
  });
}
async function decode(url) {
  const bytes = await (await fetch(url, {cache: "no-store"})).arrayBuffer();
  const buf = await new OfflineAudioContext(1, rate, rate).decodeAudioData(bytes);
  const mono = new Float32Array(buf.length);
  for (let c = 0; c < buf.numberOfChannels; ++c) {
    const d = buf.getChannelData(c);
    for (let i = 0; i < buf.length; ++i) mono[i] += d[i] / buf.numberOfChannels;
  }
  return mono;
}
function played(expected) {
  return new Promise((resolve, reject) => {
    const ctx = new AudioContext({sampleRate: rate});
    const a = new Audio();
    const proc = ctx.createScriptProcessor(4096, 2, 2);
    const chunks = [];
    let got = 0;
    const finish = () => {
      a.pause();
      proc.disconnect();
      const all = new Float32Array(got);
      let o = 0;
      for (const c of chunks) { all.set(c, o); o += c.length; }
      out.contextRate = ctx.sampleRate;
      resolve(all);
    };
    proc.onaudioprocess = (e) => {
      const l = e.inputBuffer.getChannelData(0), r = e.inputBuffer.getChannelData(1);
      let m = new Float32Array(l.length);
      for (let i = 0; i < l.length; ++i) m[i] = (l[i] + r[i]) / 2;
      if (got === 0) {
        let k = 0;
        while (k < m.length && Math.abs(m[k]) < 1e-4) ++k;
        m = m.subarray(k);
      }
      if (m.length) { chunks.push(m); got += m.length; }
      if (got >= Math.min(expected, 8192)) finish();
    };
    ctx.createMediaElementSource(a).connect(proc);
    proc.connect(ctx.destination);
    a.onended = () => setTimeout(finish, 500);
    setTimeout(() => reject(new Error("no sound in 20 s")), 20000);
    a.src = q.get("cut");
    ctx.resume().then(() => a.play()).catch(reject);
  });
}
function locate(orig, part, name) {
  const n = Math.min(4096, part.length, orig.length - at);  // what the original has from t
  let best = null, bestError = Infinity;
  for (let lag = -3000; lag <= 3000; ++lag) {
    if (at + lag < 0 || at + lag + n > orig.length) continue;
    let e = 0;
    for (let i = 0; i < n; i += 2) { const d = orig[at + lag + i] - part[i]; e += d * d; }
    if (e < bestError) { bestError = e; best = lag; }
  }
  let xy = 0, xx = 0, yy = 0;
  for (let i = 0; best !== null && i < n; ++i) {
    const x = orig[at + best + i], y = part[i];
    xy += x * y; xx += x * x; yy += y * y;
  }
  out[name + "Lag"] = best;
  out[name + "Correlation"] = xy / Math.sqrt(xx * yy + 1e-12);
}
window.probe = (async () => {
  try {
    show("element"); await element();
    show("decode"); const orig = await decode(q.get("orig")); const cut = await decode(q.get("cut"));
    out.cutSamples = cut.length; out.origSamples = orig.length;
    locate(orig, cut, "decoded");
    if (cut.length >= 2 * rate) {  // a cut of a few packets is over before the recording settles
      show("play"); locate(orig, await played(cut.length), "played");
    }
  } catch (e) { out.error = String(e); }
  show("done");
  return out;
})();
</script>
"""

BROWSER_TIMEOUT = 120
EXACT_SECONDS = 20
# 20 s chirps (no silence, one alignment), as test_time_seek makes them.
EXACT_SOURCE = ("aevalsrc=0.5*sin(2*PI*(220+40*t)*t)|0.5*sin(2*PI*(330+25*t)*t):s=44100:d=%d"
                % EXACT_SECONDS)
EXACT_FILES = {"vbr.mp3": ["-c:a", "libmp3lame", "-q:a", "4"],
               "cbr.mp3": ["-c:a", "libmp3lame", "-b:a", "128k"],
               "vorbis.ogg": ["-c:a", "libvorbis", "-q:a", "4"],
               "aac.m4a": ["-c:a", "aac", "-b:a", "128k"]}
# t inside the first frames, in the middle, within a packet of the end.
EXACT_TIMES = ("0.03", "12.3", "19.99")


def chromium_evaluate(url, expression, timeout=BROWSER_TIMEOUT, ready="typeof window.probe", ready_value="object"):
    """Headless Chromium opens url and, once the page is complete and `ready` evaluates to
    `ready_value`, evaluates expression (awaiting a promise) over the DevTools protocol on a
    pipe: fd 3 takes commands, fd 4 answers, each a JSON text ended by NUL. Real time, unlike
    --dump-dom's virtual time (in which a media element never reaches its end). Returns the
    value; the browser and its helpers are killed after."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        raise AssertionError("chromium is not installed (scripts/ensure-deps test)")
    profile = tempfile.mkdtemp(prefix="audio_stream_cdp_")
    to_browser, from_browser = os.pipe(), os.pipe()

    def pipes():
        # dup first: dup2 onto the same number would keep close-on-exec.
        read, write = os.dup(to_browser[0]), os.dup(from_browser[1])
        os.dup2(read, 3)
        os.dup2(write, 4)

    proc = subprocess.Popen(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--autoplay-policy=no-user-gesture-required", f"--user-data-dir={profile}",
         "--remote-debugging-pipe", "about:blank"],
        preexec_fn=pipes, close_fds=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)
    os.close(to_browser[0])
    os.close(from_browser[1])
    deadline = time.monotonic() + timeout
    pending = [b"", 0]

    def call(method, params, session=None):
        pending[1] += 1
        message = {"id": pending[1], "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(to_browser[1], json.dumps(message).encode() + b"\0")
        while True:
            while b"\0" in pending[0]:
                raw, pending[0] = pending[0].split(b"\0", 1)
                answer = json.loads(raw)
                if answer.get("id") == pending[1]:
                    if "error" in answer:
                        raise AssertionError(f"chromium: {method}: {answer['error']}")
                    return answer["result"]
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([from_browser[0]], [], [], left)[0]:
                raise AssertionError(f"chromium did not answer {method} within {timeout} s")
            chunk = os.read(from_browser[0], 1 << 16)
            if not chunk:
                raise AssertionError("chromium closed its pipe")
            pending[0] += chunk

    try:
        target = call("Target.createTarget", {"url": url})["targetId"]
        session = call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        check = {"expression": f"document.readyState + ({ready})", "returnByValue": True}

        def loaded():
            try:
                return call("Runtime.evaluate", check, session)["result"].get("value") == "complete" + ready_value
            except AssertionError as e:
                if "Execution context was destroyed" in str(e):  # the page was still navigating
                    return False
                raise

        while not loaded():
            if time.monotonic() > deadline:
                raise AssertionError(f"the page did not load within {timeout} s")
            time.sleep(0.1)
        result = call("Runtime.evaluate", {"expression": expression, "awaitPromise": True,
                                           "returnByValue": True}, session)
        return result["result"].get("value")
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
        os.close(to_browser[1])
        os.close(from_browser[0])
        shutil.rmtree(profile, ignore_errors=True)


def firefox_evaluate(url, script, timeout=BROWSER_TIMEOUT):
    """Headless Firefox opens url and runs script (WebDriver:ExecuteScript, which awaits a
    returned promise) over Marionette: on a loopback port, messages are "length:JSON", commands
    [0, id, name, params], answers [1, id, error, result]. Audio goes to cubeb's mock context
    and autoplay is allowed. Returns the value; the browser is killed after."""
    firefox = shutil.which("firefox-esr") or shutil.which("firefox")
    if not firefox:
        raise AssertionError("firefox is not installed (scripts/ensure-deps test)")
    profile = tempfile.mkdtemp(prefix="audio_stream_marionette_")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    prefs = {"marionette.port": port, "media.cubeb.force_mock_context": True,
             "media.autoplay.default": 0, "browser.shell.checkDefaultBrowser": False,
             "datareporting.policy.dataSubmissionEnabled": False,
             "toolkit.telemetry.reportingpolicy.firstRun": False,
             "browser.startup.homepage_override.mstone": "ignore",
             "app.update.disabledForTesting": True, "network.proxy.type": 0}
    with open(os.path.join(profile, "user.js"), "w") as f:
        for name, value in prefs.items():
            f.write(f"user_pref({json.dumps(name)}, {json.dumps(value)});\n")
    proc = subprocess.Popen([firefox, "--headless", "--marionette", "--no-remote", "--profile", profile,
                             "about:blank"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=dict(os.environ, MOZ_HEADLESS="1"), start_new_session=True)
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise AssertionError("firefox's Marionette did not listen")
                time.sleep(0.2)
        with sock:
            buffered = [b""]

            def read():
                while b":" not in buffered[0]:
                    buffered[0] += recv()
                length, _, rest = buffered[0].partition(b":")
                while len(rest) < int(length):
                    rest += recv()
                buffered[0] = rest[int(length):]
                return json.loads(rest[:int(length)])

            def recv():
                chunk = sock.recv(1 << 16)
                if not chunk:
                    raise AssertionError("firefox closed the Marionette connection")
                return chunk

            def call(number, name, params):
                data = json.dumps([0, number, name, params]).encode()
                sock.sendall(str(len(data)).encode() + b":" + data)
                while True:
                    answer = read()
                    if answer[0] == 1 and answer[1] == number:
                        if answer[2]:
                            raise AssertionError(f"firefox: {name}: {answer[2]}")
                        return answer[3]

            read()  # the server's greeting
            call(1, "WebDriver:NewSession", {"capabilities": {}})
            call(2, "WebDriver:SetTimeouts", {"script": timeout * 1000, "pageLoad": timeout * 1000})
            call(3, "WebDriver:Navigate", {"url": url})
            return call(4, "WebDriver:ExecuteScript", {"script": script, "args": []})["value"]
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
        shutil.rmtree(profile, ignore_errors=True)


class BrowsersPlayExactStarts(ServerTestCase):
    """MP3, AAC (MP4) and Vorbis cuts in Chromium and Firefox: the duration each reports is the
    original's less the start within a packet, and what each decodes (decodeAudioData) and plays
    (<audio>) begins within a packet of t. MP3: both honour the LAME tag, to the sample. AAC: both
    honour the edit list after the roll packet, to the sample (Firefox, for a cut inside the last
    packet, then plays that packet's padding too: only what the original has is compared). Vorbis: both
    report the trimmed duration (Chromium one 1024-sample primer longer) but decode and play
    from the decoder's first output, the end of the primer packet: at most a packet before t."""

    @classmethod
    def prepare_docroot(cls, docroot):
        write_file(os.path.join(docroot, "probe.html"), PROBE.encode())
        master = os.path.join(docroot, "master.wav")
        subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                        EXACT_SOURCE, "-c:a", "pcm_s16le", master], check=True, capture_output=True,
                       timeout=120)
        day_ago = time.time() - 86400
        for name, codec in EXACT_FILES.items():
            path = os.path.join(docroot, "audio", name)
            make_encoded(master, path, codec)
            os.utime(path, (day_ago, day_ago))
        os.remove(master)

    def probe(self, evaluate, browser, name, t):
        head = request(self.server.port, "HEAD", f"/audio/{name}?t={t}")
        self.assertEqual(head.status, 200, head)
        start = int(re.fullmatch(r'"[^"]*-t(\d+)"', head.header("ETag")).group(1)) / 1e6
        first = (int(start * 1e6 + 0.5) * 44100 + 999999) // 1000000  # the start's sample
        query = urllib.parse.urlencode({"orig": f"/audio/{name}", "cut": f"/audio/{name}?t={t}",
                                        "sample": first, "rate": 44100})
        # The recording of what the element plays is real time: on a loaded machine the script
        # processor misses buffers and the recording has a gap (correlation well under 0.95 at
        # any lag, seen in CI). Such a recording is taken again, at most twice; a wrong start
        # correlates at its wrong lag and fails every time.
        for _ in range(3):
            result = evaluate(self.server.url(f"/probe.html?{query}"), "window.probe" if browser == "Chromium"
                              else "return window.probe")
            self.assertIsInstance(result, dict, f"{browser}: no probe result")
            if result.get("playedCorrelation", 1) > 0.95:
                break
            print(f"\n  {browser} {name} t={t}: the recording had a gap, again: {result}", flush=True)
        self.assertNotIn("error", result, f"{browser} {name} t={t}: {result}")
        self.assertNotIn("elementError", result, f"{browser} {name} t={t}: {result}")
        print(f"\n  {browser} {name} t={t}: start {start:.6f}, duration {result['duration']:.6f} "
              f"(original less start {EXACT_SECONDS - start:.6f}), seeked to {result.get('seekedTo')}, "
              f"decoded at {result['decodedLag']} samples (corr {result['decodedCorrelation']:.4f}), "
              f"played at {result.get('playedLag')} (corr {result.get('playedCorrelation', 0):.4f})", flush=True)
        mp3 = name.endswith(".mp3")
        exact = mp3 or name.endswith(".m4a")
        packet = (1152 if mp3 else 2048) / 44100
        self.assertAlmostEqual(result["duration"], EXACT_SECONDS - start, delta=packet + 1e-5,
                               msg=f"{browser}: the duration of {name} cut at {t}: {result}")
        self.assertAlmostEqual(result["seekedTo"], result["duration"] / 2, delta=0.01, msg=str(result))
        for what in ("decoded", "played") if result["cutSamples"] >= 2 * 44100 else ("decoded",):
            lag, corr = result[what + "Lag"], result[what + "Correlation"]
            self.assertIsNotNone(lag, f"{browser}: {what} {name} at {t}: {result}")
            if exact:
                self.assertEqual(lag, 0, f"{browser}: {what} {name} cut at {t}: {result}")
                self.assertGreater(corr, 0.99, f"{browser}: {what} {name} cut at {t}: {result}")
            else:
                # One packet: the primer packet's output, at most half a long block (1024
                # samples) before t. A cut in the last packet starts one sample before the
                # decoder's first output (its first page must end after the start).
                self.assertGreaterEqual(lag, -1024, f"{browser}: {what} {name} cut at {t}: {result}")
                self.assertLessEqual(lag, 1, f"{browser}: {what} {name} cut at {t}: {result}")
                self.assertGreater(corr, 0.95, f"{browser}: {what} {name} cut at {t}: {result}")

    def test_chromium_exact_starts(self):
        for name in EXACT_FILES:
            for t in EXACT_TIMES:
                with self.subTest(file=name, t=t):
                    self.probe(chromium_evaluate, "Chromium", name, t)

    def test_firefox_exact_starts(self):
        for name in EXACT_FILES:
            for t in EXACT_TIMES:
                with self.subTest(file=name, t=t):
                    self.probe(firefox_evaluate, "Firefox", name, t)
