"""Hostile files: well within every cap the module had before its request budget, and each built
to make a parser's walk cost as much as its input allows. Made from bytes (no encoder can write
them), from a real file where a family needs one. Used by test_hostile.py and bench/hostile.

Families (the request each one costs without a budget is in the bench's table):
  ogg_empty_pages   a real Vorbis file with empty pages (no packets, no granule position)
                    inserted after its first audio page: a cut from before them walks them all
  wav_empty_chunks  a WAV whose `data` chunk comes after a run of empty chunks
  flac_seektables   a real FLAC with a thousand full SEEKTABLE blocks before its audio
  mp3_then_nothing  an MP3's first frames, then a sparse gigabyte of zeros (no frame to find)
"""
import struct


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
