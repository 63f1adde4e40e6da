// HLS media segments of a track: the few container bytes in memory, then the packets' bytes as
// file extents (RFC 8216 §3). Served, ranged and validated like any representation.
#ifndef AUDIO_STREAM_HLS_SEGMENT_H
#define AUDIO_STREAM_HLS_SEGMENT_H

#include <cstdint>
#include <string>

#include "../audio_track.h"
#include "../representation.h"

namespace audio_stream::hls {

// The 90 kHz MPEG-2 timestamp of sample `sample` at `rate`, in 33 bits (RFC 8216 §3.4).
std::uint64_t timestamp_90k(std::uint64_t sample, std::uint32_t rate);

// The ID3v2.4 tag a packed-audio segment starts with: one PRIV frame, owner
// "com.apple.streaming.transportStreamTimestamp", the timestamp of its first sample as 8 bytes,
// big-endian, upper 31 bits zero (RFC 8216 §3.4).
std::string timestamp_tag(std::uint64_t timestamp);

// A packed-audio segment whose first packet plays at sample `first_sample`: the tag, then the
// packets of `run`.
Representation packed_segment(std::uint64_t first_sample, std::uint32_t rate, const PacketRun& run);

}  // namespace audio_stream::hls

#endif
