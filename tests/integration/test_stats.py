"""Download counting (AudioStreamStats): the AUDIO_* variables in a real access log, by the IAB
rules, against a real httpd; a fleet of two sharing memcached or Redis (test_stats_fleet.py)."""
import os
import re
import socket
import struct
import subprocess
import tempfile
import threading
import time
import unittest

import harness
from harness import Httpd

REPO = harness.REPO
CONF = os.path.join(REPO, "conf", "audio_stream.conf")
PODCAST_UA = "AppleCoreMedia/1.0.0.21A329 (iPhone; U; CPU OS 17_0 like Mac OS X; en_us)"
WINDOW = 256 * 1024


def audiostats_format():
    """The LogFormat line conf/audio_stream.conf documents (commented out there)."""
    with open(CONF) as f:
        for line in f:
            line = line.strip()
            if line.startswith("#LogFormat") and line.endswith("audiostats"):
                return line[1:]
    raise AssertionError("conf/audio_stream.conf has no audiostats LogFormat")


LINE = re.compile(r'^(?P<sec>\d+) (?P<listener>\S+) "(?P<path>[^"]*)" (?P<status>\d+) (?P<kind>\S+) '
                  r'(?P<sent>\S+) (?P<seconds>\S+) (?P<threshold>\S+) (?P<client>\S+) '
                  r'(?P<state>\S+) (?P<download>\S+) "(?P<ua>.*)"$')


def id3v2_tag(total):
    """An ID3v2.3 tag of exactly `total` bytes: header and padding."""
    n = total - 10
    size = bytes([(n >> 21) & 0x7F, (n >> 14) & 0x7F, (n >> 7) & 0x7F, n & 0x7F])
    return b"ID3\x03\x00\x00" + size + b"\x00" * n


def make_mp3(path, seconds, tag_bytes=4096):
    """CBR 128 kbit/s (16000 bytes of audio per second), after an ID3v2 tag of tag_bytes."""
    raw = path + ".raw.mp3"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                    f"sine=frequency=440:duration={seconds}", "-ac", "2", "-ar", "44100",
                    "-c:a", "libmp3lame", "-b:a", "128k", "-id3v2_version", "0", raw], check=True)
    with open(raw, "rb") as f:
        audio = f.read()
    os.unlink(raw)
    harness.write_file(path, id3v2_tag(tag_bytes) + audio)


def make_wav(path, seconds):
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                    f"anoisesrc=duration={seconds}:seed=7", "-ac", "2", "-ar", "44100",
                    "-c:a", "pcm_s16le", path], check=True)
    os.chmod(path, 0o644)


class AccessLog:
    """The audiostats lines of an httpd's access log, read as they arrive."""

    def __init__(self, path):
        self.path = path
        self.seen = 0

    def lines(self):
        if not os.path.exists(self.path):
            return []
        with open(self.path, errors="replace") as f:
            return [l.rstrip("\n") for l in f if l.strip()]

    def wait(self, n=1, timeout=10):
        """The next n records (httpd logs a request just after its response)."""
        deadline = time.monotonic() + timeout
        while True:
            lines = self.lines()
            if len(lines) >= self.seen + n or time.monotonic() > deadline:
                break
            time.sleep(0.02)
        new = lines[self.seen:self.seen + n]
        self.seen += len(new)
        if len(new) < n:
            raise AssertionError(f"expected {n} log lines, got {new}")
        records = []
        for line in new:
            m = LINE.match(line)
            if not m:
                raise AssertionError(f"not an audiostats line: {line!r}")
            records.append(m.groupdict())
        return records

    def skip_all(self):
        self.seen = len(self.lines())


def curl(url, *args, ua=PODCAST_UA, max_bytes=None):
    """(status, body) of one request with curl; ua None sends no User-Agent."""
    cmd = ["curl", "-s", "-g", "--max-time", "30", "-o", "-", "-w", "\n%{http_code}"]
    cmd += ["-A", ua] if ua is not None else ["-H", "User-Agent:"]
    out = subprocess.run(cmd + list(args) + [url], capture_output=True, check=False).stdout
    body, _, status = out.rpartition(b"\n")
    return int(status or 0), body


# Every server of a test fleet shares it, as a real fleet does through its configuration.
FLEET_SECRET = "a test fleet's shared secret, 32+ bytes\n"


def stats_conf(log_dir, cache=None, extra="", secret=FLEET_SECRET):
    lines = [audiostats_format(),
             f"CustomLog {log_dir}/downloads.log audiostats env=AUDIO_DOWNLOAD",
             "AudioStreamStats On"]
    if secret is not None:
        harness.write_file(os.path.join(log_dir, "stats.secret"), secret.encode(), mode=0o600)
        lines.append(f"AudioStreamStatsSecret {log_dir}/stats.secret")
    if cache:
        lines.append(f"AudioStreamStatsCache {cache}")
    return "\n".join(lines) + "\n" + extra


def stats_server(modules=("mime", "socache_shmcb"), cache=None, extra="", **options):
    """An httpd counting downloads, its access log written with the audiostats format."""
    fmt = audiostats_format()[len("LogFormat "):].rsplit(" ", 1)[0]
    fmt = fmt[1:-1].replace('\\"', '"')
    server = Httpd(modules=modules, log_format=fmt, **options)
    server.extra_conf = stats_conf(server.root, cache, extra)
    return server


class StatsTestCase(unittest.TestCase):
    """One counting httpd for the class, with the fixtures in audio/."""

    modules = ("mime", "socache_shmcb")
    extra = ""
    expected_log = ()

    @classmethod
    def setUpClass(cls):
        cls.server = cls.make_server()
        cls.server.extra_conf += cls.extra.replace("{docroot}", cls.server.docroot)
        audio = os.path.join(cls.server.docroot, "audio")
        cls.make_files(audio)
        cls.server.start()
        cls.log = AccessLog(os.path.join(cls.server.root, "access.log"))
        cls.downloads = AccessLog(os.path.join(cls.server.root, "downloads.log"))

    @classmethod
    def make_server(cls):
        return stats_server(modules=cls.modules)

    @classmethod
    def make_files(cls, audio):
        make_mp3(os.path.join(audio, "ep.mp3"), 180)
        make_mp3(os.path.join(audio, "short.mp3"), 30)

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    def setUp(self):
        self.server.mark_log()
        self.log.skip_all()
        self.downloads.skip_all()

    def tearDown(self):
        bad = self.server.unexpected_log_lines(self.expected_log)
        self.assertEqual(bad, [], "unexpected error-log lines")

    def url(self, name="ep.mp3", query=""):
        return self.server.url(f"/audio/{name}{query}")

    def fetch(self, *args, name="ep.mp3", ua=PODCAST_UA, query=""):
        """One request and its access-log record."""
        status, body = curl(self.url(name, query), *args, ua=ua)
        record = self.log.wait()[0]
        self.assertEqual(int(record["status"]), status)
        return status, body, record

    def size(self, name="ep.mp3"):
        return os.path.getsize(os.path.join(self.server.docroot, "audio", name))

    def threshold(self, name="ep.mp3"):
        _, _, record = self.fetch("-I", name=name, ua="threshold-probe")
        return int(record["threshold"])


class Rules(StatsTestCase):
    """PTMG v2.3 §5.5 on a 180 s CBR 128 kbit/s MP3 with a 4096-byte ID3v2 tag."""

    def test_threshold_is_the_tag_plus_one_minute_of_audio(self):
        want = 4096 + 60 * 16000
        got = self.threshold()
        self.assertLess(abs(got - want) / want, 0.005, got)

    def test_two_byte_probe_is_ignored(self):
        for spec in ("0-1", "0-0"):
            status, body, rec = self.fetch("-r", spec, ua="probe-ua " + spec)
            self.assertEqual((status, rec["kind"], rec["state"], rec["download"]), (206, "probe", "ignored", "-"))
            self.assertEqual((rec["sent"], rec["seconds"]), (f"{spec}/{self.size()}", "-"), "the tag only")

    def test_head_is_ignored(self):
        _, _, rec = self.fetch("-I", ua="head-ua")
        self.assertEqual((rec["kind"], rec["state"], rec["sent"]), ("head", "ignored", "-"))

    def test_not_modified_is_ignored(self):
        _, _, first = self.fetch("-r", "0-99", ua="notmod-ua")
        lm = subprocess.run(["curl", "-sI", self.url()], capture_output=True).stdout.decode()
        last_modified = re.search(r"Last-Modified: ([^\r\n]*)", lm).group(1)
        self.log.wait()  # the curl -I above
        status, _, rec = self.fetch("-H", f"If-Modified-Since: {last_modified}", ua="notmod-ua")
        self.assertEqual((status, rec["kind"], rec["state"]), (304, "notmod", "ignored"))

    def test_ranges_add_up_to_one_download(self):
        t = self.threshold()
        ua = "Overcast/3.0 (+http://overcast.fm/; iOS podcast app)"
        _, body1, rec = self.fetch("-r", f"0-{t - 2}", ua=ua)
        self.assertEqual((rec["kind"], rec["state"], rec["download"]), ("range", "partial", "-"))
        self.assertEqual(len(body1), t - 1)
        _, body2, rec = self.fetch("-r", f"{t - 1}-", ua=ua)
        self.assertEqual((rec["state"], rec["download"]), ("counted", "1"))
        self.assertEqual(rec["sent"], f"{t - 1}-{self.size() - 1}/{self.size()}")
        lines = self.downloads.wait()
        self.assertEqual(lines[0]["ua"], ua)
        # The same listener again: a duplicate, not a download.
        _, _, rec = self.fetch(ua=ua)
        self.assertEqual((rec["kind"], rec["state"], rec["download"]), ("full", "dup", "-"))
        # Another User-Agent from the same address is another listener.
        _, _, rec = self.fetch(ua=ua + " other")
        self.assertEqual((rec["state"], rec["download"]), ("counted", "1"))
        self.assertEqual(len(self.downloads.wait()), 1)
        time.sleep(0.3)
        self.assertEqual(len(self.downloads.lines()), self.downloads.seen, "one line per download")

    def test_apple_watch_and_bots_are_ignored(self):
        for ua, client in (("atc/1.0 watchOS/10.0 model/Watch6,1 hwp/t8301 build/21R356 (6; dt:280)", "watchos"),
                           ("AppleCoreMedia/1.0.0.21R356 (null)/(null) watchOS/10.0", "watchos"),
                           ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "bot"),
                           ("SomeCrawler/1.0", "bot")):
            _, _, rec = self.fetch(ua=ua)
            self.assertEqual((rec["kind"], rec["client"], rec["state"], rec["download"]),
                             ("full", client, "ignored", "-"), ua)

    def test_sequential_windows_count_on_the_fourth(self):
        ua = "window-listener/1.0"
        states = []
        for i in range(6):
            _, body, rec = self.fetch("-r", f"{i * WINDOW}-{(i + 1) * WINDOW - 1}", ua=ua)
            self.assertEqual(len(body), WINDOW)
            states.append(rec["state"])
        self.assertEqual(states, ["partial", "partial", "partial", "counted", "dup", "dup"])

    def test_seconds_of_the_first_audio_second(self):
        _, _, rec = self.fetch("-r", "4096-20095", ua="seconds-ua")
        self.assertEqual(rec["seconds"], "0.000-1.000")
        self.assertEqual(rec["sent"], f"4096-20095/{self.size()}")

    def test_short_file_counts_only_once_complete(self):
        size = self.size("short.mp3")
        self.assertEqual(self.threshold("short.mp3"), size)
        ua = "short-listener"
        _, _, rec = self.fetch("-r", f"0-{size // 2}", name="short.mp3", ua=ua)
        self.assertEqual(rec["state"], "partial")
        _, _, rec = self.fetch("-r", f"{size // 2 + 1}-{size - 2}", name="short.mp3", ua=ua)
        self.assertEqual(rec["state"], "partial")
        _, _, rec = self.fetch("-r", f"{size - 1}-", name="short.mp3", ua=ua)
        self.assertEqual((rec["state"], rec["download"]), ("counted", "1"))

    def test_multipart_counts_its_ranges(self):
        _, _, rec = self.fetch("-r", "0-99,1000-1999", ua="multipart-ua")
        self.assertEqual(rec["sent"], f"0-99,1000-1999/{self.size()}")
        self.assertEqual((rec["kind"], rec["state"]), ("range", "partial"))

    def test_cut_counts_for_its_file(self):
        ua = "cut-listener"
        _, body, rec = self.fetch(ua=ua, query="?t=60")
        self.assertEqual((rec["kind"], rec["state"], rec["download"]), ("cut", "counted", "1"))
        self.assertTrue(rec["seconds"].startswith("59.") or rec["seconds"].startswith("60."), rec["seconds"])
        self.assertEqual(rec["path"], "/audio/ep.mp3")
        _, _, rec = self.fetch(ua=ua)
        self.assertEqual(rec["state"], "dup", "the cut and the file are one download")

    def test_errors_are_ignored(self):
        status, _, rec = self.fetch(name="missing.mp3", ua="error-ua")
        self.assertEqual((status, rec["kind"], rec["state"], rec["threshold"]), (404, "error", "ignored", "-"))
        status, _, rec = self.fetch("-r", f"{self.size()}-", ua="error-ua")
        self.assertEqual((status, rec["kind"], rec["state"]), (416, "error", "ignored"))

    def test_no_user_agent_is_not_a_listener(self):
        _, _, rec = self.fetch(ua=None)
        self.assertEqual((rec["client"], rec["state"], rec["download"]), ("none", "ignored", "-"))
        self.assertEqual(rec["ua"], "-")

    def test_long_user_agent(self):
        ua = "LongAgent/" + "x" * 8000
        status, body, rec = self.fetch(ua=ua)
        self.assertEqual((status, len(body)), (200, self.size()))
        self.assertEqual((rec["client"], rec["state"]), ("ok", "counted"))

    def test_forwarded_for_is_not_the_client(self):
        ua = "xff-listener"
        _, _, rec = self.fetch(ua=ua)
        self.assertEqual(rec["state"], "counted")
        _, _, rec = self.fetch("-H", "X-Forwarded-For: 203.0.113.9", ua=ua)
        self.assertEqual(rec["state"], "dup")  # the same listener: the connection's address

    def test_http2_is_counted(self):
        status, body, rec = self.fetch("--http2-prior-knowledge", ua="h2-listener")
        self.assertEqual((status, len(body)), (200, self.size()))
        self.assertEqual((rec["kind"], rec["sent"], rec["state"]),
                         ("full", f"0-{self.size() - 1}/{self.size()}", "counted"))


def top_boxes(path):
    """[(type, offset, size)] of an MP4 file's top-level boxes."""
    out = []
    with open(path, "rb") as f:
        data = f.read()
    at = 0
    while at + 8 <= len(data):
        size = int.from_bytes(data[at:at + 4], "big")
        kind = data[at + 4:at + 8].decode("latin-1")
        header = 8
        if size == 1:
            size, header = int.from_bytes(data[at + 8:at + 16], "big"), 16
        elif size == 0:
            size = len(data) - at
        out.append((kind, at, size, header))
        at += size
    return out


class Mp4(StatsTestCase):
    """AAC in MP4 (.m4a), with the moov at the end (ffmpeg's default) and first (+faststart):
    the threshold is every byte that is not audio plus a minute of the mdat."""

    @classmethod
    def make_files(cls, audio):
        for name, flags in (("end.m4a", []), ("fast.m4a", ["-movflags", "+faststart"])):
            path = os.path.join(audio, name)
            subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "sine=frequency=330:duration=180",
                            "-ac", "2", "-c:a", "aac", "-b:a", "128k", *flags, path], check=True)
            os.chmod(path, 0o644)

    def test_threshold_and_counting(self):
        for name in ("end.m4a", "fast.m4a"):
            path = os.path.join(self.server.docroot, "audio", name)
            boxes = top_boxes(path)
            order = [b[0] for b in boxes if b[0] in ("moov", "mdat")]
            self.assertEqual(order, ["mdat", "moov"] if name == "end.m4a" else ["moov", "mdat"])
            _, offset, size, header = next(b for b in boxes if b[0] == "mdat")
            duration = float(subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration",
                                             "-of", "csv=p=0", path], capture_output=True, text=True).stdout)
            audio = size - header
            want = self.size(name) - audio + audio * 60 / duration
            got = self.threshold(name)
            self.assertLess(abs(got - want) / want, 0.005, (name, got, want))
            ua = "m4a-listener " + name
            _, _, rec = self.fetch("-r", f"0-{got - 2}", name=name, ua=ua)
            self.assertEqual(rec["state"], "partial")
            _, _, rec = self.fetch("-r", f"{got - 1}-{got - 1}", name=name, ua=ua)
            self.assertEqual((rec["state"], rec["download"]), ("counted", "1"))
            start = offset + header
            _, _, rec = self.fetch("-r", f"{start}-{start + audio // 180 * 10 - 1}", name=name, ua="secs " + name)
            s0, s1 = map(float, rec["seconds"].split("-"))
            self.assertEqual(s0, 0.0)
            self.assertAlmostEqual(s1, 10.0 * duration / 180, delta=0.05)

    def test_a_cut_counts_from_its_start(self):
        status, _, rec = self.fetch(name="end.m4a", query="?t=10", ua="m4a-seeker")
        self.assertEqual((status, rec["kind"], rec["state"], rec["download"]), (200, "cut", "counted", "1"))
        # The cut's first bytes are the AAC pre-roll packet (1024 samples) before t.
        s0, s1 = map(float, rec["seconds"].split("-"))
        self.assertTrue(10 - 2 * 1024 / 44100 <= s0 <= 10 and abs(s1 - 180) < 0.05, rec["seconds"])
        self.assertEqual(rec["path"], "/audio/end.m4a")


def lie_in_mp4(src, dst, stts=False):
    """A copy of `src` whose mvhd and mdhd (version 0) declare 0xFFFFFFFE ticks, and with `stts`
    whose first run's sample delta says 0xFFFFFF00 ticks too."""
    with open(src, "rb") as f:
        data = bytearray(f.read())
    for box in (b"mvhd", b"mdhd"):
        at = data.index(box) + 4
        assert data[at] == 0, box
        struct.pack_into(">I", data, at + 16, 0xFFFFFFFE)
    if stts:
        struct.pack_into(">I", data, data.index(b"stts") + 16, 0xFFFFFF00)
    with open(dst, "wb") as f:
        f.write(data)
    os.chmod(dst, 0o644)


class LyingMp4(StatsTestCase):
    """Issue 33: an MP4 whose mvhd says 0xFFFFFFFE ticks had a threshold of its header and a
    byte. The layout times the samples by stts, as players do, and no header lowers the
    threshold below the header bytes and 60 s at 8 kbit/s (or every byte)."""

    @classmethod
    def make_files(cls, audio):
        for name, duration, rate in (("real.m4a", 180, "64k"), ("tiny.m4a", 1, "24k")):
            path = os.path.join(audio, name)
            subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"sine=frequency=330:duration={duration}",
                            "-ac", "1", "-c:a", "aac", "-b:a", rate, path], check=True)
            os.chmod(path, 0o644)
            lie_in_mp4(path, os.path.join(audio, "lie-" + name))
            lie_in_mp4(path, os.path.join(audio, "stts-" + name), stts=True)

    def test_a_lying_header_does_not_lower_the_threshold(self):
        real = self.threshold("real.m4a")
        # The samples' 180.023 s, with the AAC priming packet that the honest mvhd leaves out:
        # 62 bytes below the honest file's threshold, not 514,000.
        lie = self.threshold("lie-real.m4a")
        self.assertLessEqual(lie, real)
        self.assertLess(real - lie, real * 0.0002, (lie, real))
        # A tiny file plays 1 s: every byte, whatever its headers say.
        self.assertEqual(self.threshold("lie-tiny.m4a"), self.size("lie-tiny.m4a"))
        self.assertEqual(self.threshold("stts-tiny.m4a"), self.size("stts-tiny.m4a"))
        # Lying sample deltas: held to the floor.
        _, _, size, header = next(b for b in top_boxes(os.path.join(self.server.docroot, "audio", "stts-real.m4a"))
                                  if b[0] == "mdat")
        floor = self.size("stts-real.m4a") - (size - header) + 60000
        self.assertEqual(self.threshold("stts-real.m4a"), floor)
        self.assertLess(floor, real)


class Clips(StatsTestCase):
    """A clip (?t=START,END) counts for its file, by the file bytes it carries: the seconds of
    the file it covers, a download once they reach the threshold."""

    def test_a_clip_counts_for_its_file(self):
        status, _, rec = self.fetch(query="?t=10,100", ua="clip-listener")
        self.assertEqual((status, rec["kind"], rec["state"], rec["download"]), (200, "cut", "counted", "1"))
        self.assertEqual(rec["path"], "/audio/ep.mp3")
        s0, s1 = map(float, rec["seconds"].split("-"))
        self.assertAlmostEqual(s0, 10, delta=0.1)
        self.assertAlmostEqual(s1, 100, delta=0.1)
        _, _, again = self.fetch(query="?t=10,100", ua="clip-listener")
        self.assertEqual((again["kind"], again["state"]), ("cut", "dup"))

    def test_a_short_clip_is_heard_not_downloaded(self):
        status, _, rec = self.fetch(query="?t=10,20", ua="clip-sampler")
        self.assertEqual((status, rec["kind"], rec["state"]), (200, "cut", "partial"))
        s0, s1 = map(float, rec["seconds"].split("-"))
        self.assertAlmostEqual(s1 - s0, 10, delta=0.1)


class Abandoned(StatsTestCase):
    """A client that leaves early is credited with what was sent, not what was promised."""

    @classmethod
    def make_files(cls, audio):
        make_wav(os.path.join(audio, "long.wav"), 300)  # 52.9 MB, threshold 10.6 MB

    def test_abandoned_transfer_reports_what_was_sent(self):
        size = self.size("long.wav")
        with socket.create_connection(("127.0.0.1", self.server.port)) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
            s.sendall(b"GET /audio/long.wav HTTP/1.1\r\nHost: x\r\nUser-Agent: leaver\r\n\r\n")
            got = 0
            while got < 1 << 20:
                chunk = s.recv(65536)
                if not chunk:
                    break
                got += len(chunk)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        rec = self.log.wait(timeout=30)[0]
        self.assertEqual(rec["kind"], "full")
        first, last = map(int, rec["sent"].split("/")[0].split("-"))
        sent = last - first + 1
        self.assertEqual(first, 0)
        self.assertLess(sent, size // 4, rec)
        self.assertEqual(sent % WINDOW, 0, "whole windows, each known written")
        self.assertEqual(rec["state"], "partial")
        self.assertGreater(int(rec["threshold"]), sent)


    def test_abandoned_http2_stream_reports_what_was_sent(self):
        size = self.size("long.wav")
        status, body = curl(self.url("long.wav"), "--http2-prior-knowledge", "--limit-rate", "500k",
                            "--max-time", "2", ua="h2-leaver")
        self.assertLess(len(body), size // 4)
        rec = self.log.wait(timeout=30)[0]
        first, last = map(int, rec["sent"].split("/")[0].split("-"))
        sent = last - first + 1
        self.assertEqual((rec["kind"], first, rec["state"]), ("full", 0, "partial"))
        # What went out on the stream (test_stats_h2.py), which here includes what the
        # loopback's socket buffers took beyond what curl read before it left.
        self.assertLess(sent, size // 4, rec)
        self.assertGreater(sent, 0, rec)


class Concurrent(StatsTestCase):
    """50 listeners at once, each in several windows: exactly 50 downloads (shmcb)."""

    @classmethod
    def make_files(cls, audio):
        make_mp3(os.path.join(audio, "ep.mp3"), 180)

    def test_fifty_listeners(self):
        errors = []

        def listener(i):
            for w in range(5):
                status, body = curl(self.url(), "-r", f"{w * WINDOW}-{(w + 1) * WINDOW - 1}",
                                    ua=f"Listener/{i}")
                if status != 206 or len(body) != WINDOW:
                    errors.append((i, w, status, len(body)))

        threads = [threading.Thread(target=listener, args=(i,)) for i in range(50)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        self.assertEqual(errors, [])
        records = self.log.wait(250, timeout=30)
        states = [r["state"] for r in records]
        self.assertEqual(states.count("counted"), 50)
        self.assertEqual(states.count("dup"), 50)
        self.assertEqual(len(self.downloads.wait(50)), 50)
        self.assertEqual(sorted({r["ua"] for r in records if r["download"] == "1"}),
                         sorted(f"Listener/{i}" for i in range(50)))


def is_listener_key(text):
    return re.fullmatch(r"[0-9a-f]{16}", text) is not None


class RemoteIp(StatsTestCase):
    """With mod_remoteip trusting the proxy, X-Forwarded-For names the listener; the log holds
    the listener's key of the day, never the address."""

    modules = ("mime", "socache_shmcb", "remoteip")
    extra = "RemoteIPHeader X-Forwarded-For\nRemoteIPInternalProxy 127.0.0.1\n"

    def test_forwarded_clients_are_listeners(self):
        keys = []
        for ip, state in (("203.0.113.9", "counted"), ("203.0.113.10", "counted"), ("203.0.113.9", "dup"),
                          ("2001:db8:1:2::5", "counted"), ("2001:db8:1:2:ffff::9", "dup")):
            _, _, rec = self.fetch("-H", f"X-Forwarded-For: {ip}", ua="behind-proxy")
            self.assertEqual(rec["state"], state, f"{ip}: an IPv6 /64 is one listener")
            keys.append(rec["listener"])
        # The first request of each listener had the day's salt at hand (a dup this child
        # remembered needs none, and logs "-").
        self.assertTrue(all(is_listener_key(k) for k in (keys[0], keys[1], keys[3])), keys)
        self.assertNotEqual(keys[0], keys[1])
        self.assertEqual(keys[2:5:2], ["-", "-"])
        with open(self.log.path) as f:
            text = f.read()
        for ip in ("203.0.113", "2001:db8"):
            self.assertNotIn(ip, text)

    def test_a_listener_has_one_key_whatever_the_file(self):
        ua = "one-key-listener"
        _, _, first = self.fetch("-r", "0-99", "-H", "X-Forwarded-For: 198.51.100.7", ua=ua)
        _, _, other = self.fetch("-r", "0-99", "-H", "X-Forwarded-For: 198.51.100.7", ua=ua, name="short.mp3")
        _, _, v6 = self.fetch("-r", "0-99", "-H", "X-Forwarded-For: 2001:db8:9:9::1", ua=ua)
        _, _, v6_same = self.fetch("-r", "100-199", "-H", "X-Forwarded-For: 2001:db8:9:9:abcd::2", ua=ua)
        self.assertEqual([r["state"] for r in (first, other, v6, v6_same)], ["partial"] * 4)
        self.assertTrue(is_listener_key(first["listener"]), first)
        self.assertEqual(first["listener"], other["listener"])
        self.assertEqual(v6["listener"], v6_same["listener"])
        self.assertNotEqual(first["listener"], v6["listener"])


class Ipv6(StatsTestCase):
    """A client over IPv6."""

    @classmethod
    def setUpClass(cls):
        cls.port6 = harness.free_port()
        cls.extra = f"Listen [::1]:{cls.port6}\n"
        super().setUpClass()

    @classmethod
    def make_files(cls, audio):
        make_mp3(os.path.join(audio, "ep.mp3"), 30)

    def test_ipv6_client(self):
        status, body = curl(f"http://[::1]:{self.port6}/audio/ep.mp3", ua="v6-listener")
        rec = self.log.wait()[0]
        self.assertEqual((status, len(body)), (200, self.size()))
        self.assertEqual((rec["state"], rec["download"]), ("counted", "1"))
        self.assertTrue(is_listener_key(rec["listener"]), rec)
        status, _ = curl(f"http://[::1]:{self.port6}/audio/ep.mp3", ua="v6-listener")
        self.assertEqual(self.log.wait()[0]["state"], "dup")


class Redirected(StatsTestCase):
    """The handler runs in an internal redirect (per-directory mod_rewrite): the variables are
    still on the request as it arrived, which mod_log_config's env= looks at."""

    modules = ("mime", "socache_shmcb", "rewrite")

    @classmethod
    def setUpClass(cls):
        cls.extra = harness.httpd_conf.directory(
            "{docroot}/pod", "RewriteEngine On", "RewriteRule ^(.*)$ /audio/$1 [L]")
        super().setUpClass()

    @classmethod
    def make_files(cls, audio):
        make_mp3(os.path.join(audio, "ep.mp3"), 30)
        os.makedirs(os.path.join(os.path.dirname(audio), "pod"), mode=0o755)

    def test_variables_reach_the_original_request(self):
        status, body = curl(self.server.url("/pod/ep.mp3"), ua="redirected-listener")
        rec = self.log.wait()[0]
        self.assertEqual((status, len(body)), (200, self.size()))
        self.assertEqual((rec["path"], rec["kind"], rec["state"], rec["download"]),
                         ("/pod/ep.mp3", "full", "counted", "1"))
        self.assertEqual(self.downloads.wait()[0]["path"], "/pod/ep.mp3")


class NoSecret(unittest.TestCase):
    """Counting without AudioStreamStatsSecret: one warning at startup says what a reader of
    the cache could learn; counting works as with one."""

    def test_one_startup_warning(self):
        server = stats_server()
        server.extra_conf = stats_conf(server.root, secret=None)
        make_mp3(os.path.join(server.docroot, "audio", "ep.mp3"), 30)
        try:
            server.start()
            status, _ = curl(server.url("/audio/ep.mp3"))
            rec = AccessLog(os.path.join(server.root, "access.log")).wait()[0]
            self.assertEqual((status, rec["state"]), (200, "counted"))
            warnings = [l for l in server.read_all_logs().splitlines() if "AS0054" in l]
            self.assertEqual(len(warnings), 1, warnings)
            self.assertIn("AudioStreamStats On without AudioStreamStatsSecret", warnings[0])
            self.assertIn("IPv4 address", warnings[0])
            self.assertEqual(server.unexpected_log_lines([r"AS0054"]), [])
        finally:
            server.cleanup()


class Off(unittest.TestCase):
    """Stats Off (the default): no variables, bodies as always."""

    def test_no_variables(self):
        server = stats_server()
        server.extra_conf = stats_conf(server.root).replace("AudioStreamStats On", "AudioStreamStats Off")
        make_mp3(os.path.join(server.docroot, "audio", "ep.mp3"), 30)
        try:
            server.start()
            status, body = curl(server.url("/audio/ep.mp3"))
            rec = AccessLog(os.path.join(server.root, "access.log")).wait()[0]
            self.assertEqual(status, 200)
            self.assertEqual((rec["kind"], rec["state"], rec["threshold"]), ("-", "-", "-"))
        finally:
            server.cleanup()


class Config(harness.ConfigTestCase):
    """What configtest refuses, with a message that says what to do."""

    def test_provider_not_loaded(self):
        self.assert_refused("AudioStreamStatsCache memcache:127.0.0.1:11211\n",
                            "no socache provider 'memcache' is loaded")

    def test_stats_on_without_any_cache(self):
        self.assert_refused("AudioStreamStats On\n", "AS0050: AudioStreamStats On needs a cache")

    def test_not_on_or_off(self):
        self.assert_refused("AudioStreamStats sometimes\n", "AudioStreamStats: 'sometimes' is not On or Off")

    def test_cache_only_in_server_config(self):
        self.assert_refused("<VirtualHost 127.0.0.1:1>\nAudioStreamStatsCache shmcb\n</VirtualHost>\n",
                            "AudioStreamStatsCache")

    def test_secret_file_missing(self):
        self.assert_refused("AudioStreamStatsSecret /nonexistent/stats.secret\n",
                            "AudioStreamStatsSecret: cannot read '/nonexistent/stats.secret'")

    def test_secret_too_short(self):
        with tempfile.NamedTemporaryFile("w", suffix=".secret") as f:
            f.write("short secret \n")
            f.flush()
            self.assert_refused(f"AudioStreamStatsSecret {f.name}\n",
                                f"AudioStreamStatsSecret: '{f.name}' holds 12 bytes; a secret needs at least 16")

    def test_secret_only_in_server_config(self):
        self.assert_refused("<VirtualHost 127.0.0.1:1>\nAudioStreamStatsSecret /etc/hostname\n</VirtualHost>\n",
                            "AudioStreamStatsSecret")

    def test_accepted_with_shmcb(self):
        server = Httpd(modules=("mime", "socache_shmcb"), extra_conf="AudioStreamStats On\n")
        try:
            p = server.configtest()
            self.assertEqual(p.returncode, 0, p.stderr)
        finally:
            server.cleanup()


if __name__ == "__main__":
    unittest.main()
