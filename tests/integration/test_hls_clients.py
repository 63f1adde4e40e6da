"""HLS from plain files in real clients, against a real httpd: headless Chromium (hls.js and its
own player) and Firefox ESR (hls.js), VLC, and hls-parser's strict reading of every playlist.

Sources: a 60 s tone whose pitch steps every 10 s (test_chromium.make_sample's), so that where
a seek landed is heard, not read from a timestamp: LAME's CBR MP3 (MPEG-TS segments, and packed
audio where AudioStreamHLSMP3 Packed), the flac tool's FLAC, ffmpeg's AAC in M4A and opusenc's
Ogg Opus (fragmented MP4). Each client must know the duration (the playlist's, within a
packet), play, seek to 60% and play on from there; VLC decodes every playlist for its whole
length.
Not available here: Safari, iOS and Apple's mediastreamvalidator.
"""
import os
import re
import subprocess

import harness
from harness import ServerTestCase
import hls_clients as clients
import test_time_seek as ts

SECONDS = 60
TONE = "aevalsrc='0.3*sin(2*PI*220*pow(2,floor(t/10)/6)*t)':s=44100:d=%d" % SECONDS
# name: (the codec the master playlist names, a packet's length in seconds)
FILES = {
    "tone.mp3": ("mp4a.40.34", 1152 / 44100),
    "tone.flac": ("fLaC", 4096 / 44100),
    "tone.m4a": ("mp4a.40.2", 1024 / 44100),
    "tone.opus": ("Opus", 960 / 48000),
}
PACKED = "packed/tone.mp3"
BROWSERS = (("chromium", "hlsjs"), ("chromium", "native"), ("firefox", "hlsjs"))


def generate(docroot):
    audio = os.path.join(docroot, "audio")
    packed = os.path.join(audio, "packed")
    os.makedirs(packed, exist_ok=True)
    os.chmod(packed, 0o755)
    out = {name: os.path.join(audio, name) for name in list(FILES) + [PACKED]}
    with ts.scratch("audio_stream_hls_clients_") as work:
        master = os.path.join(work, "tone.wav")
        ts.ffmpeg("-f", "lavfi", "-i", TONE, "-ac", "2", "-c:a", "pcm_s16le", master)
        steps = (
            ["lame", "--quiet", "-b", "128", master, out["tone.mp3"]],
            ["cp", out["tone.mp3"], out[PACKED]],
            ["flac", "-s", "-f", "-o", out["tone.flac"], master],
            ["ffmpeg", "-v", "error", "-i", master, "-c:a", "aac", "-b:a", "128k", out["tone.m4a"]],
            ["opusenc", "--quiet", master, out["tone.opus"]],
        )
        for step in steps:
            r = ts.run(step)
            assert r.returncode == 0, (step, r.stdout, r.stderr)
    return ts.published(out)


class HlsClients(ServerTestCase):
    @classmethod
    def prepare_docroot(cls, docroot):
        cls.paths = generate(docroot)
        # The demo page and the hls.js it loads, as scripts/run-demo serves them.
        for src, dst in ((os.path.join(harness.REPO, "demo", "index.html"), "index.html"),
                         (os.path.join(clients.WEB, "node_modules", "hls.js", "dist", "hls.min.js"), "hls.min.js")):
            with open(src, "rb") as f:
                harness.write_file(os.path.join(docroot, dst), f.read())
        cls.server.extra_conf = harness.httpd_conf.directory(f"{docroot}/audio/packed", "AudioStreamHLSMP3 Packed")

    def url(self, name, resource="index.m3u8"):
        return self.server.url(f"/audio/{name}/{resource}")

    def total(self, name):
        """The media playlist's duration: its EXTINFs summed."""
        text = self.get(f"/audio/{name}/index.m3u8").body.decode("ascii")
        return sum(float(d) for d in re.findall(r"#EXTINF:([0-9.]+),", text))

    def test_playlists_parse_strictly_and_follow_rfc_8216(self):
        for name, (codecs, packet) in FILES.items():
            with self.subTest(file=name):
                media = clients.validate_playlist(self.url(name))
                self.assertNotIn("error", media)
                self.assertEqual(media["type"], "media")
                self.assertAlmostEqual(media["total_duration"], self.total(name), places=5)
                # MP3: its frames, the encoder's delay and padding (under two frames) included.
                self.assertAlmostEqual(media["total_duration"], SECONDS, delta=2 * packet)
                for seg in media["segments"]:
                    self.assertLessEqual(round(seg["duration"]), media["target_duration"])
                fmp4 = media["map_uri"] is not None
                self.assertEqual(media["version"], 6 if fmp4 else 3, "the lowest version its tags need")
                master = clients.validate_playlist(self.url(name, "master.m3u8"))
                self.assertNotIn("error", master)
                text = self.get(f"/audio/{name}/master.m3u8").body.decode("ascii")
                self.assertIn(f'CODECS="{codecs}"', text)
                # The segments are what CODECS says: MPEG-1 audio in the PMT, the sample entry.
                if fmp4:
                    init = self.get(f"/audio/{name}/init.mp4").body
                    self.assertIn({"fLaC": b"fLaC", "mp4a.40.2": b"mp4a", "Opus": b"dOps"}[codecs], init)
                else:
                    seg = self.get(f"/audio/{name}/seg-0.ts").body
                    self.assertEqual(seg[0], 0x47)
                    self.assertIn(b"\x03\xe1\x00", seg[188:376], "the PMT's one stream: MPEG-1 audio")

    def check_browser(self, name, browser, engine, packet):
        result = clients.play_in_browser(self.url(name), browser, engine)
        self.assertTrue(result.get("ok"), result)
        self.assertAlmostEqual(result["duration"], self.total(name), delta=packet + 0.001, msg=result)

    def test_browsers_play_and_seek(self):
        for name, (_, packet) in FILES.items():
            for browser, engine in BROWSERS:
                with self.subTest(file=name, browser=browser, engine=engine):
                    self.check_browser(name, browser, engine, packet)

    def test_packed_mp3_plays_in_hls_js(self):
        for browser in ("chromium", "firefox"):
            with self.subTest(browser=browser):
                self.check_browser(PACKED, browser, "hlsjs", FILES["tone.mp3"][1])
        self.assertTrue(self.get(f"/audio/{PACKED}/seg-0.mp3").body.startswith(b"ID3\x04"))

    def test_the_demo_pages_hls_switch_plays(self):
        for browser in ("chromium", "firefox"):
            for name in ("tone.mp3", "tone.flac"):
                with self.subTest(browser=browser, file=name):
                    page = self.server.url(f"/index.html?autotest=30&file={name}&hls=1")
                    result = clients.play_in_browser(page, browser, "demo")
                    self.assertTrue(result.get("ok"), result)
                    self.assertTrue(result["demo"]["hls"].startswith("hls.js"), result)
                    self.assertAlmostEqual(result["demo"]["duration"], self.total(name), delta=0.1)

    def test_vlc_decodes_every_playlist(self):
        for name in list(FILES) + [PACKED]:
            with self.subTest(file=name):
                with ts.scratch("audio_stream_hls_vlc_") as work:
                    out = os.path.join(work, "out.wav")
                    duration = clients.vlc_decode(self.url(name), out)
                    self.assertIsNotNone(duration, clients.vlc_decode.last_stderr)
                    self.assertAlmostEqual(duration, SECONDS, delta=0.15, msg=clients.vlc_decode.last_stderr)
                    self.assertEqual(clients.tone_step(out), 0)
                    later = clients.vlc_decode(self.url(name), out, start=40)
                    self.assertIsNotNone(later, clients.vlc_decode.last_stderr)
                    # VLC starts at the segment holding 40 s (36 s with 6 s segments): the 4th tone's
                    # segment, which begins in the 3rd tone.
                    self.assertIn(clients.tone_step(out), (3, 4))

    def test_ffmpeg_seeks_in_mp3(self):
        for name in ("tone.mp3", PACKED):
            with self.subTest(file=name):
                with ts.scratch("audio_stream_hls_ff_") as work:
                    out = os.path.join(work, "out.wav")
                    duration, err = clients.ffmpeg_decode(self.url(name), start=40, out_wav=out)
                    self.assertIsNotNone(duration, err)
                    self.assertAlmostEqual(duration, SECONDS - 40, delta=0.1)
                    self.assertEqual(clients.tone_step(out), 4, "-ss 40 lands in the 5th tone")
