"""Serving as users meet it: keep-alive, HTTP/2, .htaccess, huge files, download tools, config."""
import os
import subprocess
import tempfile
import time

from harness import ConfigTestCase, Connection, ServerTestCase, request, write_file
from test_ranges import BIG_LEN, PIECE, aged, pseudo_random

GIB = 1 << 30
HUGE_LEN = 5 * GIB + 777  # over 4 GiB: offsets do not fit in 32 bits
MARKS = {0: b"START", 4 * GIB - 3: b"ACROSS4G", HUGE_LEN - 3: b"END"}


class KeepAliveAndHttp2(ServerTestCase):
    @classmethod
    def prepare_docroot(cls, docroot):
        cls.data = pseudo_random(300_000, 3)
        write_file(os.path.join(docroot, "audio", "a.mp3"), cls.data)
        aged(os.path.join(docroot, "audio", "a.mp3"))

    def test_pipelined_requests_on_one_connection(self):
        conn = Connection(self.server.port)
        try:
            asks = [("bytes=0-99", 0, 99), ("bytes=-10", 299_990, 299_999), ("bytes=1000-", 1000, 299_999)]
            for value, _, _ in asks:
                conn.send("GET", "/audio/a.mp3", [("Range", value)])
            conn.send("HEAD", "/audio/a.mp3")
            conn.send("GET", "/audio/a.mp3")
            for value, first, last in asks:
                r = conn.read_response()
                self.assertEqual(r.status, 206, value)
                self.assertEqual(r.header("Content-Range"), f"bytes {first}-{last}/300000")
                self.assertEqual(r.body, self.data[first:last + 1])
            h = conn.read_response(head=True)
            self.assertEqual((h.status, h.header("Content-Length")), (200, "300000"))
            r = conn.read_response()
            self.assertEqual(r.body, self.data)
        finally:
            conn.close()

    def curl(self, *args):
        out = tempfile.NamedTemporaryFile(delete=False)
        out.close()
        try:
            p = subprocess.run(["curl", "-sS", "--http2-prior-knowledge", "-o", out.name,
                                "-w", "%{http_version} %{http_code}", *args],
                               capture_output=True, text=True, timeout=60)
            self.assertEqual(p.returncode, 0, p.stderr)
            return p.stdout, open(out.name, "rb").read()
        finally:
            os.unlink(out.name)

    def test_http2_range(self):
        meta, body = self.curl("-r", "100-199", self.server.url("/audio/a.mp3"))
        self.assertEqual(meta, "2 206")
        self.assertEqual(body, self.data[100:200])

    def test_http2_whole_and_multipart(self):
        meta, body = self.curl(self.server.url("/audio/a.mp3"))
        self.assertEqual((meta, body), ("2 200", self.data))
        meta, body = self.curl("-r", "0-9,20-29", self.server.url("/audio/a.mp3"))
        self.assertEqual(meta, "2 206")
        self.assertIn(self.data[0:10], body)
        self.assertIn(self.data[20:30], body)

    def test_http2_416(self):
        meta, _ = self.curl("-r", "400000-", self.server.url("/audio/a.mp3"))
        self.assertEqual(meta, "2 416")

    def test_client_abort_is_not_an_error(self):
        big = os.path.join(self.server.docroot, "audio", "big.mp3")
        with open(big, "wb") as f:
            f.truncate(64 << 20)
        for _ in range(5):
            conn = Connection(self.server.port)
            conn.send("GET", "/audio/big.mp3")
            conn.sock.recv(1000)
            conn.close()
        time.sleep(0.5)
        # tearDown fails on any warn/error line; the server must still answer.
        self.assertEqual(request(self.server.port, "GET", "/audio/a.mp3",
                                 [("Range", "bytes=0-0")]).status, 206)


class HtaccessEnablement(ServerTestCase):
    """Shared hosting: SetHandler and the directives in .htaccess under AllowOverride FileInfo."""

    @classmethod
    def prepare_docroot(cls, docroot):
        cls.data = pseudo_random(3 << 20, 4)
        d = os.path.join(docroot, "music")
        write_file(os.path.join(d, "song.mp3"), cls.data)
        aged(os.path.join(d, "song.mp3"))
        os.chmod(d, 0o755)
        write_file(os.path.join(d, ".htaccess"),
                   b"SetHandler audio-stream\nAudioStreamPieceSize 1M\n")

    def test_htaccess_enables_the_handler_and_its_directives(self):
        r = self.get("/music/song.mp3", [("Range", "bytes=0-"), ("Sec-Fetch-Dest", "audio")])
        self.assertEqual(r.status, 206)
        self.assertEqual(r.header("Content-Range"), f"bytes 0-1048575/{3 << 20}")
        self.assertEqual(r.body, self.data[:1 << 20])
        lines = self.server.log_since_mark()
        self.assertTrue(any("AS0010" in l for l in lines), lines)


class HugeSparseFile(ServerTestCase):
    @classmethod
    def prepare_docroot(cls, docroot):
        path = os.path.join(docroot, "audio", "huge.mp3")
        with open(path, "wb") as f:
            f.truncate(HUGE_LEN)
            for offset, mark in MARKS.items():
                f.seek(offset)
                f.write(mark)
        os.chmod(path, 0o644)
        aged(path)

    def expected(self, first, last):
        out = bytearray(last - first + 1)
        for offset, mark in MARKS.items():
            for i, b in enumerate(mark):
                if first <= offset + i <= last:
                    out[offset + i - first] = b
        return bytes(out)

    def test_head_reports_the_64_bit_length(self):
        r = self.get("/audio/huge.mp3", method="HEAD")
        self.assertEqual(r.header("Content-Length"), str(HUGE_LEN))

    def test_range_across_4_gib(self):
        first, last = 4 * GIB - 10, 4 * GIB + 10
        r = self.get("/audio/huge.mp3", [("Range", f"bytes={first}-{last}")])
        self.assertEqual(r.status, 206)
        self.assertEqual(r.header("Content-Range"), f"bytes {first}-{last}/{HUGE_LEN}")
        self.assertEqual(r.body, self.expected(first, last))

    def test_suffix_at_the_end(self):
        r = self.get("/audio/huge.mp3", [("Range", "bytes=-5")])
        self.assertEqual(r.header("Content-Range"), f"bytes {HUGE_LEN - 5}-{HUGE_LEN - 1}/{HUGE_LEN}")
        self.assertEqual(r.body, self.expected(HUGE_LEN - 5, HUGE_LEN - 1))

    def test_media_window_past_4_gib(self):
        first = 4 * GIB - 3
        r = self.get("/audio/huge.mp3", [("Range", f"bytes={first}-"), ("Sec-Fetch-Dest", "audio")])
        self.assertEqual(r.header("Content-Range"), f"bytes {first}-{first + PIECE - 1}/{HUGE_LEN}")
        self.assertEqual(r.body, self.expected(first, first + PIECE - 1))


class DownloadTools(ServerTestCase):
    """Resuming downloads must end with the identical file (the piece cap must not truncate)."""

    @classmethod
    def prepare_docroot(cls, docroot):
        cls.data = pseudo_random(BIG_LEN, 5)
        write_file(os.path.join(docroot, "audio", "long.mp3"), cls.data)
        aged(os.path.join(docroot, "audio", "long.mp3"))

    def resume(self, argv_for):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "long.mp3")
            with open(path, "wb") as f:
                f.write(self.data[:1_000_000])
            p = subprocess.run(argv_for(path), cwd=d, capture_output=True, text=True, timeout=120)
            self.assertEqual(p.returncode, 0, p.stderr)
            with open(path, "rb") as f:
                self.assertEqual(f.read(), self.data)
        lines = self.server.log_since_mark()
        self.assertTrue(any(f"AS0010: range 'bytes=1000000-' -> 206 bytes 1000000-{BIG_LEN - 1}" in l
                            for l in lines), lines)

    def test_curl_resume_gives_identical_file(self):
        self.resume(lambda path: ["curl", "-sS", "-f", "-C", "-", "-o", path,
                                  self.server.url("/audio/long.mp3")])

    def test_wget_resume_gives_identical_file(self):
        self.resume(lambda path: ["wget", "-q", "-c", "-O", path, self.server.url("/audio/long.mp3")])


class BuiltInTypes(ServerTestCase):
    """Without mod_mime the module's own table names the type."""

    modules = ()
    TYPES = {"a.mp3": "audio/mpeg", "a.flac": "audio/flac", "a.ogg": "audio/ogg",
             "a.opus": "audio/opus", "a.wav": "audio/wav", "a.m4a": "audio/mp4",
             "a.aac": "audio/aac", "a.weba": "audio/webm", "A.MP3": "audio/mpeg",
             "a.bin": "application/octet-stream", "noext": "application/octet-stream"}

    @classmethod
    def prepare_docroot(cls, docroot):
        for name in cls.TYPES:
            write_file(os.path.join(docroot, "audio", name), b"x")

    def test_content_type_table(self):
        for name, expected in self.TYPES.items():
            with self.subTest(name=name):
                self.assertEqual(self.get("/audio/" + name, method="HEAD").header("Content-Type"),
                                 expected)


class MimeTypesWin(ServerTestCase):
    """With mod_mime, its type (and any AddType) is what is sent."""

    extra_conf = "AddType audio/x-custom .mp3"

    @classmethod
    def prepare_docroot(cls, docroot):
        write_file(os.path.join(docroot, "audio", "a.mp3"), b"x")
        write_file(os.path.join(docroot, "audio", "a.flac"), b"x")

    def test_mod_mime_type_is_used(self):
        self.assertEqual(self.get("/audio/a.mp3", method="HEAD").header("Content-Type"),
                         "audio/x-custom")
        self.assertEqual(self.get("/audio/a.flac", method="HEAD").header("Content-Type"),
                         "audio/flac")


class BadConfig(ConfigTestCase):
    """Bad directive values are refused at configtest, naming the directive and the value."""

    def test_bad_values_are_refused(self):
        cases = {
            "AudioStreamPieceSize 12Q": "AudioStreamPieceSize: '12Q' is not a size",
            "AudioStreamPieceSize -1": "AudioStreamPieceSize: '-1' is not a size",
            "AudioStreamPieceScope some": "AudioStreamPieceScope: 'some' is not a scope",
            "AudioStreamMaxRanges 0": "AudioStreamMaxRanges: '0' is not a count",
            "AudioStreamMaxRanges lots": "AudioStreamMaxRanges: 'lots' is not a count",
            "AudioStreamTimeSeek maybe": "AudioStreamTimeSeek: 'maybe' is not On or Off",
        }
        for line, message in cases.items():
            with self.subTest(line=line):
                self.assert_refused(line, message)

    def test_good_values_pass(self):
        self.assert_accepted("AudioStreamPieceSize 512K\nAudioStreamPieceScope all\n"
                             "AudioStreamMaxRanges unlimited\nAudioStreamTimeSeek Off")
