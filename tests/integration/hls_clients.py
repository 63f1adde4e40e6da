"""Real HLS clients for the tests: browsers (hls.js and native), hls-parser, ffmpeg and VLC.

Each helper runs one client against a playlist URL and answers plain values; none asserts,
so a test states what it expects. A missing tool is an AssertionError that names the package
(`make test` installs them all: scripts/ensure-deps test and tests/web's npm ci).

    play_in_browser(url, "chromium", "hlsjs", seek=0.6) -> dict   (tests/web/hls_play.mjs)
    validate_playlist(url) -> dict                                (tests/web/validate_playlist.mjs)
    ffmpeg_decode(url, start=None) -> (duration, stderr)
    vlc_decode(url, out_wav, start=None) -> duration (vlc_decode.last_stderr: its log)
    tone_step(wav_path) -> which 10 s step of the test tone the WAV begins in

The browsers open a 404 page of the playlist's own origin, so the playlist and segments are
same-origin fetches and the server needs no CORS header.
"""
import glob
import json
import os
import shutil
import signal
import subprocess
import tempfile
import wave

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WEB = os.path.join(REPO, "tests", "web")
NODE_TIMEOUT_SLACK = 15  # seconds hls_play.mjs gets beyond its own --timeout to print and exit


def need(command, package):
    """The path of command, or an AssertionError naming the Debian package that has it."""
    path = shutil.which(command)
    if not path:
        raise AssertionError(f"{command} is not installed (Debian package {package}; "
                             "scripts/ensure-deps test installs it)")
    return path


def need_node_modules():
    for name in ("hls.js", "hls-parser", "puppeteer-core"):
        if not os.path.isdir(os.path.join(WEB, "node_modules", name)):
            raise AssertionError(f"tests/web/node_modules/{name} is missing "
                                 "(make test runs npm ci there; or: cd tests/web && npm ci)")
    return need("node", "nodejs")


def run_bounded(args, timeout, **kwargs):
    """subprocess.run in its own session; on timeout the whole group is killed and the
    CompletedProcess has returncode None (the output so far is kept)."""
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, **kwargs)
    try:
        out, err = proc.communicate(timeout=timeout)
        return subprocess.CompletedProcess(args, proc.returncode, out, err)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        return subprocess.CompletedProcess(args, None, out, err)


def last_json(stdout):
    """The last line of stdout that is a JSON object, or None."""
    for line in reversed(stdout.splitlines()):
        if line.startswith("{"):
            try:
                return json.loads(line)
            except ValueError:
                continue
    return None


def play_in_browser(url, browser, engine, seek=0.6, timeout=60):
    """Headless `browser` ("chromium" or "firefox") plays the playlist with `engine` ("hlsjs"
    or "native"), seeks to seek × duration and plays on. The summary hls_play.mjs prints:
    ok, duration, played_to, seek_target, seeked_to, played_after_seek, errors (fatal),
    warnings (hls.js's non-fatal errors), step (where it stopped), can_play_type, requests
    ("status url" each), browser_version; plus exit_code and, when it printed nothing, stderr."""
    node = need_node_modules()
    need({"chromium": "chromium", "firefox": "firefox-esr"}[browser],
         {"chromium": "chromium", "firefox": "firefox-esr"}[browser])
    p = run_bounded([node, os.path.join(WEB, "hls_play.mjs"), "--browser", browser, "--engine", engine,
                     "--url", url, "--seek", str(seek), "--timeout", str(timeout)],
                    timeout + NODE_TIMEOUT_SLACK, cwd=WEB)
    result = last_json(p.stdout) or {"ok": False, "errors": [{"source": "hls_play.mjs",
                                                               "message": "no JSON printed"}],
                                     "stderr": p.stderr[-4000:]}
    result["exit_code"] = p.returncode
    return result


def validate_playlist(url, timeout=60):
    """hls-parser's strict parse of the playlist at url (or a file path): the summary
    validate_playlist.mjs prints (type, version, target_duration, segments [{uri, resolved,
    duration}], map_uri, total_duration, content_type, ... or variants for a master), or
    {"error": the parser's message}."""
    node = need_node_modules()
    p = run_bounded([node, os.path.join(WEB, "validate_playlist.mjs"), url], timeout, cwd=WEB)
    return last_json(p.stdout) or {"error": f"validate_playlist.mjs printed nothing: {p.stderr[-2000:]}"}


def wav_duration(path):
    with wave.open(path, "rb") as w:
        return w.getnframes() / w.getframerate()


def ffmpeg_decode(url, start=None, out_wav=None, timeout=120):
    """ffmpeg's HLS demuxer decodes the playlist (from `start` seconds with an input -ss, as a
    player seeks) to 16-bit WAV: (decoded duration in seconds, ffmpeg's stderr at warning
    level). The duration is None when ffmpeg failed or wrote nothing. out_wav keeps the WAV."""
    ffmpeg = need("ffmpeg", "ffmpeg")
    with tempfile.TemporaryDirectory(prefix="hls_ffmpeg_") as tmp:
        out = out_wav or os.path.join(tmp, "out.wav")
        args = [ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "warning", "-y"]
        if start is not None:
            args += ["-ss", str(start)]
        args += ["-i", url, "-vn", "-c:a", "pcm_s16le", "-f", "wav", out]
        p = run_bounded(args, timeout)
        if p.returncode != 0 or not os.path.exists(out) or os.path.getsize(out) <= 44:
            return None, (p.stderr or "") + ("" if p.returncode is not None else "\n(timed out)")
        return wav_duration(out), p.stderr


def vlc_decode(url, out_wav, start=None, timeout=120):
    """VLC (cvlc, its adaptive module for HLS) decodes the playlist, from `start` seconds if
    given, and transcodes to 16-bit WAV at out_wav: the WAV's duration in seconds, or None
    when VLC wrote no audio. VLC refuses to run as root, so it runs as nobody (runuser) when
    we are root, with a scratch HOME and output directory that nobody can write."""
    cvlc = need("cvlc", "vlc-bin")
    if not glob.glob("/usr/lib/*/vlc/plugins/demux/libadaptive_plugin.so"):
        raise AssertionError("VLC's adaptive (HLS) demuxer is missing (Debian package vlc-plugin-base)")
    with tempfile.TemporaryDirectory(prefix="hls_vlc_") as tmp:
        os.chmod(tmp, 0o777)
        out = os.path.join(tmp, "out.wav")
        sout = ("#transcode{acodec=s16l,channels=2,samplerate=44100}"
                f":std{{access=file,mux=wav,dst={out}}}")
        args = [cvlc, "-I", "dummy", "--no-video", "--no-sout-video", "--play-and-exit"]
        if start is not None:
            args += [f"--start-time={start}"]
        args += ["--sout", sout, url, "vlc://quit"]
        if os.geteuid() == 0:
            args = [need("runuser", "util-linux"), "-u", "nobody", "--"] + args
        env = dict(os.environ, HOME=tmp, XDG_CONFIG_HOME=tmp, XDG_CACHE_HOME=tmp, XDG_DATA_HOME=tmp)
        p = run_bounded(args, timeout, env=env, cwd=tmp)
        # Its log, for a test's failure message (VLC's exit status is 0 even when nothing played).
        vlc_decode.last_stderr = (p.stderr or "")[-2000:] + ("" if p.returncode is not None else "\n(timed out)")
        if not os.path.exists(out) or os.path.getsize(out) <= 44:
            return None
        shutil.copyfile(out, out_wav)
    return wav_duration(out_wav)


vlc_decode.last_stderr = ""  # the last run's stderr tail


def tone_step(wav_path, seconds=0.25):
    """The test tone (test_chromium.make_sample: 220 Hz × 2^(k/6) during [10k, 10k+10) s)
    that the WAV begins with: k from the zero-crossing rate of `seconds` of its left channel,
    from 50 ms after the first loud sample (a decoder's priming and a fade-in are quiet, and
    their few crossings are not the tone's), or None when it has no loud stretch that long.
    Tells where a seek landed without trusting the decoder's timestamps."""
    import math
    with wave.open(wav_path, "rb") as w:
        rate, channels = w.getframerate(), w.getnchannels()
        frames = w.readframes(int(rate * 10))
    samples = memoryview(frames).cast("h")[::channels]
    onset = next((i for i, v in enumerate(samples) if abs(v) > 1000), None)
    if onset is None:
        return None
    window = samples[onset + rate // 20:onset + rate // 20 + int(rate * seconds)]
    if len(window) < rate * seconds:
        return None
    crossings = sum(1 for a, b in zip(window, window[1:]) if (a < 0) != (b < 0))
    frequency = crossings / 2 / seconds
    return round(6 * math.log2(max(frequency, 1) / 220))
