"""Small windows (AudioStreamReadThreshold): at most the threshold of file bytes is read into
memory and written with the headers; above it, sendfile. Both sides give the same status,
headers and exact bytes; the AS0010 debug line says which path was taken."""
import os
import random
import re
import struct

from harness import ConfigTestCase, Connection, ServerTestCase, write_file
from test_ranges import parse_multipart

KIB = 1024
FILE_LEN = 300_000
# The built-in default (mod_audio_stream.cpp kDefaultReadThreshold), measured in BENCHMARKS.md.
DEFAULT_THRESHOLD = 16 * KIB
# sysfs files claim 4096 bytes and hold a few: a stand-in for a file that shrank after its
# stat, which cannot be timed from outside.
SHORT_FILES = ("/sys/devices/system/cpu/online", "/sys/kernel/mm/transparent_hugepage/enabled")


def short_file():
    for path in SHORT_FILES:
        if os.path.isfile(path) and os.path.getsize(path) > len(open(path, "rb").read()) + 100:
            return path
    raise AssertionError(f"none of {SHORT_FILES} is a file shorter than its size")


class SmallWindow(ServerTestCase):
    @classmethod
    def prepare_docroot(cls, docroot):
        cls.data = random.Random(4).randbytes(FILE_LEN)
        cls.little = random.Random(5).randbytes(1000)
        audio = os.path.join(docroot, "audio")
        for d, directive in (("t64k", "64K"), ("t0", "0")):
            write_file(os.path.join(audio, d, "a.mp3"), cls.data)
            write_file(os.path.join(audio, d, ".htaccess"),
                       f"AudioStreamReadThreshold {directive}\n".encode())
            os.chmod(os.path.join(audio, d), 0o755)
        write_file(os.path.join(audio, "a.mp3"), cls.data)
        write_file(os.path.join(audio, "t64k", "little.mp3"), cls.little)
        write_file(os.path.join(audio, "t64k", "empty.mp3"), b"")
        os.symlink(short_file(), os.path.join(audio, "short.mp3"))

    def plan_line(self, path_taken):
        lines = self.server.log_since_mark()
        plans = [l for l in lines if "AS0010" in l]
        self.assertEqual(len(plans), 1, lines)
        self.assertTrue(plans[0].endswith(") " + path_taken), plans[0])

    def assert_window(self, path, first, last, path_taken):
        r = self.get(path, [("Range", f"bytes={first}-{last}")])
        self.assertEqual(r.status, 206)
        self.assertEqual(r.header("Content-Range"), f"bytes {first}-{last}/{FILE_LEN}")
        self.assertEqual(r.header("Content-Length"), str(last - first + 1))
        self.assertEqual(r.header("Content-Type"), "audio/mpeg")
        self.assertEqual(r.body, self.data[first:last + 1])
        self.plan_line(path_taken)

    def test_window_of_exactly_the_threshold_is_read(self):
        self.assert_window("/audio/t64k/a.mp3", 1001, 1001 + 64 * KIB - 1, "read")

    def test_window_one_byte_over_the_threshold_goes_by_sendfile(self):
        self.assert_window("/audio/t64k/a.mp3", 1001, 1001 + 64 * KIB, "sendfile")

    def test_two_byte_probe_is_read(self):
        self.assert_window("/audio/t64k/a.mp3", 0, 1, "read")

    def test_last_bytes_of_the_file_are_read(self):
        self.assert_window("/audio/t64k/a.mp3", FILE_LEN - 5000, FILE_LEN - 1, "read")

    def test_threshold_zero_always_uses_sendfile(self):
        self.assert_window("/audio/t0/a.mp3", 0, 1, "sendfile")

    def test_default_threshold_reads_up_to_its_size(self):
        self.assert_window("/audio/a.mp3", 7, 7 + DEFAULT_THRESHOLD - 1, "read")

    def test_default_threshold_sends_above_its_size(self):
        self.assert_window("/audio/a.mp3", 7, 7 + DEFAULT_THRESHOLD, "sendfile")

    def test_whole_small_file_is_read(self):
        r = self.get("/audio/t64k/little.mp3")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("Content-Length"), "1000")
        self.assertEqual(r.body, self.little)
        self.plan_line("read")

    def test_empty_file_has_no_file_bytes_to_read_or_send(self):
        r = self.get("/audio/t64k/empty.mp3")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("Content-Length"), "0")
        self.assertEqual(r.body, b"")
        self.plan_line("no file bytes")

    def assert_multipart(self, spans, path_taken):
        spec = ",".join(f"{a}-{b}" for a, b in spans)
        r = self.get("/audio/t64k/a.mp3", [("Range", f"bytes={spec}")])
        self.assertEqual(r.status, 206)
        self.assertIsNone(r.header("Content-Range"))
        self.assertEqual(int(r.header("Content-Length")), len(r.body))
        parts = parse_multipart(r)
        self.assertEqual(len(parts), len(spans))
        for (headers, body), (a, b) in zip(parts, spans):
            self.assertEqual(headers["Content-Range"], f"bytes {a}-{b}/{FILE_LEN}")
            self.assertEqual(headers["Content-Type"], "audio/mpeg")
            self.assertEqual(body, self.data[a:b + 1])
        self.plan_line(path_taken)

    def test_multipart_whose_parts_fit_together_is_read(self):
        self.assert_multipart([(0, 9), (1000, 1999), (200_000, 200_000 + 60_000)], "read")

    def test_multipart_whose_parts_fit_only_one_by_one_goes_by_sendfile(self):
        # 40000 + 40000 bytes: each part below 64 KiB, the sum above: one request never
        # buffers more than the threshold.
        self.assert_multipart([(0, 39_999), (100_000, 139_999)], "sendfile")

    def test_head_reads_nothing(self):
        r = self.get("/audio/t64k/a.mp3", [("Range", "bytes=10-19")], method="HEAD")
        self.assertEqual(r.status, 206)
        self.assertEqual(r.header("Content-Range"), f"bytes 10-19/{FILE_LEN}")
        self.assertEqual(r.header("Content-Length"), "10")
        self.assertEqual(r.body, b"")
        self.plan_line("no body")

    def test_both_paths_on_one_keep_alive_connection(self):
        windows = [(0, 1), (5000, 5000 + 64 * KIB), (70_000, 70_099), (0, FILE_LEN - 1), (3, 3)]
        conn = Connection(self.server.port)
        try:
            for first, last in windows:
                conn.send("GET", "/audio/t64k/a.mp3", [("Range", f"bytes={first}-{last}")])
                r = conn.read_response()
                self.assertEqual(r.status, 206)
                self.assertEqual(r.header("Content-Range"), f"bytes {first}-{last}/{FILE_LEN}")
                self.assertEqual(r.body, self.data[first:last + 1])
        finally:
            conn.close()

    def test_file_shorter_than_its_size_is_a_500_not_wrong_bytes(self):
        r = self.get("/audio/short.mp3", [("Range", "bytes=0-199")])
        self.assertEqual(r.status, 500)
        self.assertIsNone(r.header("Content-Range"))
        self.expect_log(r"AS0030: cannot read 200 bytes of .*short\.mp3 "
                        r"\(the file is shorter than its size said\)")
        errors = [l for l in self.server.log_since_mark() if re.search(r":(error|warn)\]", l)]
        self.assertEqual(len(errors), 1, errors)


def wav_file(seconds, rate=8000):
    """A PCM WAV, 8-bit mono: its time-seek cuts are a new 44-byte header plus file bytes."""
    data = bytes((i * 7) % 256 for i in range(seconds * rate))
    fmt = struct.pack("<4sIHHIIHH", b"fmt ", 16, 1, 1, rate, rate, 1, 8)
    return (b"RIFF" + struct.pack("<I", 4 + len(fmt) + 8 + len(data)) + b"WAVE" + fmt
            + b"data" + struct.pack("<I", len(data)) + data)


class SmallWindowTimeSeek(ServerTestCase):
    """A time-seek cut (rewritten header in memory + file bytes) gives the same bytes whether
    its file bytes are read or sent with sendfile."""

    @classmethod
    def prepare_docroot(cls, docroot):
        audio = os.path.join(docroot, "audio")
        for d, directive in (("read", "64K"), ("sendfile", "0")):
            write_file(os.path.join(audio, d, "a.wav"), wav_file(3))
            write_file(os.path.join(audio, d, ".htaccess"),
                       f"AudioStreamTimeSeek On\nAudioStreamReadThreshold {directive}\n".encode())
            os.chmod(os.path.join(audio, d), 0o755)

    def fetch(self, d, headers=()):
        self.server.mark_log()
        r = self.get(f"/audio/{d}/a.wav?t=1", headers)
        plans = [l for l in self.server.log_since_mark() if "AS0010" in l]
        self.assertEqual(len(plans), 1, plans)
        self.assertTrue(plans[0].endswith(") " + d), plans[0])
        return r

    def test_cut_is_the_same_read_or_sent(self):
        read, sent = self.fetch("read"), self.fetch("sendfile")
        self.assertEqual(read.status, 200)
        self.assertEqual(sent.status, 200)
        self.assertEqual(read.header("Content-Length"), str(44 + 2 * 8000))
        self.assertEqual(read.header("Content-Length"), sent.header("Content-Length"))
        self.assertEqual(read.body[:4], b"RIFF")
        self.assertEqual(read.body[44:], wav_file(3)[44 + 8000:])
        self.assertEqual(read.body, sent.body)

    def test_range_across_the_cut_header_is_the_same_read_or_sent(self):
        rng = [("Range", "bytes=30-5029")]
        read, sent = self.fetch("read", rng), self.fetch("sendfile", rng)
        self.assertEqual(read.status, 206)
        self.assertEqual(read.header("Content-Range"), f"bytes 30-5029/{44 + 2 * 8000}")
        self.assertEqual(len(read.body), 5000)
        self.assertEqual(read.body, sent.body)


class ReadThresholdConfig(ConfigTestCase):
    """Bad AudioStreamReadThreshold values are refused at configtest, naming directive and value."""

    def test_bad_values_are_refused(self):
        for value in ("12Q", "-1", "17M", "16777217", "1G", "64KB", "off"):
            with self.subTest(value=value):
                self.assert_refused(f"AudioStreamReadThreshold {value}",
                                    f"AudioStreamReadThreshold: '{value}' is not a size")

    def test_good_values_pass(self):
        for value in ("0", "2", "64K", "128k", "16M"):
            with self.subTest(value=value):
                self.assert_accepted(f"<Directory /tmp>\nAudioStreamReadThreshold {value}\n"
                                     "</Directory>")
