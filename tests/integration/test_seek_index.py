"""Seek indexes against a real httpd: a FLAC file is indexed once for all of a server's
children and restarts (AudioStreamSeekIndexDir), answers from the index are the same cuts,
a changed file is indexed again, and the directory's failures and its absence are handled.

What each request did is read from the debug line AS0024: "(made, file indexed)" when the
request walked the file to build its index, "(made)" when the cut came from an index (in
memory or loaded from the directory), "(cached)" for a finished cut.
"""
import concurrent.futures
import hashlib
import os
import random
import re
import subprocess
import time
import unittest

from harness import ConfigTestCase, Httpd, ServerTestCase, request

DAY_AGO = time.time() - 86400
SECONDS = 120


def make_flac(path, seconds=SECONDS, freq=220, when=DAY_AGO):
    tmp = path + ".tmp.flac"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i",
                    f"aevalsrc=0.5*sin(2*PI*({freq}+20*t)*t):s=44100:d={seconds}", "-ac", "2",
                    "-c:a", "flac", tmp], check=True, timeout=120)
    os.chmod(tmp, 0o644)
    os.utime(tmp, (when, when))
    os.rename(tmp, path)


# The other formats of the concurrency test: (file, ffmpeg output options).
OTHERS = {
    "long.mp3": ["-c:a", "libmp3lame", "-q:a", "4"],
    "long.ogg": ["-c:a", "libvorbis", "-q:a", "4"],
    "long.opus": ["-c:a", "libopus", "-b:a", "96k"],
    "long.wav": ["-c:a", "pcm_s16le"],
}


def make_other(path, options, seconds=SECONDS):
    tmp = path + ".tmp" + os.path.splitext(path)[1]
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i",
                    f"aevalsrc=0.5*sin(2*PI*(220+20*t)*t):s=48000:d={seconds}", "-ac", "2",
                    *options, tmp], check=True, timeout=120)
    os.chmod(tmp, 0o644)
    os.utime(tmp, (DAY_AGO, DAY_AGO))
    os.rename(tmp, path)


def cut_lines(lines):
    return [l for l in lines if "AS0024" in l]


class SeekIndexCase(ServerTestCase):
    """Three children, started at once, sharing the default index directory."""

    extra_conf = ""
    conf_options = dict(children=3, start_servers=3)

    @classmethod
    def setUpClass(cls):
        cls.server = Httpd(extra_conf=cls.extra_conf, modules=cls.modules, **cls.conf_options)
        make_flac(os.path.join(cls.server.docroot, "audio", "long.flac"))
        cls.prepare_docroot(cls.server.docroot)
        cls.server.start()

    @property
    def index_dir(self):
        return os.path.join(self.server.root, "audio-stream-index")

    def head_cut(self, t, name="long.flac"):
        r = request(self.server.port, "HEAD", f"/audio/{name}?t={t}")
        self.assertEqual(r.status, 200, r)
        return r


class SeekIndexShared(SeekIndexCase):

    @classmethod
    def prepare_docroot(cls, docroot):
        for name, options in OTHERS.items():
            make_other(os.path.join(docroot, "audio", name), options)

    def test_1_one_index_for_every_child_and_every_t(self):
        # Fresh connections, several at a time, so that all three children answer.
        ts = random.Random(7).sample(range(1, SECONDS - 2), 30)
        with concurrent.futures.ThreadPoolExecutor(6) as pool:
            list(pool.map(self.head_cut, ts))
        lines = cut_lines(self.server.log_since_mark())
        self.assertEqual(len(lines), len(ts), lines)
        indexed = [l for l in lines if "(made, file indexed)" in l]
        self.assertEqual(len(indexed), 1, lines)
        self.assertEqual(sum("(made)" in l for l in lines), len(ts) - 1, lines)
        # Where the children keep it: theirs alone to read and write.
        names = [n for n in os.listdir(self.index_dir) if n.endswith(".idx")]
        self.assertEqual(len(names), 1, names)
        st = os.stat(os.path.join(self.index_dir, names[0]))
        self.assertEqual(oct(st.st_mode & 0o777), oct(0o600))
        self.assertEqual(st.st_uid, os.stat(self.index_dir).st_uid)
        if os.geteuid() == 0:
            import pwd
            self.assertEqual(pwd.getpwuid(st.st_uid).pw_name, "nobody")

    def test_2_forty_eight_clients_get_the_same_cut_for_the_same_t(self):
        for name in ["long.flac"] + list(OTHERS):
            with self.subTest(name):
                rng = random.Random(11)
                ts = [round(rng.uniform(0, SECONDS - 1), 3) for _ in range(12)] * 4
                random.Random(12).shuffle(ts)

                def fetch(t):
                    r = request(self.server.port, "GET", f"/audio/{name}?t={t}")
                    return t, r.status, r.header("ETag"), hashlib.sha256(r.body).hexdigest()

                with concurrent.futures.ThreadPoolExecutor(48) as pool:
                    answers = list(pool.map(fetch, ts))
                by_t = {}
                for t, status, etag, digest in answers:
                    self.assertEqual(status, 200)
                    by_t.setdefault(t, set()).add((etag, digest))
                for t, seen in by_t.items():
                    self.assertEqual(len(seen), 1, f"t={t}: {seen}")
                self.assertEqual(len(by_t), 12)

    def test_3_a_restarted_server_loads_the_index_instead_of_reading_the_file(self):
        self.head_cut(33)
        self.server.stop()
        self.server.start()
        self.server.mark_log()
        self.head_cut(71)
        lines = cut_lines(self.server.log_since_mark())
        self.assertEqual(len(lines), 1, lines)
        self.assertIn("(made)", lines[0])

    def test_4_a_changed_file_is_indexed_again_and_its_old_index_removed(self):
        path = os.path.join(self.server.docroot, "audio", "changing.flac")
        make_flac(path, seconds=40, freq=300)
        self.head_cut(10, "changing.flac")
        before = set(n for n in os.listdir(self.index_dir) if n.endswith(".idx"))
        # Rewritten in place (the same inode), longer and a minute newer.
        make_flac(path + ".new", seconds=50, freq=500, when=DAY_AGO + 60)
        with open(path + ".new", "rb") as src, open(path, "r+b") as dst:
            dst.write(src.read())
        os.utime(path, (DAY_AGO + 60, DAY_AGO + 60))
        os.remove(path + ".new")
        r = self.head_cut(45, "changing.flac")
        self.assertEqual(r.status, 200)
        lines = cut_lines(self.server.log_since_mark())
        self.assertEqual(sum("(made, file indexed)" in l for l in lines), 2, lines)
        after = set(n for n in os.listdir(self.index_dir) if n.endswith(".idx"))
        self.assertEqual(len(after), len(before), (before, after))
        self.assertNotEqual(after, before)


class SeekIndexWithoutDirectory(SeekIndexCase):
    """AudioStreamSeekIndexDir none: each child indexes for itself, nothing is written."""

    extra_conf = "AudioStreamSeekIndexDir none\n"
    conf_options = dict(children=1, start_servers=1)

    def test_cuts_work_and_no_directory_is_made(self):
        for t in (5, 50, 95):
            self.head_cut(t)
        lines = cut_lines(self.server.log_since_mark())
        self.assertEqual(sum("file indexed" in l for l in lines), 1, lines)
        self.assertFalse(os.path.exists(self.index_dir))


class SeekIndexUnusableDirectory(SeekIndexCase):
    """A directory that cannot be made: one warning at start, then indexes per child."""

    extra_conf = "AudioStreamSeekIndexDir /proc/audio-stream-cannot-be-here\n"
    conf_options = dict(children=1, start_servers=1)
    expected_log = (r"AS0060: seek index directory /proc/audio-stream-cannot-be-here cannot be made",)

    def test_the_warning_once_and_cuts_still_served(self):
        with open(self.server.error_log, errors="replace") as f:
            warnings = [l for l in f if "AS0060" in l]
        # httpd reads its configuration twice at start; the directory is made on the second.
        self.assertEqual(len(warnings), 1, warnings)
        self.head_cut(12)
        self.head_cut(80)
        lines = cut_lines(self.server.log_since_mark())
        self.assertEqual(sum("file indexed" in l for l in lines), 1, lines)


class SeekIndexDirectiveContext(ConfigTestCase):

    def test_only_in_the_server_config(self):
        self.assert_refused(
            f"<Directory /tmp>\nAudioStreamSeekIndexDir /tmp/x\n</Directory>\n",
            "AudioStreamSeekIndexDir not allowed in <Directory> context")
        self.assert_accepted("AudioStreamSeekIndexDir /tmp/audio-stream-index-test\n")
        self.assert_accepted("AudioStreamSeekIndexDir none\n")


if __name__ == "__main__":
    unittest.main()
