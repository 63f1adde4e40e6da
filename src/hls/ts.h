// MPEG-2 transport stream segments of MPEG audio (ISO/IEC 13818-1), for HLS (RFC 8216 §3.2):
// the one form of MP3 that Chromium's own HLS player, hls.js, ffmpeg (seeking included) and VLC
// all play (measured: BENCHMARKS.md). Each segment starts with a PAT and a PMT, then the frames
// in PES packets with their PTS; the first audio packet carries the PCR. Segments are made one
// at a time yet play as one stream: every PID's continuity counter goes on where the last
// segment's left it (PAT and PMT: one packet a segment; audio: a multiple of 16 a segment).
// Transport packets interleave 4-byte headers every 184 bytes, so a segment is built in memory
// from the frames' bytes, not served as file extents.
#ifndef AUDIO_STREAM_HLS_TS_H
#define AUDIO_STREAM_HLS_TS_H

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace audio_stream::hls {

inline constexpr std::size_t kTsPacket = 188;
// Frames a PES packet carries: each PES's last transport packet is stuffed up to 188 bytes, so
// more frames a PES waste less (ffmpeg's muxer puts about 7 in one at 128 kbit/s).
inline constexpr std::size_t kTsFramesPerPes = 8;

struct TsAudio {
    std::uint8_t stream_type = 0x03;  // 0x03 MPEG-1 audio, 0x04 MPEG-2 audio (half rates)
    std::uint32_t rate = 0;           // samples per second
    std::uint64_t frame_samples = 0;  // per frame
};

// Segment `sequence` (from 0) of the stream: `frames` the frames' bytes, one after another,
// `sizes` each frame's length (at least one), the first frame's sample `first_sample`.
std::string ts_segment(const TsAudio& audio, std::uint64_t sequence, std::uint64_t first_sample,
                       std::string_view frames, const std::vector<std::uint32_t>& sizes);

}  // namespace audio_stream::hls

#endif
