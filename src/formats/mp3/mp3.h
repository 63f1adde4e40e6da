// Time-seek cuts of MPEG-1/2/2.5 Layer III files (CBR and VBR): a fresh Xing/Info frame in
// memory carrying the remaining frame and byte counts, then the audio frames from the cut on
// as one file extent.
#ifndef AUDIO_STREAM_FORMATS_MP3_H
#define AUDIO_STREAM_FORMATS_MP3_H

#include <cstdint>
#include <optional>

#include "../../audio_layout.h"
#include "../../cut.h"
#include "../../cache/seek_index.h"

namespace audio_stream {

struct Mp3Header {
    bool lsf;                  // MPEG-2 or 2.5 (low sampling frequencies): 576 samples per frame
    bool crc;                  // a 16-bit CRC follows the header
    bool mono;
    unsigned bitrate_index;    // 1..14
    unsigned bitrate;          // kbit/s
    unsigned sample_rate;      // Hz
    unsigned size;             // bytes, header included
    unsigned samples;          // per frame
    unsigned side_info;        // bytes of side information after the header (and CRC)
};

// The Layer III frame header in the 32 bits `h` (big-endian order), or nullopt for anything
// else: no sync, a reserved version, sample rate or bitrate, free format, Layer I or II.
std::optional<Mp3Header> parse_mp3_header(std::uint32_t h);

// The cut of the MP3 file in `src` starting at time t (t >= 0, on the timeline a gapless
// player shows: the LAME/Lavc encoder delay is honoured). See mp3.cpp for the choices made. A
// stream that is not CBR is walked once for its seek index (mp3::FrameIndex, from `indexes`);
// a CBR one is found by arithmetic.
Cut cut_mp3(ByteSource& src, const Span& span, IndexSource& indexes);

// The same with an index of its own, made for this cut alone.
Cut cut_mp3(ByteSource& src, const Span& span);

// Where the audio lies (after the ID3v2 tags, before ID3v1/APE) and how long it plays: the
// Xing/Info frame count (less the LAME encoder delay and padding), else the first frame's
// bitrate over the audio bytes. Duration 0 when no frame is found.
AudioLayout layout_mp3(ByteSource& src);

}  // namespace audio_stream

#endif
