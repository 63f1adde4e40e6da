"""Reference HLS renditions of one audio file, made with ffmpeg and by hand, and the measurement
of which real clients play which: it decides the form of the module's MP3 segments.

    python3 tests/integration/hls_variants.py OUTDIR            # make the renditions only
    python3 tests/integration/hls_variants.py OUTDIR --measure  # and play each in every client
        [--master]             # through master.m3u8 (one variant with CODECS) instead of index.m3u8
        [--only=NAME,NAME]     # only these renditions

Renditions (each OUTDIR/NAME/index.m3u8 with 6 s segments, from a 60 s tone):
  ts_mp3      MPEG-TS carrying the MP3 frames (ffmpeg -hls_segment_type mpegts -c:a copy)
  fmp4_mp3    fragmented MP4 carrying the MP3 frames (-hls_segment_type fmp4 -c:a copy)
  packed_mp3  packed audio (RFC 8216 §3.4): raw MP3 frames per segment, each segment opened by
              an ID3v2.4 tag whose PRIV frame com.apple.streaming.transportStreamTimestamp holds
              the segment's first sample as a 33-bit 90 kHz timestamp (write_packed_mp3 below)
  packed_mp3_noid3  the same segments without the timestamp tag (against §3.4: who minds?)
  byterange_mp3     no segment files: EXT-X-BYTERANGE spans of whole frames in the MP3 itself
  packed_aac  packed audio, the M4A's AAC as ADTS frames (to tell packed audio from packed MP3)
  fmp4_aac    fragmented MP4, AAC from an M4A (copy)
  fmp4_flac   fragmented MP4, FLAC (ffmpeg -strict -2)
  fmp4_opus   fragmented MP4, Opus (libopus)
The measurement serves OUTDIR from a private httpd (no module: plain files, Range, mod_mime's
types, Access-Control-Allow-Origin: *) and prints a JSON line per client × rendition, then a
Markdown table.
"""
import json
import math
import os
import struct
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hls_clients  # noqa: E402

SECONDS = 60
SEGMENT = 6
SEEK_AT = 40  # ffmpeg -ss and VLC --start-time: lands in the tone's step 4 ([40, 50) s)
TONE = "aevalsrc='0.3*sin(2*PI*220*pow(2,floor(t/10)/6)*t)':s=44100:d=%d" % SECONDS
PTS_OWNER = b"com.apple.streaming.transportStreamTimestamp"


def ffmpeg(*args):
    subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *args],
                   check=True, capture_output=True, timeout=300)


def make_sources(outdir):
    """OUTDIR/src.mp3 (LAME, 128k CBR) and OUTDIR/src.m4a (ffmpeg's AAC from it)."""
    os.makedirs(outdir, exist_ok=True)
    mp3, m4a = os.path.join(outdir, "src.mp3"), os.path.join(outdir, "src.m4a")
    ffmpeg("-f", "lavfi", "-i", TONE, "-ac", "2", "-c:a", "libmp3lame", "-b:a", "128k", mp3)
    ffmpeg("-i", mp3, "-c:a", "aac", "-b:a", "128k", m4a)
    return mp3, m4a


def make_ffmpeg_hls(source, outdir, segment_type, codec_args):
    """ffmpeg's HLS muxer: outdir/index.m3u8, VOD, SEGMENT-second segments."""
    os.makedirs(outdir, exist_ok=True)
    ext = "ts" if segment_type == "mpegts" else "m4s"
    extra = ["-hls_fmp4_init_filename", "init.mp4"] if segment_type == "fmp4" else []
    ffmpeg("-i", source, "-vn", *codec_args, "-f", "hls", "-hls_time", str(SEGMENT),
           "-hls_playlist_type", "vod", "-hls_segment_type", segment_type, *extra,
           "-hls_segment_filename", os.path.join(outdir, f"seg%03d.{ext}"),
           os.path.join(outdir, "index.m3u8"))


# ---- packed audio: frames read from the file, cut at frame boundaries, tagged ----

MP3_BITRATES = {  # kbit/s by (MPEG-1?, index), layer III
    True: [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
    False: [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
}
MP3_RATES = {3: [44100, 48000, 32000], 2: [22050, 24000, 16000], 0: [11025, 12000, 8000]}


def read_mp3_frame(data, at):
    """(length, samples, rate, is_info) of the layer III frame at `at`, or None."""
    if at + 4 > len(data):
        return None
    h = struct.unpack(">I", data[at:at + 4])[0]
    version, layer = (h >> 19) & 3, (h >> 17) & 3
    bitrate_index, rate_index, padding = (h >> 12) & 15, (h >> 10) & 3, (h >> 9) & 1
    if (h >> 21) != 0x7FF or version == 1 or layer != 1 or bitrate_index in (0, 15) or rate_index == 3:
        return None
    mpeg1 = version == 3
    rate = MP3_RATES[version][rate_index]
    bitrate = MP3_BITRATES[mpeg1][bitrate_index] * 1000
    samples = 1152 if mpeg1 else 576
    length = samples // 8 * bitrate // rate + padding
    mono = (h >> 6) & 3 == 3
    side = (17 if mono else 32) if mpeg1 else (9 if mono else 17)
    tag = data[at + 4 + side:at + 8 + side]
    return length, samples, rate, tag in (b"Xing", b"Info")


def skip_id3v2(data):
    if data[:3] != b"ID3":
        return 0
    size = 0
    for b in data[6:10]:
        size = size << 7 | (b & 0x7F)
    return 10 + size + (10 if data[5] & 0x10 else 0)


def id3_timestamp_tag(pts):
    """An ID3v2.4 tag with one PRIV frame: owner, NUL, the 33-bit 90 kHz timestamp in 8 bytes
    big-endian (HLS §3.4: the first sample's presentation time)."""
    def syncsafe(n):
        return bytes([(n >> 21) & 0x7F, (n >> 14) & 0x7F, (n >> 7) & 0x7F, n & 0x7F])
    body = PTS_OWNER + b"\0" + struct.pack(">Q", pts & ((1 << 33) - 1))
    frame = b"PRIV" + syncsafe(len(body)) + b"\0\0" + body
    return b"ID3\x04\x00\x00" + syncsafe(len(frame)) + frame


def read_mp3_frames(data):
    """[(offset, length, samples, rate)] of an MP3 file's audio frames: its ID3v2 tag and the
    LAME/Xing info frame (no audio; a header of the whole file) are left out, and the walk
    stops at the first byte that is not a frame (an ID3v1 tag, the end)."""
    at = skip_id3v2(data)
    frames = []
    while True:
        f = read_mp3_frame(data, at)
        if f is None:
            return frames
        length, samples, rate, info = f
        if not (info and not frames):
            frames.append((at, length, samples, rate))
        at += length


ADTS_RATES = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350]


def read_adts_frames(data):
    """[(offset, length, 1024, rate)] of an ADTS stream's frames (one raw data block each)."""
    frames, at = [], 0
    while at + 7 <= len(data) and data[at] == 0xFF and data[at + 1] & 0xF6 == 0xF0:
        rate = ADTS_RATES[(data[at + 2] >> 2) & 15]
        length = (data[at + 3] & 3) << 11 | data[at + 4] << 3 | data[at + 5] >> 5
        if length < 7:
            break
        frames.append((at, length, 1024, rate))
        at += length
    return frames


def cut_segments(frames, segment):
    """The frames grouped into segments of about `segment` seconds at frame boundaries:
    [(first frame index, frames, first sample, samples)]."""
    if not frames:
        raise ValueError("no audio frames")
    rate, per_frame = frames[0][3], frames[0][2]
    per_segment = max(1, round(segment * rate / per_frame))
    out, first = [], 0
    for i in range(0, len(frames), per_segment):
        chunk = frames[i:i + per_segment]
        samples = sum(c[2] for c in chunk)
        out.append((i, chunk, first, samples))
        first += samples
    return out


def write_media_playlist(outdir, entries, version=3):
    """outdir/index.m3u8, VOD: entries are (uri, seconds, byterange "length@offset" or None)."""
    lines = ["#EXTM3U", f"#EXT-X-VERSION:{version}",
             # §4.3.3.1: each EXTINF, rounded to the nearest integer, is at most the target.
             f"#EXT-X-TARGETDURATION:{max(math.floor(d + 0.5) for _, d, _ in entries)}",
             "#EXT-X-MEDIA-SEQUENCE:0", "#EXT-X-PLAYLIST-TYPE:VOD"]
    for uri, d, byterange in entries:
        lines.append(f"#EXTINF:{d:.6f},")
        if byterange:
            lines.append(f"#EXT-X-BYTERANGE:{byterange}")
        lines.append(uri)
    lines.append("#EXT-X-ENDLIST")
    with open(os.path.join(outdir, "index.m3u8"), "w") as f:
        f.write("\n".join(lines) + "\n")


def write_packed(data, frames, outdir, ext, segment=SEGMENT, base_pts=0, timestamps=True):
    """Packed audio: segment files of whole frames, each opened by its timestamp tag (or, with
    timestamps=False, bare frames: what RFC 8216 §3.4 forbids, to see who minds). Writes
    outdir/segNNN.ext and index.m3u8."""
    os.makedirs(outdir, exist_ok=True)
    rate = frames[0][3]
    entries = []
    for n, (_, chunk, first, samples) in enumerate(cut_segments(frames, segment)):
        name = f"seg{n:03d}.{ext}"
        with open(os.path.join(outdir, name), "wb") as out:
            if timestamps:
                out.write(id3_timestamp_tag(base_pts + round(first * 90000 / rate)))
            out.write(data[chunk[0][0]:chunk[-1][0] + chunk[-1][1]])
        entries.append((name, samples / rate, None))
    write_media_playlist(outdir, entries)


def write_byterange_mp3(source, outdir, segment=SEGMENT):
    """No segment files: EXT-X-BYTERANGE (version 4) spans of whole frames in a copy of the
    MP3 itself, with no timestamp tag: the cheapest form a server could answer."""
    os.makedirs(outdir, exist_ok=True)
    data = open(source, "rb").read()
    with open(os.path.join(outdir, "episode.mp3"), "wb") as f:
        f.write(data)
    frames = read_mp3_frames(data)
    rate = frames[0][3]
    entries = []
    for _, chunk, _, samples in cut_segments(frames, segment):
        start, end = chunk[0][0], chunk[-1][0] + chunk[-1][1]
        entries.append(("episode.mp3", samples / rate, f"{end - start}@{start}"))
    write_media_playlist(outdir, entries, version=4)


def write_packed_mp3(source, outdir, timestamps=True):
    data = open(source, "rb").read()
    write_packed(data, read_mp3_frames(data), outdir, "mp3", timestamps=timestamps)


def write_packed_aac(source, outdir):
    """The M4A's AAC as ADTS (ffmpeg, copy), then packed like the MP3."""
    os.makedirs(outdir, exist_ok=True)
    adts = os.path.join(outdir, "all.aac")
    ffmpeg("-i", source, "-vn", "-c:a", "copy", "-f", "adts", adts)
    data = open(adts, "rb").read()
    os.remove(adts)
    write_packed(data, read_adts_frames(data), outdir, "aac")


# CODECS of each rendition's master playlist (RFC 6381 names, as Apple's HLS authoring spec
# gives them: MP3 is mp4a.40.34 whatever its container).
CODECS = {"mp3": "mp4a.40.34", "aac": "mp4a.40.2", "flac": "fLaC", "opus": "Opus"}


def write_master(outdir, codecs, bandwidth):
    """outdir/master.m3u8: one variant, index.m3u8, with its BANDWIDTH and CODECS."""
    with open(os.path.join(outdir, "master.m3u8"), "w") as f:
        f.write(f'#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH={bandwidth},CODECS="{codecs}"\nindex.m3u8\n')


RENDITIONS = {
    "ts_mp3": ("mp3", lambda src, d: make_ffmpeg_hls(src, d, "mpegts", ["-c:a", "copy"])),
    "fmp4_mp3": ("mp3", lambda src, d: make_ffmpeg_hls(src, d, "fmp4", ["-c:a", "copy"])),
    "packed_mp3": ("mp3", write_packed_mp3),
    "packed_mp3_noid3": ("mp3", lambda src, d: write_packed_mp3(src, d, timestamps=False)),
    "byterange_mp3": ("mp3", write_byterange_mp3),
    "packed_aac": ("m4a", write_packed_aac),
    "fmp4_aac": ("m4a", lambda src, d: make_ffmpeg_hls(src, d, "fmp4", ["-c:a", "copy"])),
    "fmp4_flac": ("mp3", lambda src, d: make_ffmpeg_hls(src, d, "fmp4", ["-c:a", "flac", "-strict", "-2"])),
    "fmp4_opus": ("mp3", lambda src, d: make_ffmpeg_hls(src, d, "fmp4",
                                                       ["-c:a", "libopus", "-b:a", "96k", "-strict", "-2"])),
}


def make_renditions(outdir):
    """Every rendition under outdir; the names of those ffmpeg could make (and why not, else)."""
    mp3, m4a = make_sources(outdir)
    made, failed = [], {}
    for name, (kind, make) in RENDITIONS.items():
        try:
            make(mp3 if kind == "mp3" else m4a, os.path.join(outdir, name))
            # Peak bandwidth, roughly: the codec's rate, and the container's overhead.
            codec = next(c for c in CODECS if c in name.split("_"))
            write_master(os.path.join(outdir, name), CODECS[codec],
                         {"flac": 1500000, "opus": 110000}.get(codec, 150000))
            made.append(name)
        except subprocess.CalledProcessError as e:
            failed[name] = e.stderr.decode(errors="replace")[-500:]
    return made, failed


# ---- the measurement ----

BROWSERS = (("chromium", "hlsjs"), ("chromium", "native"), ("firefox", "hlsjs"), ("firefox", "native"))


def browser_cell(r):
    if r.get("ok"):
        return f"yes {r['duration']:.2f}s, seek→{r['seeked_to']:.1f} ok"
    errors = r.get("errors") or []
    first = errors[0] if errors else {}
    why = first.get("details") or first.get("message") or first.get("source") or "?"
    dur = f" dur {r['duration']:.2f}s" if r.get("duration") else ""
    return f"NO (step {r.get('step')}: {why}){dur}"


def decode_cell(duration, landed, step):
    if not duration:
        return "NO"
    if not landed:
        return f"yes {duration:.2f}s; from {SEEK_AT}: NOTHING decoded"
    seek = "?" if landed is None else f"{landed:.2f}s left, tone step {step}"
    return f"yes {duration:.2f}s; from {SEEK_AT}: {seek}"


def measure(outdir, names, playlist="index.m3u8"):
    from harness import Httpd
    conf = ("Header set Access-Control-Allow-Origin \"*\"\n"
            "AddType video/mp2t .ts\nAddType audio/mp4 .m4s .mp4\nAddType audio/mpeg .mp3\n"
            f"Alias /hls {outdir}\n<Directory {outdir}>\n  Require all granted\n</Directory>\n")
    server = Httpd(extra_conf=conf, modules=("mime", "headers", "alias"), module=None,
                    log_level="warn")
    server.start()
    rows = {}
    try:
        for name in names:
            url = server.url(f"/hls/{name}/{playlist}")
            row = rows[name] = {"playlist": hls_clients.validate_playlist(url)}
            for browser, engine in BROWSERS:
                r = hls_clients.play_in_browser(url, browser, engine, seek=0.6, timeout=45)
                r.pop("requests", None)
                row[f"{browser}/{engine}"] = r
                print(json.dumps({"rendition": name, "client": f"{browser}/{engine}", **r}), flush=True)
            full, err = hls_clients.ffmpeg_decode(url)
            wav = os.path.join(outdir, f"{name}.ffmpeg40.wav")
            part, err40 = hls_clients.ffmpeg_decode(url, start=SEEK_AT, out_wav=wav)
            row["ffmpeg"] = {"duration": full, "from40": part, "step40": part and hls_clients.tone_step(wav),
                             "stderr": (err + err40)[-800:]}
            print(json.dumps({"rendition": name, "client": "ffmpeg", **row["ffmpeg"]}), flush=True)
            vwav, vwav40 = os.path.join(outdir, f"{name}.vlc.wav"), os.path.join(outdir, f"{name}.vlc40.wav")
            full = hls_clients.vlc_decode(url, vwav)
            stderr = hls_clients.vlc_decode.last_stderr
            part = hls_clients.vlc_decode(url, vwav40, start=SEEK_AT)
            row["vlc"] = {"duration": full, "from40": part, "step40": part and hls_clients.tone_step(vwav40),
                          "stderr": (stderr + hls_clients.vlc_decode.last_stderr)[-800:]}
            print(json.dumps({"rendition": name, "client": "vlc", **row["vlc"]}), flush=True)
        bad_log = server.unexpected_log_lines()
    finally:
        server.cleanup()
    print("\n| rendition | strict parse | " + " | ".join(f"{b} {e}" for b, e in BROWSERS) + " | ffmpeg | VLC |")
    print("|---" * (len(BROWSERS) + 4) + "|")
    for name, row in rows.items():
        p = row["playlist"]
        parse = "ok" if "error" not in p else "ERROR " + p["error"][:60]
        cells = [browser_cell(row[f"{b}/{e}"]) for b, e in BROWSERS]
        cells += [decode_cell(row[c]["duration"], row[c]["from40"], row[c]["step40"]) for c in ("ffmpeg", "vlc")]
        print(f"| {name} | {parse} | " + " | ".join(cells) + " |")
    if bad_log:
        print("httpd error log:", bad_log)
    return rows


def main(argv):
    if not argv or argv[0].startswith("-"):
        sys.exit(__doc__)
    outdir = os.path.abspath(argv[0])
    made, failed = make_renditions(outdir)
    for name, why in failed.items():
        print(f"ffmpeg could not make {name}: {why}", file=sys.stderr)
    # The httpd's children may run as www-data: the tree must be world-readable (and OUTDIR's
    # parents searchable, as /tmp is).
    for root, dirs, files in os.walk(outdir):
        os.chmod(root, 0o755)
        for f in files:
            os.chmod(os.path.join(root, f), 0o644)
    if "--measure" in argv:
        only = [a.split("=", 1)[1].split(",") for a in argv if a.startswith("--only=")]
        playlist = "master.m3u8" if "--master" in argv else "index.m3u8"
        measure(outdir, [n for n in made if not only or n in only[0]], playlist)


if __name__ == "__main__":
    main(sys.argv[1:])
