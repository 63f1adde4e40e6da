// Where a file's audio lies and how long it plays: what download counting needs to turn bytes
// into seconds (IAB: a download is the header bytes plus one minute of audio). Made by the
// format parsers (formats/layout.h); used by stats/ without knowing any format.
#ifndef AUDIO_STREAM_AUDIO_LAYOUT_H
#define AUDIO_STREAM_AUDIO_LAYOUT_H

#include <cstdint>
#include <optional>

#include "micros.h"
#include "representation.h"

namespace audio_stream {

struct AudioLayout {
    Offset size = 0;         // the file
    Offset audio_start = 0;  // first byte after the headers (ID3v2 tags, metadata blocks...)
    Offset audio_end = 0;    // one past the last audio byte (before an ID3v1 tag, say)
    Micros duration = 0;     // 0: unknown; what decoders play, checked against the bytes
    // The lowest average bitrate, in bits a second, a real stream of this kind has (formats'
    // layout_*, each says why): a minute of such a stream is never fewer bytes than a minute
    // at this rate, whatever its headers say. 0: none known.
    std::uint64_t floor_bitrate = 0;
};

// The bytes that make a download: the header bytes (all that is not audio: before it, and
// after it, such as an MP4 moov at the end) plus the audio bytes of 60 s at the file's average
// bitrate ((audio_end - audio_start) / duration), rounded up, but never fewer audio bytes than
// 60 s at floor_bitrate (or all of them): a header that claims a longer duration than the
// audio holds can at worst make the threshold that of a real file at the format's lowest
// bitrate. The whole file when it plays 60 s or less or its duration is unknown.
Offset download_threshold(const AudioLayout& layout);

// The bytes `bitrate` bits a second fill in `t`, rounded up (saturating).
Offset bytes_at_bitrate(std::uint64_t bitrate, Micros t);

// The time at which the audio byte at `offset` plays, at the average bitrate, clamped to
// [0, duration]; nullopt when the duration is unknown.
std::optional<Micros> time_at(const AudioLayout& layout, Offset offset);

}  // namespace audio_stream

#endif
