// Reading a RIFF/WAVE file: the fmt chunk (PCM or IEEE float, plain or WAVE_FORMAT_EXTENSIBLE)
// and where the data chunk's sample frames lie. What a cut or a layout needs of the file.
#ifndef AUDIO_STREAM_FORMATS_WAV_READ_H
#define AUDIO_STREAM_FORMATS_WAV_READ_H

#include <cstdint>
#include <string>

#include "../toolbox.h"

namespace audio_stream::wav {

struct Stream {
    std::string fmt;                // the fmt chunk's body, as it is (at most kMaxFmtSize bytes)
    Offset data_offset = 0;
    Offset data_length = 0;         // clipped to the file (a streamed WAVE says 0xFFFFFFFF)
    std::uint32_t sample_rate = 0;
    std::uint16_t block_align = 0;  // bytes of one sample frame, all channels

    // Whole sample frames in the data chunk (a partial block at the end is not one).
    std::uint64_t frames() const { return data_length / block_align; }
};

// Chunks before the data chunk that a walk reads. Real files have a handful (fmt, fact, LIST,
// bext, iXML, cue, PEAK, JUNK: under 20 in those of ffmpeg, SoX, Audacity and broadcast
// recorders); 8.4 million empty chunks fit in 64 MiB and cost a walk seconds.
constexpr unsigned kMaxChunks = 4096;

// The stream of the WAVE file in `src`. Refuses (Malformed) what is not RIFF/WAVE, a fmt chunk
// of another format or that cannot be cut on frame boundaries, a chunk past the end of the file,
// no data chunk within kMaxChunks. Chunks are walked by their headers only: each step advances
// at least 8 bytes, one 8-byte read.
Stream read_stream(ByteSource& src);

}  // namespace audio_stream::wav

#endif
