"""HLS from plain files against a real httpd: FILE/index.m3u8, FILE/master.m3u8, FILE/init.mp4
and the segments FILE/seg-N.ts (MP3 as MPEG-TS), .mp3 (MP3 as packed audio, RFC 8216 §3.4, where
AudioStreamHLSMP3 Packed) and .m4s (FLAC, MP4 audio and Opus as fragmented MP4).

Sources: 90 s chirps as uploads are made: LAME's own VBR and MPEG-2 low-rate CBR command lines,
ffmpeg's libmp3lame CBR, an MP3 re-tagged by eyeD3 (cover art, a v1 trailer), flac and metaflac,
ffmpeg's ALAC and AAC, AtomicParsley, GStreamer's mp4mux, opusenc, made a day old so that
their ETags are strong. The oracles:
  - MP3: the segments' frames (TS: the PES payloads, every packet whole, PAT, PMT and one audio
    PID whose continuity counters run on across segments; packed: less the ID3 tag), joined,
    are the file's audio frames, every one once and in order (ffprobe's packets), and each
    segment's timestamp is where the EXTINFs before it put it;
  - ffmpeg plays each playlist over HTTP without a word, for as long as the packets last (FLAC
    and ALAC sample for sample, Opus the file's samples then its end trim), and, in MP3, its -ss
    lands within a segment of the target;
  - the master playlist's BANDWIDTH is at least every segment's bitrate, AVERAGE-BANDWIDTH the
    whole's within 1% (TS: 3%);
  - every playlist and segment is a representation: strong ETag, Range, If-Range, HEAD, 304;
    404 past the last segment, for a name that is not ours, for files with no HLS form and where
    AudioStreamHLS is Off; a file that is not MP3, 500 with one log line, then its verdict cached;
  - a listener's segments count toward the file; README's CDN recipe gives them a lifetime.
Browsers, VLC and hls-parser play and read the same URLs in test_hls_clients.py.
"""
import json
import os
import re
import subprocess

from harness import ServerTestCase, request
import harness
import test_stats as st
import test_time_seek as ts

SECONDS = 90
CHIRP = "aevalsrc=0.5*sin(2*PI*(220+4*t)*t)|0.5*sin(2*PI*(330+3*t)*t):s=44100:d=%d" % SECONDS
MP3S = ("lame.mp3", "cbr.mp3", "mpeg2.mp3", "tagged.mp3")
# Fragmented MP4: name -> lossless (decoded samples equal the file's)
FMP4 = {"tone.flac": True, "metaflac.flac": True, "alac.m4a": True, "aac.m4a": False, "atomic.m4a": False,
        "gst.m4a": False, "opus.opus": False}
PRIV_OWNER = b"com.apple.streaming.transportStreamTimestamp\x00"


def generate(docroot):
    audio = os.path.join(docroot, "audio")
    for d in ("nohls", "packed"):
        os.makedirs(os.path.join(audio, d), exist_ok=True)
        os.chmod(os.path.join(audio, d), 0o755)
    out = {name: os.path.join(audio, name) for name in MP3S + tuple(FMP4) + ("vorbis.ogg", "pcm.wav", "junk.mp3")}
    out["nohls/off.mp3"] = os.path.join(audio, "nohls", "off.mp3")
    out.update({"packed/" + name: os.path.join(audio, "packed", name) for name in MP3S})
    with ts.scratch("audio_stream_hls_src_") as work:
        master = os.path.join(work, "master.wav")
        ts.ffmpeg("-f", "lavfi", "-i", CHIRP, "-c:a", "pcm_s16le", master)
        cover = os.path.join(work, "cover.png")
        ts.ffmpeg("-f", "lavfi", "-i", "color=c=red:s=64x64", "-frames:v", "1", cover)
        steps = (
            ["lame", "--quiet", "-V", "4", master, out["lame.mp3"]],
            ["ffmpeg", "-v", "error", "-i", master, "-c:a", "libmp3lame", "-b:a", "128k", out["cbr.mp3"]],
            ["lame", "--quiet", "--resample", "22.05", "-b", "48", master, out["mpeg2.mp3"]],
            ["lame", "--quiet", "-b", "160", master, out["tagged.mp3"]],
            ["eyeD3", "--quiet", "--title", "Episode", "--add-image", cover + ":FRONT_COVER",
             "--to-v1.1", out["tagged.mp3"]],
            ["eyeD3", "--quiet", "--title", "Episode", out["tagged.mp3"]],
            ["oggenc", "-Q", "-q", "2", "-o", out["vorbis.ogg"], master],
            ["flac", "-s", "-f", "-o", out["tone.flac"], master],
            ["flac", "-s", "-f", "-o", out["metaflac.flac"], master],
            ["metaflac", "--add-seekpoint=10s", "--add-padding=8192", "--set-tag=TITLE=Episode",
             "--import-picture-from=" + cover, out["metaflac.flac"]],
            ["ffmpeg", "-v", "error", "-i", master, "-c:a", "alac", out["alac.m4a"]],
            ["ffmpeg", "-v", "error", "-i", master, "-c:a", "aac", "-b:a", "128k", out["aac.m4a"]],
            ["cp", out["aac.m4a"], out["atomic.m4a"]],
            ["AtomicParsley", out["atomic.m4a"], "--title", "Episode", "--artwork", cover, "--overWrite"],
            ["gst-launch-1.0", "-q", "filesrc", "location=" + master, "!", "wavparse", "!", "audioconvert", "!",
             "avenc_aac", "!", "aacparse", "!", "mp4mux", "!", "filesink", "location=" + out["gst.m4a"]],
            ["opusenc", "--quiet", master, out["opus.opus"]],
            ["ffmpeg", "-v", "error", "-i", master, "-t", "5", out["pcm.wav"]],
            ["cp", out["cbr.mp3"], out["nohls/off.mp3"]],
        ) + tuple(["cp", out[name], out["packed/" + name]] for name in MP3S)
        for step in steps:
            r = ts.run(step)
            assert r.returncode == 0, (step, r.stdout, r.stderr)
    with open(out["junk.mp3"], "wb") as f:
        f.write(bytes(range(256)) * 400)
    return ts.published(out)


def playlist_entries(text):
    """[(duration, uri)] of a media playlist, and its tags as {name: value}."""
    entries, tags, duration = [], {}, None
    for line in text.splitlines():
        if line.startswith("#EXTINF:"):
            duration = line[len("#EXTINF:"):].rstrip(",")
        elif line.startswith("#"):
            name, _, value = line.partition(":")
            tags[name] = value
        elif line:
            entries.append((duration, line))
    return entries, tags


def strip_timestamp(segment):
    """(timestamp, the packets) of a packed-audio segment: its ID3v2.4 tag holds one PRIV frame."""
    assert segment[:5] == b"ID3\x04\x00", segment[:10]
    size = 0
    for b in segment[6:10]:
        size = size << 7 | b
    tag, body = segment[:10 + size], segment[10 + size:]
    at = tag.index(PRIV_OWNER) + len(PRIV_OWNER)
    return int.from_bytes(tag[at:at + 8], "big"), body


def ts_payload(segment):
    """(the first PES's PTS, the PES payloads joined) of an MPEG-TS segment: checks that it is
    whole 188-byte packets of PAT, PMT and one audio PID whose continuity counter runs on."""
    assert len(segment) % 188 == 0 and segment[0] == 0x47, len(segment)
    pids, payload, pts, counters = [], b"", None, {}
    for at in range(0, len(segment), 188):
        p = segment[at:at + 188]
        assert p[0] == 0x47
        pid = (p[1] & 0x1F) << 8 | p[2]
        pids.append(pid)
        control, cc = p[3] >> 4, p[3] & 0x0F
        if control & 1:
            counters.setdefault(pid, []).append(cc)
        body = p[4:]
        if control & 2:
            body = body[1 + body[0]:]
        if pid != 0x100:
            continue
        if p[1] & 0x40:  # a PES starts: its header, then frames
            assert body[:4] == b"\0\0\x01\xc0", body[:4]
            if pts is None:
                b = body[9:14]
                pts = (b[0] >> 1 & 7) << 30 | b[1] << 22 | (b[2] >> 1) << 15 | b[3] << 7 | b[4] >> 1
            body = body[9 + body[8]:]
        payload += body
    assert pids[:2] == [0, 0x1000] and set(pids[2:]) == {0x100}, pids[:4]
    for pid, ccs in counters.items():
        assert all((b - a) % 16 == 1 for a, b in zip(ccs, ccs[1:])), (pid, ccs)
    assert len(counters[0x100]) % 16 == 0, "the next segment's counter starts at 0"
    return pts, payload, counters[0][0]


def file_packets(path):
    """ffprobe's audio packets of the file: (offset, size) each."""
    r = ts.run(["ffprobe", "-v", "error", "-select_streams", "a:0", "-show_entries", "packet=pos,size",
                "-of", "json", path])
    assert r.returncode == 0, r.stderr
    return [(int(p["pos"]), int(p["size"])) for p in json.loads(r.stdout)["packets"]]


class HlsCase(ServerTestCase):
    extra_conf = ""

    @classmethod
    def setUpClass(cls):
        cls.extra_conf = "{nohls}"
        super().setUpClass()

    @classmethod
    def prepare_docroot(cls, docroot):
        cls.paths = generate(docroot)
        cls.server.extra_conf = (harness.httpd_conf.directory(f"{docroot}/audio/nohls", "AudioStreamHLS Off")
                                 + harness.httpd_conf.directory(f"{docroot}/audio/packed", "AudioStreamHLSMP3 Packed"))

    def fetch(self, path, headers=(), method="GET"):
        return self.get("/audio/" + path, headers, method)

    def playlist(self, name):
        resp = self.fetch(f"{name}/index.m3u8")
        self.assertEqual(resp.status, 200, resp)
        return playlist_entries(resp.body.decode("ascii"))


class HlsMp3(HlsCase):
    def check_segments(self, name, packed):
        """Every segment's frames, joined, are the file's frames; each segment's timestamp is
        where the EXTINFs before it put it. `packed`: the Packed directory's copy."""
        entries, tags = self.playlist(("packed/" if packed else "") + name)
        rate = int(ts.probe_stream(self.paths[name])[0])
        joined, elapsed = b"", 0.0
        for n, (duration, uri) in enumerate(entries):
            self.assertEqual(uri, f"seg-{n}.{'mp3' if packed else 'ts'}")
            resp = self.fetch(f"{'packed/' if packed else ''}{name}/{uri}")
            self.assertEqual((resp.status, resp.header("Content-Type")),
                             (200, "audio/mpeg" if packed else "video/mp2t"))
            if packed:
                stamp, packets = strip_timestamp(resp.body)
            else:
                stamp, packets, psi_counter = ts_payload(resp.body)
                self.assertEqual(psi_counter, n % 16, "PAT's counter runs on across segments")
            self.assertLessEqual(abs(stamp - elapsed * 90000), 1, f"segment {n}'s timestamp")
            self.assertRegex(duration, r"^\d+\.\d{6}$")
            self.assertLessEqual(round(float(duration)), int(tags["#EXT-X-TARGETDURATION"]))
            elapsed += float(duration)
            joined += packets
        with open(self.paths[name], "rb") as f:
            data = f.read()
        packets = file_packets(self.paths[name])
        first = packets[0][0]
        self.assertEqual(joined, data[first:first + len(joined)], "one run of the file's bytes")
        self.assertEqual(len(joined), sum(size for _, size in packets), "every frame, once")
        spf = 576 if rate < 32000 else 1152
        self.assertAlmostEqual(elapsed, len(packets) * spf / rate, delta=len(entries) * 1e-6)

    def test_segments_are_the_files_frames_with_their_timestamps(self):
        for name in MP3S:
            for packed in (False, True):
                with self.subTest(file=name, packed=packed):
                    self.check_segments(name, packed)

    def test_playlist_tags_follow_rfc_8216(self):
        resp = self.fetch("cbr.mp3/index.m3u8")
        text = resp.body.decode("ascii")
        self.assertEqual(resp.header("Content-Type"), "application/vnd.apple.mpegurl")
        self.assertTrue(text.startswith("#EXTM3U\n#EXT-X-VERSION:3\n"), text)
        for tag in ("#EXT-X-PLAYLIST-TYPE:VOD\n", "#EXT-X-TARGETDURATION:6\n", "#EXT-X-MEDIA-SEQUENCE:0\n"):
            self.assertIn(tag, text)
        self.assertTrue(text.endswith("#EXT-X-ENDLIST\n"))
        self.assertNotIn("#EXT-X-MAP", text)

    def test_ffmpeg_plays_and_seeks(self):
        for name in MP3S + tuple("packed/" + n for n in MP3S):
            with self.subTest(file=name):
                url = self.server.url(f"/audio/{name}/index.m3u8")
                entries, _ = self.playlist(name)
                total = sum(float(d) for d, _ in entries)
                with ts.scratch("audio_stream_hls_out_") as work:
                    out = os.path.join(work, "all.wav")
                    r = ts.run(["ffmpeg", "-nostdin", "-v", "error", "-i", url, "-c:a", "pcm_s16le", out])
                    self.assertEqual((r.returncode, r.stderr), (0, ""), "ffmpeg plays it silently")
                    self.assertAlmostEqual(ts.ffprobe_duration(out), total, delta=0.03)
                    part = os.path.join(work, "part.wav")
                    r = ts.run(["ffmpeg", "-nostdin", "-v", "error", "-ss", "40", "-i", url, "-c:a", "pcm_s16le",
                                part])
                    self.assertEqual(r.returncode, 0, r.stderr)
                    left = ts.ffprobe_duration(part)
                    self.assertLessEqual(abs((total - left) - 40), 6.1, "-ss 40 lands within a segment")

    def test_master_playlist_bandwidths(self):
        # BANDWIDTH bounds every segment's bit rate; AVERAGE-BANDWIDTH is the whole's (packed:
        # within 1%; TS, whose padding the playlist estimates, within 3%).
        for name in ("lame.mp3", "cbr.mp3", "packed/lame.mp3", "packed/cbr.mp3", "tone.flac", "aac.m4a"):
            with self.subTest(file=name):
                resp = self.fetch(f"{name}/master.m3u8")
                self.assertEqual(resp.header("Content-Type"), "application/vnd.apple.mpegurl")
                m = re.search(r'#EXT-X-STREAM-INF:BANDWIDTH=(\d+),AVERAGE-BANDWIDTH=(\d+),CODECS="[^"]+"\n'
                              r'index\.m3u8\n$', resp.body.decode("ascii"))
                self.assertTrue(m, resp.body)
                peak, average = int(m.group(1)), int(m.group(2))
                entries, _ = self.playlist(name)
                total_bytes, total_seconds = 0, 0.0
                for duration, uri in entries:
                    size = len(self.fetch(f"{name}/{uri}").body)
                    self.assertLessEqual(size * 8 / float(duration), peak, uri)
                    total_bytes += size
                    total_seconds += float(duration)
                slack = 0.03 if name.endswith(".mp3") and not name.startswith("packed/") else 0.01
                self.assertAlmostEqual(average, total_bytes * 8 / total_seconds, delta=slack * average)

    def test_a_segment_is_a_representation(self):
        resp = self.fetch("cbr.mp3/seg-3.ts")
        etag = resp.header("ETag")
        self.assertRegex(etag, r'^"[^"]+-h1-s3"$', "a strong ETag of its own")
        self.assertEqual(resp.header("Accept-Ranges"), "bytes")
        part = self.fetch("cbr.mp3/seg-3.ts", [("Range", "bytes=10-99")])
        self.assertEqual((part.status, part.body), (206, resp.body[10:100]))
        self.assertEqual(part.header("Content-Range"), f"bytes 10-99/{len(resp.body)}")
        head = self.fetch("cbr.mp3/seg-3.ts", method="HEAD")
        self.assertEqual((head.status, head.header("Content-Length"), head.body), (200, str(len(resp.body)), b""))
        self.assertEqual(self.fetch("cbr.mp3/seg-3.ts", [("If-None-Match", etag)]).status, 304)
        same = self.fetch("cbr.mp3/seg-3.ts", [("Range", "bytes=-5"), ("If-Range", etag)])
        self.assertEqual((same.status, same.body), (206, resp.body[-5:]))
        other = self.fetch("cbr.mp3/seg-4.ts", [("Range", "bytes=-5"), ("If-Range", etag)])
        self.assertEqual(other.status, 200, "another segment's validator does not match")
        playlist = self.fetch("cbr.mp3/index.m3u8")
        self.assertRegex(playlist.header("ETag"), r'^"[^"]+-h1-index"$')
        self.assertEqual(self.fetch("cbr.mp3/index.m3u8", [("If-None-Match", playlist.header("ETag"))]).status, 304)
        self.assertEqual(self.fetch("cbr.mp3").body[:3], b"ID3", "the file itself is still the file")

    def test_segments_over_http2_are_the_same_bytes(self):
        # An MPEG-TS segment is one memory block (a heap bucket on HTTP/2), the others a header
        # and file extents (snapshots): h2c gives the bytes HTTP/1.1 does, whole and ranged.
        for path in ("cbr.mp3/seg-2.ts", "packed/cbr.mp3/seg-2.mp3", "tone.flac/seg-2.m4s", "tone.flac/init.mp4",
                     "cbr.mp3/index.m3u8"):
            for extra in ([], ["-r", "100-50000"]):
                with self.subTest(path=path, range=extra):
                    url = self.server.url("/audio/" + path)
                    h1 = subprocess.run(["curl", "-sf", *extra, url], capture_output=True, check=True).stdout
                    h2 = subprocess.run(["curl", "-sf", "--http2-prior-knowledge", "-w", "%{http_version}", *extra,
                                         url], capture_output=True, check=True).stdout
                    self.assertEqual(h2, h1 + b"2")
                    self.assertGreater(len(h1), 0)

    def test_what_is_not_there_is_404(self):
        entries, _ = self.playlist("cbr.mp3")
        cases = (f"cbr.mp3/seg-{len(entries)}.ts", "cbr.mp3/seg-01.ts", "cbr.mp3/seg-1.mp3", "cbr.mp3/init.mp4",
                 "packed/cbr.mp3/seg-1.ts",
                 "cbr.mp3/index.m3u8/x", "cbr.mp3/other", "cbr.mp3/seg-99999999999.mp3",
                 "vorbis.ogg/index.m3u8", "pcm.wav/master.m3u8", "nohls/off.mp3/index.m3u8")
        for path in cases:
            with self.subTest(path=path):
                self.assertEqual(self.fetch(path).status, 404)
        lines = self.server.log_since_mark()
        self.assertTrue(any("AS0033" in l for l in lines), "past the last segment")
        self.assertTrue(any("AS0031" in l for l in lines), "not an HLS name")
        self.assertTrue(any("AS0032" in l and "vorbis.ogg" in l for l in lines), "no HLS form")
        self.assertTrue(any("AS0003" in l and "off.mp3" in l for l in lines), "AudioStreamHLS Off")

    def test_a_file_that_is_not_mp3_is_refused_once(self):
        self.assertEqual(self.fetch("junk.mp3/index.m3u8").status, 500)
        self.expect_log(r"AS0034: cannot segment .*junk\.mp3")
        self.assertEqual(self.fetch("junk.mp3/seg-0.ts").status, 500)
        self.assertTrue(any("verdict cached" in l for l in self.server.log_since_mark()))


class HlsFmp4(HlsCase):
    """FLAC, ALAC, AAC and Opus as fragmented MP4: init.mp4 and seg-N.m4s."""

    def decode(self, source, work, name):
        out = os.path.join(work, name + ".s16")
        r = ts.run(["ffmpeg", "-nostdin", "-v", "error", "-i", source, "-f", "s16le", "-c:a", "pcm_s16le", out])
        self.assertEqual((r.returncode, r.stderr), (0, ""), f"ffmpeg decodes {source} silently")
        with open(out, "rb") as f:
            return f.read()

    def test_ffmpeg_plays_every_sample(self):
        for name, lossless in FMP4.items():
            with self.subTest(file=name):
                entries, tags = self.playlist(name)
                self.assertEqual(tags["#EXT-X-VERSION"], "6")
                self.assertEqual(tags["#EXT-X-MAP"], 'URI="init.mp4"')
                init = self.fetch(f"{name}/init.mp4")
                self.assertEqual((init.status, init.header("Content-Type")), (200, "audio/mp4"))
                self.assertRegex(init.header("ETag"), r'^"[^"]+-h1-init"$')
                self.assertEqual(init.body[4:8], b"ftyp")
                seg = self.fetch(f"{name}/seg-1.m4s")
                self.assertEqual((seg.status, seg.header("Content-Type")), (200, "audio/mp4"))
                self.assertEqual(seg.body[4:8], b"moof")
                with ts.scratch("audio_stream_hls_out_") as work:
                    played = self.decode(self.server.url(f"/audio/{name}/index.m3u8"), work, "hls")
                    original = self.decode(self.paths[name], work, "file")
                if lossless:
                    self.assertEqual(played, original, "sample for sample")
                else:
                    # The encoder's priming samples (the file's edit list) play too.
                    self.assertGreaterEqual(len(played), len(original))
                    self.assertLessEqual(len(played) - len(original), 2 * 2 * 2112)
                if name.endswith(".opus"):
                    # The Ogg file's packets through the same decoder, dOps's pre-skip dropped as
                    # OpusHead's is: the same samples, but for the end trim ffmpeg 5.1 ignores.
                    self.assertEqual(played[:len(original)], original)
                total = sum(float(d) for d, _ in entries)
                rate = int(ts.probe_stream(self.paths[name])[0])
                # ffmpeg 5.1 decodes an MP4's last packet whole, whatever stts says of it.
                last = 1 if lossless else 1024
                self.assertAlmostEqual(total, len(played) / 4 / rate, delta=len(entries) * 1e-6 + last / rate)

    # ffmpeg 5.1 cannot -ss in fragmented-MP4 HLS, its own hls muxer's output included (measured:
    # an empty output either way); seeking there is the browsers' test (test_hls_clients.py).


class HlsCounting(st.StatsTestCase):
    """A listener's segments count toward the file by the same rules as its ranges."""

    def test_segments_count_toward_their_file(self):
        ua = "hls-listener"
        status, body, rec = self.fetch(ua=ua, name="ep.mp3/index.m3u8")
        self.assertEqual((status, rec["download"]), (200, "-"), "a playlist alone counts nothing")
        entries, _ = playlist_entries(body.decode("ascii"))
        counted = []
        for n, (_, uri) in enumerate(entries[:14]):
            status, _, rec = self.fetch(ua=ua, name=f"ep.mp3/{uri}")
            self.assertEqual(status, 200)
            counted.append((n, rec["state"], rec["download"]))
        downloads = [n for n, _, d in counted if d == "1"]
        # The file bytes the segments carry (the frames in their PES packets) reach the threshold
        # (the ID3 tag and one minute of audio, which no segment holds) in this one.
        covered, crossing = 0, None
        for n in range(len(counted)):
            covered += len(ts_payload(st.curl(self.url(f"ep.mp3/seg-{n}.ts"), ua="size-probe")[1])[1])
            self.log.wait()
            if crossing is None and covered >= self.threshold():
                crossing = n
        self.assertEqual(downloads, [crossing], counted)
        self.assertEqual(self.downloads.wait()[0]["path"], f"/audio/ep.mp3/seg-{crossing}.ts")
        _, _, rec = self.fetch(ua=ua)
        self.assertEqual(rec["state"], "dup", "the segments and the file are one download")


def readme_cdn_recipe():
    """The `<If>` block of README's HLS section that gives playlists and segments a lifetime."""
    with open(os.path.join(harness.REPO, "README.md")) as f:
        section = f.read().split("\n## HLS\n", 1)[1].split("\n## ", 1)[0]
    recipes = [b for b in re.findall(r"```apache\n(.*?)```", section, re.S) if b.startswith("<If ")]
    assert len(recipes) == 1, f"README's HLS section shows {len(recipes)} <If> recipes"
    return recipes[0]


class HlsCdnRecipe(ServerTestCase):
    """README's recipe for a CDN: playlists and segments get a lifetime, the file does not."""

    modules = ("mime", "headers")

    @classmethod
    def prepare_docroot(cls, docroot):
        audio = os.path.join(docroot, "audio")
        st.make_mp3(os.path.join(audio, "ep.mp3"), 20)
        subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "sine=d=20", "-c:a", "flac",
                        os.path.join(audio, "ep.flac")], check=True)
        ts.published({"mp3": os.path.join(audio, "ep.mp3"), "flac": os.path.join(audio, "ep.flac")})
        cls.server.extra_conf = harness.httpd_conf.directory(audio, readme_cdn_recipe())

    def test_playlists_and_segments_get_a_lifetime(self):
        for path in ("ep.mp3/index.m3u8", "ep.mp3/master.m3u8", "ep.mp3/seg-0.ts", "ep.flac/init.mp4",
                     "ep.flac/seg-1.m4s"):
            with self.subTest(path=path):
                resp = self.get("/audio/" + path)
                self.assertEqual((resp.status, resp.header("Cache-Control")), (200, "public, max-age=86400"))
        for path in ("ep.mp3", "ep.flac"):
            self.assertIsNone(self.get("/audio/" + path).header("Cache-Control"), "the files keep theirs")
