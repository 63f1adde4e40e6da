"""Download counting over HTTP/2 counts what reached the client, not what was handed to
mod_http2: a client that controls its flow-control window (h2_client.py, Debian's python3-h2)
lets none, part or all of a body through, over h2c and over TLS."""
import json
import os
import subprocess
import tempfile
import unittest

from test_stats import StatsTestCase, make_wav, stats_server
from test_transports import make_certificate

HERE = os.path.dirname(os.path.abspath(__file__))
CLIENT = [os.environ.get("AUDIO_STREAM_DEBIAN_PYTHON", "/usr/bin/python3"), os.path.join(HERE, "h2_client.py")]
MIB = 1 << 20


class H2Counting(StatsTestCase):
    """A 30 s WAV (5.3 MB, a download past about 5.3 MB: the whole file) and a 300 s one
    (52.9 MB, a download past 10.6 MB)."""

    tls = False

    @classmethod
    def setUpClass(cls):
        if cls.tls:
            cls.scratch = tempfile.mkdtemp(prefix="audio_stream_h2_tls_")
            os.chmod(cls.scratch, 0o755)
            cls.server_options = dict(tls=make_certificate(cls.scratch), protocols="h2 http/1.1")
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        if cls.tls:
            subprocess.run(["rm", "-rf", cls.scratch], check=False)

    @classmethod
    def make_server(cls):
        return stats_server(modules=cls.modules, **getattr(cls, "server_options", {}))

    @classmethod
    def make_files(cls, audio):
        make_wav(os.path.join(audio, "short.wav"), 30)
        make_wav(os.path.join(audio, "long.wav"), 300)

    def client(self, name, ua, grant=None):
        cmd = CLIENT + ["--port", str(self.server.port), "--path", f"/audio/{name}", "--ua", ua]
        cmd += ["--tls"] if self.tls else []
        cmd += ["--grant", str(grant)] if grant is not None else []
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        self.assertEqual(out.returncode, 0, out.stderr)
        result = json.loads(out.stdout)
        return result, self.log.wait(timeout=30)[0]

    def sent_bytes(self, rec):
        if rec["sent"] == "-":
            return 0
        first, last = map(int, rec["sent"].split("/")[0].split("-"))
        return last - first + 1

    def test_window_zero_then_reset_counts_nothing(self):
        for name in ("short.wav", "long.wav"):
            result, rec = self.client(name, f"zero-window-{name}", grant=0)
            # mod_http2 now and then holds the head of a stream it cannot send DATA on (status
            # 0: the client reset the stream after 3 s without it).
            self.assertIn(result["status"], (0, 200))
            self.assertEqual((result["received"], result["reset"]), (0, True))
            self.assertEqual((rec["kind"], rec["sent"], rec["download"]), ("full", "-", "-"), rec)

    def test_part_read_then_reset_is_partial(self):
        grant = 3 * MIB
        result, rec = self.client("long.wav", "part-reader", grant=grant)
        self.assertEqual((result["received"], result["reset"]), (grant, True))
        sent = self.sent_bytes(rec)
        # What the window let through, less what counting leaves for frame headers (9 bytes
        # in 8 KiB); when mod_http2 counts the reset stream twice, at most the windows handed on
        # before the one it waited on: one window (256 KiB) past what was read.
        self.assertGreaterEqual(sent, grant - 9 * (grant // 8192) - 1024, rec)
        self.assertLessEqual(sent, grant + 256 * 1024, rec)
        self.assertEqual((rec["state"], rec["download"]), ("partial", "-"))

    def test_short_file_read_all_but_its_end_is_not_a_download(self):
        # Every byte is handed to mod_http2 at once (the file fits its buffers), which counting
        # took for sent before: now what went out decides.
        size = self.size("short.wav")
        result, rec = self.client("short.wav", "almost-all", grant=size - 65536)
        self.assertEqual((result["received"], result["reset"]), (size - 65536, True))
        self.assertLessEqual(self.sent_bytes(rec), size - 65536)
        self.assertEqual((rec["state"], rec["download"]), ("partial", "-"))

    def test_all_read_is_counted(self):
        for name in ("short.wav", "long.wav"):
            result, rec = self.client(name, f"whole-{name}")
            self.assertEqual((result["status"], result["received"], result["ended"]), (200, self.size(name), True))
            self.assertEqual((self.sent_bytes(rec), rec["state"], rec["download"]), (self.size(name), "counted", "1"))


class H2CountingTls(H2Counting):
    tls = True
    # mod_ssl's warnings about Debian's OpenSSL build are not ours.
    expected_log = (r"\[ssl:warn\]",)


if __name__ == "__main__":
    unittest.main()
