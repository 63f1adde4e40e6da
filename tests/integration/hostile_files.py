"""Hostile files: well within every cap the module had before its request budget, and each built
to make a parser's walk cost as much as its input allows. Made from bytes (no encoder can write
them), from a real file where a family needs one. Used by test_hostile.py and bench/hostile.

Families (the request each one costs without a budget is in the bench's table):
  ogg_empty_pages   a real Vorbis file with empty pages (no packets, no granule position)
                    inserted after its first audio page: a cut from before them walks them all
  wav_empty_chunks  a WAV whose `data` chunk comes after a run of empty chunks
  flac_seektables   a real FLAC with a thousand full SEEKTABLE blocks before its audio
  mp3_then_nothing  an MP3's first frames, then a sparse gigabyte of zeros (no frame to find)
  mp4_many_chunks   an AAC M4A (moov last) whose track is copied 7 times, each with 2^21
                    one-sample chunks (stts, stsc, stsz and stco made for it)
  mp4_udta_boxes    an AAC M4A (moov last) with 4,090 unknown boxes of 16 KiB less a byte in udta
  ogg_tiny_pages    a valid Opus file of one 20 ms packet a page (ffmpeg's -page_duration): a cut
                    from its start holds as many pages as Ogg's cap allows
"""
import struct
import subprocess


def ogg_crc(data):
    """The Ogg page CRC-32 (RFC 3533: polynomial 0x04c11db7, not reflected, initial 0)."""
    crc = 0
    for byte in data:
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) if crc & 0x80000000 else crc << 1
            crc &= 0xFFFFFFFF
    return crc


def ogg_pages(data):
    """(offset, length, serial) of each page of an Ogg file."""
    pages, at = [], 0
    while at + 27 <= len(data) and data[at:at + 4] == b"OggS":
        segments = data[at + 26]
        length = 27 + segments + sum(data[at + 27:at + 27 + segments])
        pages.append((at, length, struct.unpack_from("<I", data, at + 14)[0]))
        at += length
    return pages


def empty_ogg_page(serial, sequence):
    """A page of no packets and no granule position (-1), with its CRC."""
    header = b"OggS" + bytes([0, 0]) + struct.pack("<qII", -1, serial, sequence) + b"\0\0\0\0" + b"\0"
    return header[:22] + struct.pack("<I", ogg_crc(header)) + header[26:]


def ogg_empty_pages(real_ogg, count, after=3):
    """real_ogg with `count` empty pages after its first `after` pages (its headers and first
    audio page: oggenc writes two header pages)."""
    pages = ogg_pages(real_ogg)
    at = pages[after][0] if after < len(pages) else len(real_ogg)
    filler = empty_ogg_page(pages[0][2], after)  # one page many times: no reader checks the sequence
    return real_ogg[:at] + filler * count + real_ogg[at:]


def wav_empty_chunks(count, seconds=1, rate=44100):
    """A 16-bit stereo PCM WAV: `fmt `, `count` empty `junk` chunks, then `data` (a quiet ramp)."""
    fmt = struct.pack("<HHIIHH", 1, 2, rate, rate * 4, 4, 16)
    audio = bytes(range(256)) * (rate * 4 * seconds // 256)
    body = (b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"junk\0\0\0\0" * count +
            b"data" + struct.pack("<I", len(audio)) + audio)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def flac_seektables(real_flac, count=1023, points=3640):
    """real_flac with `count` SEEKTABLE blocks of `points` placeholder points each (65,520 bytes,
    the most a 24-bit block length allows in whole points) right after STREAMINFO."""
    assert real_flac[:4] == b"fLaC" and real_flac[4] & 0x7F == 0
    streaminfo_end = 4 + 4 + int.from_bytes(real_flac[5:8], "big")
    if real_flac[4] & 0x80:  # STREAMINFO was the last block: the new ones come after it
        raise ValueError("a FLAC of STREAMINFO alone")
    table = (b"\xff" * 8 + b"\0" * 10) * points
    block = bytes([3]) + len(table).to_bytes(3, "big") + table
    return real_flac[:streaminfo_end] + block * count + real_flac[streaminfo_end:]


def mp3_then_nothing(real_mp3, path, gap=1 << 30, keep=4096):
    """The first `keep` bytes of real_mp3 (its Info frame and the first frames), then `gap` bytes
    of zeros as a hole (no disk used), written to path."""
    with open(path, "wb") as f:
        f.write(real_mp3[:keep])
        f.truncate(keep + gap)


def mp4_boxes(data, start, end):
    """(type, offset, size, header bytes) of the boxes in data[start:end]."""
    out = []
    while start + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, start)
        header = 8
        if size == 1:
            size, header = struct.unpack_from(">Q", data, start + 8)[0], 16
        elif size == 0:
            size = end - start
        out.append((kind.decode("latin-1"), start, size, header))
        start += size
    return out


def mp4_box(kind, payload):
    return struct.pack(">I4s", 8 + len(payload), kind.encode()) + payload


def mp4_child(data, box, kind):
    _, offset, size, header = box
    return next(b for b in mp4_boxes(data, offset + header, offset + size) if b[0] == kind)


def mp4_rebuilt(data, box, kids):
    """box with its children replaced by `kids` (bytes), its 32-bit size set."""
    _, offset, _, header = box
    return mp4_box(box[0], data[offset + 8:offset + header] + kids)


def mp4_with_moov(real_m4a, moov_kids):
    """real_m4a (moov last) with its moov's children replaced."""
    moov = next(b for b in mp4_boxes(real_m4a, 0, len(real_m4a)) if b[0] == "moov")
    assert moov[1] + moov[2] == len(real_m4a), "the moov last: rebuilding it moves no sample"
    return real_m4a[:moov[1]] + mp4_rebuilt(real_m4a, moov, moov_kids)


def mp4_many_chunks(real_m4a, tracks=7, chunks=1 << 21):
    moov = next(b for b in mp4_boxes(real_m4a, 0, len(real_m4a)) if b[0] == "moov")
    mdat = next(b for b in mp4_boxes(real_m4a, 0, len(real_m4a)) if b[0] == "mdat")
    trak = mp4_child(real_m4a, moov, "trak")
    mdia = mp4_child(real_m4a, trak, "mdia")
    minf = mp4_child(real_m4a, mdia, "minf")
    stbl = mp4_child(real_m4a, minf, "stbl")
    stsd = mp4_child(real_m4a, stbl, "stsd")
    full = lambda kind, payload: mp4_box(kind, b"\0\0\0\0" + payload)  # noqa: E731
    tables = (real_m4a[stsd[1]:stsd[1] + stsd[2]] +
              full("stts", struct.pack(">III", 1, chunks, 1024)) +
              full("stsc", struct.pack(">IIII", 1, 1, 1, 1)) +
              full("stsz", struct.pack(">II", 1, chunks)) +
              full("stco", struct.pack(">I", chunks) + struct.pack(">I", mdat[1] + mdat[3]) * chunks))

    def rebuilt(box, replace):
        kids = b""
        for kid in mp4_boxes(real_m4a, box[1] + box[3], box[1] + box[2]):
            kids += replace(kid) if replace(kid) is not None else real_m4a[kid[1]:kid[1] + kid[2]]
        return mp4_rebuilt(real_m4a, box, kids)

    new_stbl = mp4_box("stbl", tables)
    new_minf = rebuilt(minf, lambda b: new_stbl if b[0] == "stbl" else None)
    new_mdia = rebuilt(mdia, lambda b: new_minf if b[0] == "minf" else None)
    new_trak = rebuilt(trak, lambda b: new_mdia if b[0] == "mdia" else None)
    tkhd_id = 8 + 4 + 8  # in the trak: its header, then tkhd's header, version and flags, two times
    copies = b""
    for i in range(tracks):
        copy = bytearray(new_trak)
        copy[tkhd_id:tkhd_id + 4] = struct.pack(">I", i + 1)
        copies += bytes(copy)
    others = b"".join(real_m4a[b[1]:b[1] + b[2]] for b in mp4_boxes(real_m4a, moov[1] + moov[3], moov[1] + moov[2])
                      if b[0] != "trak")
    return mp4_with_moov(real_m4a, others + copies)


def mp4_udta_boxes(real_m4a, count=4090, size=16383):
    moov = next(b for b in mp4_boxes(real_m4a, 0, len(real_m4a)) if b[0] == "moov")
    kids = b"".join(real_m4a[b[1]:b[1] + b[2]] for b in mp4_boxes(real_m4a, moov[1] + moov[3], moov[1] + moov[2])
                    if b[0] != "udta")
    udta = mp4_box("udta", b"".join(mp4_box("zzzz", bytes([97 + i % 26]) * (size - 8)) for i in range(count)))
    return mp4_with_moov(real_m4a, kids + udta)


def ogg_tiny_pages(path, pages=260000):
    """An Opus file of `pages` pages of one 20 ms packet each (6 kbps), written to path."""
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "sine=f=440:r=48000", "-t",
                    str(pages // 50), "-c:a", "libopus", "-b:a", "6k", "-page_duration", "20000", path],
                   check=True, timeout=600)


def flac_many_frames(path, seconds=6800, frame=576):
    """A silent mono FLAC of 576-sample frames (520,833 of them in 6,800 s, near the seek index's
    cap of 2^19; a 4.8-hour file of 1152-sample frames has about as many), written to path."""
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "anullsrc=r=44100:cl=mono", "-t", str(seconds),
                    "-c:a", "flac", "-frame_size", str(frame), path], check=True, timeout=600)
