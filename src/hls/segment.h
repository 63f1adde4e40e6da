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

// The sample entry of the track's codec (fmp4.h), from its setup (AudioTrack::config).
// Malformed (a Refusal) when the setup does not make one; nothing for a codec with no entry.
std::string sample_entry_of(const AudioTrack& track);

// The init segment of a fragmented-MP4 track: what EXT-X-MAP names.
std::string init_of(const AudioTrack& track);

// A fragmented-MP4 media segment of packets [first, first + run's count): moof (sequence
// number `sequence`, the first packet's decode time, each packet's size and duration: the
// track's last packet is its shorter one) and the mdat header, then the packets of `run`.
Representation fmp4_segment(const AudioTrack& track, std::uint64_t first, std::uint32_t sequence,
                            const PacketRun& run);

}  // namespace audio_stream::hls

#endif
