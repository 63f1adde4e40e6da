"""Hostile files through a real httpd (hostile_files.py): each refused with its status and one
log line, the verdict kept (for the file whatever t asks when the file is malformed, for the t
when the cut from there costs too much: the next such request is a lookup), the file itself
served as ever without t, and normal files answered throughout."""
import os
import subprocess

from harness import ServerTestCase, write_file
from hostile_files import mp4_many_chunks, ogg_empty_pages, wav_empty_chunks
from test_time_seek import published, scratch


class HostileFiles(ServerTestCase):

    @classmethod
    def prepare_docroot(cls, docroot):
        audio = os.path.join(docroot, "audio")
        os.makedirs(audio, exist_ok=True)
        with scratch("audio_stream_hostile_src_") as work:
            wav = os.path.join(work, "a.wav")
            subprocess.run(["sox", "-n", "-r", "44100", "-c", "2", "-b", "16", wav, "synth", "3", "sine", "440"],
                           check=True, timeout=60)
            real = os.path.join(audio, "real.ogg")
            subprocess.run(["oggenc", "-Q", "-o", real, wav], check=True, timeout=60)
            # 300,000 empty pages (7.8 MB): more than a cut walks from its first audio page.
            write_file(os.path.join(audio, "empty-pages.ogg"), ogg_empty_pages(open(real, "rb").read(), 300000))
            m4a = os.path.join(work, "a.m4a")
            subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", wav, "-c:a", "aac", m4a], check=True, timeout=60)
            # 7 tracks of 2^21 one-sample chunks (59 MB): more table entries than a request's steps.
            write_file(os.path.join(audio, "chunks.m4a"), mp4_many_chunks(open(m4a, "rb").read()))
        write_file(os.path.join(audio, "chunks.wav"), wav_empty_chunks(100000))
        # 275,625 frames of 16 samples (12 MB): a cut from 10 s renumbers 248,063 of them (the cap
        # is 262,144), more extents than the cut cache held before it was sized for the largest;
        # one from 1 s would renumber more than the cap.
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "sine=f=440:r=44100", "-ac", "1",
                        "-t", "100", "-c:a", "flac", "-frame_size", "16", os.path.join(audio, "small-frames.flac")],
                       check=True, timeout=120)
        cls.files = published({n: os.path.join(audio, n)
                               for n in ("real.ogg", "empty-pages.ogg", "chunks.wav", "small-frames.flac",
                                         "chunks.m4a")})

    def refusals(self, name, times, status):
        """The AS00 lines of each ?t= request on name, each answered `status`."""
        lines = []
        for t in times:
            self.server.mark_log()
            resp = self.get(f"/audio/{name}?t={t}")
            self.assertEqual(resp.status, status, (name, t, resp))
            got = [l for l in self.server.log_since_mark() if "AS00" in l]
            self.assertEqual(len(got), 1, got)
            lines += got
        return lines

    def test_a_walk_past_the_request_budget_is_501_with_one_line_then_a_lookup(self):
        lines = self.refusals("empty-pages.ogg", ("0.5", "0.5", "0.75", "1,2"), 501)
        # The walk's own cap (2^18 pages a cut), a cost refusal as the request's budget is.
        self.assertRegex(lines[0], r"\[audio_stream:warn\].*AS0026: no time seek for .*empty-pages\.ogg at 0\.5: "
                                   r"an Ogg cut of more than 262144 pages \(the cap\)$")
        # The same t again: the verdict, not walked again. Another t, a clip: walked (a cost
        # depends on where the cut starts), and refused as well.
        self.assertRegex(lines[1], r"AS0026: .*empty-pages\.ogg at 0\.5: .*\(verdict cached\)$")
        for line in lines[2:]:
            self.assertRegex(line, r"AS0026: .*empty-pages\.ogg.*\(the cap\)$")
        self.extra_expected_log.append(r"AS0026")
        self.assertEqual(self.get("/audio/empty-pages.ogg").body, open(self.files["empty-pages.ogg"], "rb").read())
        self.assertEqual(self.get("/audio/real.ogg?t=0.5").status, 200)

    def test_tables_past_the_steps_budget_are_the_files_verdict(self):
        # An MP4's tables cost the same whatever t asks: the verdict is the file's.
        lines = self.refusals("chunks.m4a", ("0.5", "1.5", "0.25,1"), 501)
        self.assertRegex(lines[0], r"\[audio_stream:warn\].*AS0026: no time seek for .*chunks\.m4a at 0\.5: "
                                   r"over the request's budget of 2097152 steps$")
        for line in lines[1:]:
            self.assertRegex(line, r"AS0026: .*chunks\.m4a.*\(verdict cached\)$")
        self.extra_expected_log.append(r"AS0026")

    def test_a_cut_over_a_cap_does_not_refuse_a_later_t(self):
        # From 1 s a cut would renumber more FLAC frames than the cap; from 50 s it is a cut.
        self.refusals("small-frames.flac", ("1",), 501)
        self.extra_expected_log.append(r"AS0026")
        resp = self.get("/audio/small-frames.flac?t=50")
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(resp.body[:4], b"fLaC")
        again = self.refusals("small-frames.flac", ("1",), 501)
        self.assertRegex(again[0], r"AS0026: .*small-frames\.flac at 1: .*\(verdict cached\)$")

    def test_a_walk_past_a_format_cap_is_500_once_per_file(self):
        lines = self.refusals("chunks.wav", ("0.5", "0.25"), 500)
        self.assertRegex(lines[0], r"\[audio_stream:error\].*AS0023: cannot cut .*chunks\.wav at 0\.5: "
                                   r"more than 4096 chunks before the data chunk$")
        self.assertRegex(lines[1], r"AS0023: .*chunks\.wav at 0\.25: .*\(verdict cached\)$")
        self.extra_expected_log.append(r"AS0023")
        self.assertEqual(self.get("/audio/chunks.wav").status, 200)

    def test_the_largest_cuts_are_cached_too(self):
        # A player's range requests on one cut: the first makes it, the others are lookups.
        bodies = []
        for _ in range(3):
            self.server.mark_log()
            resp = self.get("/audio/small-frames.flac?t=10", (("Range", "bytes=1000-1999"),))
            self.assertEqual(resp.status, 206, resp)
            bodies.append(resp.body)
            lines = [l for l in self.server.log_since_mark() if "AS0024" in l]
            self.assertEqual(len(lines), 1, lines)
            self.assertRegex(lines[0], r"AS0024: \?t=10 -> cut from \d+ us, (\d+) bytes \((made|cached)")
            cached = lines[0].endswith("(cached)")
            self.assertEqual(cached, len(bodies) > 1, lines[0])
        self.assertEqual(bodies[0], bodies[1])
        self.assertEqual(bodies[0], bodies[2])
