"""Files as people upload them, made by the encoders and taggers that write them rather than by
ffmpeg, through every clip test of test_clips.py (each pair of CLIPS judged by decoders: the
samples from the start to END, the alignment at both ends, ffprobe's duration, flac -t), then
served whole byte for byte, with their tags kept in cuts and clips.

Sources (the chirp of test_clips, 120 s; oggenc and opusenc files are test_clips' own):
  - LAME's command line: CBR 128k, ABR 96k, MPEG-2 (22.05 kHz) and MPEG-2.5 (8 kHz) low rates;
  - LAME's CBR file re-tagged by eyeD3 (ID3v2.3 with a front cover, then an ID3v1 tag), and the
    ABR file by mutagen (ID3v2.4, ID3v1 and an APEv2 tag at the end, as taggers leave them);
  - flac, then metaflac (a seek point every 10 s, 8 KiB of padding, a title, a picture);
  - SoX: 32-bit float and 6-channel 16-bit WAV (WAVE_FORMAT_EXTENSIBLE);
  - GStreamer's mp4mux over its libav AAC encoder, and ffmpeg's AAC re-tagged by AtomicParsley
    (a title and artwork: the moov rewritten).
"""
import json
import math
import os

import test_clips
import test_time_seek as ts

# name: (content type, decoder rate, lossless, samples the decoded end may run past END)
REAL = {
    "lame-cbr.mp3": ("audio/mpeg", 44100, False, 0),
    "lame-abr.mp3": ("audio/mpeg", 32000, False, 0),  # LAME resamples for ABR 96k
    "lame-mpeg2.mp3": ("audio/mpeg", 22050, False, 0),
    "lame-mpeg25.mp3": ("audio/mpeg", 8000, False, 0),
    "eyed3.mp3": ("audio/mpeg", 44100, False, 0),
    "trailers.mp3": ("audio/mpeg", 32000, False, 0),
    "metaflac.flac": ("audio/flac", 44100, True, 4608),
    "sox-float.wav": ("audio/x-wav", 44100, True, 0),
    "sox-6ch.wav": ("audio/x-wav", 44100, True, 0),
    "gst.m4a": ("audio/mp4", 44100, False, 1024),
    "atomic.m4a": ("audio/mp4", 44100, False, 1024),
}
# Tagged files: the tags every cut and clip of them keeps (ffprobe's names).
TAGGED = {"eyed3.mp3": ("title", True), "trailers.mp3": ("title", False), "metaflac.flac": ("TITLE", True),
          "atomic.m4a": ("title", True)}

RETAG_TRAILERS = r"""
import sys
from mutagen.apev2 import APEv2
from mutagen.id3 import ID3, TIT2
ape = APEv2()
ape["Title"] = "Real"
ape.save(sys.argv[1])
tags = ID3()
tags.add(TIT2(encoding=3, text="Real"))
tags.save(sys.argv[1], v1=2, v2_version=4)
"""


def generate(docroot):
    """The sources, in docroot/audio; returns {name: path}."""
    audio = os.path.join(docroot, "audio")
    os.makedirs(audio, exist_ok=True)
    out = {name: os.path.join(audio, name) for name in REAL}
    with ts.scratch("audio_stream_real_src_") as work:
        master, cover, aac = (os.path.join(work, n) for n in ("master.wav", "cover.png", "aac.m4a"))
        ts.ffmpeg("-f", "lavfi", "-i", test_clips.STEREO44, "-c:a", "pcm_s16le", master)
        ts.ffmpeg("-f", "lavfi", "-i", "color=c=red:s=64x64", "-frames:v", "1", cover)
        ts.ffmpeg("-i", master, "-c:a", "aac", "-b:a", "128k", aac)
        steps = (
            ["lame", "--quiet", "-b", "128", master, out["lame-cbr.mp3"]],
            ["lame", "--quiet", "--abr", "96", master, out["lame-abr.mp3"]],
            ["lame", "--quiet", "--resample", "22.05", "-b", "64", master, out["lame-mpeg2.mp3"]],
            ["lame", "--quiet", "--resample", "8", "-b", "16", master, out["lame-mpeg25.mp3"]],
            ["cp", out["lame-cbr.mp3"], out["eyed3.mp3"]],
            ["eyeD3", "-Q", "--to-v2.3", "--title", "Real", "--add-image", cover + ":FRONT_COVER", out["eyed3.mp3"]],
            ["eyeD3", "-Q", "--v1", "--title", "Real", out["eyed3.mp3"]],
            ["cp", out["lame-abr.mp3"], out["trailers.mp3"]],
            [ts.DEBIAN_PYTHON, "-c", RETAG_TRAILERS, out["trailers.mp3"]],
            ["flac", "-s", "-f", "-o", out["metaflac.flac"], master],
            ["metaflac", "--add-seekpoint=10s", "--add-padding=8192", "--set-tag=TITLE=Real",
             "--import-picture-from=" + cover, out["metaflac.flac"]],
            ["sox", master, "-e", "floating-point", "-b", "32", out["sox-float.wav"]],
            ["sox", "-M", master, master, master, out["sox-6ch.wav"]],
            ["gst-launch-1.0", "-q", "filesrc", "location=" + master, "!", "wavparse", "!", "audioconvert", "!",
             "avenc_aac", "!", "aacparse", "!", "mp4mux", "!", "filesink", "location=" + out["gst.m4a"]],
            ["cp", aac, out["atomic.m4a"]],
            ["AtomicParsley", out["atomic.m4a"], "--title", "Real", "--artwork", cover, "--overWrite"],
        )
        for step in steps:
            r = ts.run(step)
            assert r.returncode == 0, (step, r.stdout, r.stderr)
    return ts.published(out)


class RealWorldClips(test_clips.ClipFormats):
    """ClipFormats' tests on REAL; and what is particular to uploads."""

    formats = REAL
    generate = staticmethod(generate)

    def audio_end(self, name):
        # Not always the source's 120 s: LAME's 8 kHz MPEG-2.5 file decodes to 120.168 s (its
        # resampler's tail, no gapless trim), GStreamer's M4A to 120.023 s (its AAC priming,
        # no edit list). As ffmpeg decodes it, rounded up to the microsecond.
        ctype, rate, lossless, _ = REAL[name]
        frames = len(self.decoded[name]) // (self.channels[name] if lossless else 1)
        return math.ceil(frames * 1000000 / rate) / 1000000

    def check_clip(self, name, t, start, end):
        if name == "trailers.mp3":
            return self.check_as_the_abr_file(t)
        return super().check_clip(name, t, start, end)

    def check_as_the_abr_file(self, t):
        """ffmpeg 5.1 leaves the LAME tag's end trim undone on a short MP3 with an APEv2 tag after
        its frames (a clip of 1 ms decodes to 2,991 samples, of 0.2 s 47 too many; the same frames
        without the APE tag decode exactly, and mutagen reads the same length from both). So the
        oracle of trailers.mp3 is the ABR file's clip or cut, judged in full: the same frames,
        between the rewritten ID3v2 tag and the file's own APEv2 and ID3v1 trailers."""
        resp, plain = self.clip("trailers.mp3", t), self.clip("lame-abr.mp3", t)
        self.assertEqual((resp.status, plain.status), (200, 200))
        data = self.data["trailers.mp3"]
        trailer = data[data.rindex(b"APETAGEX", 0, len(data) - 128 - 32):]  # APE header, items, footer; ID3v1
        body = resp.body
        self.assertEqual(body[:3], b"ID3")
        tag = 10 + (body[6] << 21 | body[7] << 14 | body[8] << 7 | body[9])
        self.assertTrue(body.endswith(trailer), "the APEv2 and ID3v1 trailers kept")
        self.assertTrue(body[tag:len(body) - len(trailer)] == plain.body, "the ABR file's frames, byte for byte")

    def test_cuts_play_from_their_start_to_the_end(self):
        # A cut (no END) judged as the clips are: decoded silently, the original's samples from
        # where its ETag says it starts to the end of the file, ffprobe's duration, flac -t.
        for name in REAL:
            for t in ("30", "100"):
                with self.subTest(file=name, t=t):
                    if name == "trailers.mp3":
                        self.check_as_the_abr_file(t)
                    else:
                        self.check_cut(name, t)

    def check_cut(self, name, t):
        ctype, rate, lossless, overrun = REAL[name]
        resp = self.clip(name, t)
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(resp.header("Content-Type"), ctype)
        start_us = ts.etag_start(resp.header("ETag"))
        self.assertLessEqual(start_us, float(t) * 1e6)
        path = self.save(resp.body, os.path.splitext(name)[1])
        r = ts.run(["ffmpeg", "-nostdin", "-v", "error", "-i", path, "-f", "null", "-"])
        self.assertEqual((r.returncode, r.stdout + r.stderr), (0, ""), "ffmpeg decodes it silently")
        self.check_tool(name, path)
        channels = self.channels[name] if lossless else 1
        original = self.decoded[name]
        first = (start_us * rate + 999999) // 1000000
        expected = len(original) // channels - first
        got = ts.decode(path, lossless)
        self.assertEqual(len(got) // channels, expected, "to the end of the file, sample for sample")
        if lossless:
            self.assertTrue(got == original[first * channels:], "the decoded cut is the original's samples")
        else:
            self.check_alignment(original, got, first, expected)
        self.check_probe(name, path, resp.body, expected / rate, 0.15)

    def test_the_files_are_what_their_tools_say(self):
        # The sources are the kinds named: the rates, channels and encodings the tests rely on.
        for name, (rate, channels) in (("lame-abr.mp3", (32000, 2)), ("lame-mpeg2.mp3", (22050, 2)),
                                       ("lame-mpeg25.mp3", (8000, 2)),
                                       ("sox-6ch.wav", (44100, 6)), ("sox-float.wav", (44100, 2))):
            self.assertEqual(ts.probe_stream(self.paths[name]), (rate, channels), name)
        tail = open(self.paths["trailers.mp3"], "rb").read()[-128:]
        self.assertEqual(tail[:3], b"TAG", "ID3v1 last")
        self.assertIn(b"APETAGEX", open(self.paths["trailers.mp3"], "rb").read()[-1024:])

    def test_whole_files_are_byte_exact(self):
        for name in REAL:
            with self.subTest(file=name):
                resp = self.get(f"/audio/{name}")
                self.assertEqual(resp.status, 200, resp)
                self.assertTrue(resp.body == self.data[name])

    def test_cuts_and_clips_keep_the_tags(self):
        for name, (key, picture) in TAGGED.items():
            for t in ("30", "30,45", ",5"):
                with self.subTest(file=name, t=t):
                    resp = self.clip(name, t)
                    self.assertEqual(resp.status, 200, resp)
                    r = ts.run(["ffprobe", "-v", "error", "-show_entries", "format_tags:stream=codec_type",
                                "-of", "json", self.save(resp.body, os.path.splitext(name)[1])])
                    probe = json.loads(r.stdout)
                    self.assertEqual(probe["format"]["tags"][key], "Real")
                    kinds = [s["codec_type"] for s in probe["streams"]]
                    self.assertEqual(kinds, ["audio", "video"] if picture else ["audio"], "the cover art")

