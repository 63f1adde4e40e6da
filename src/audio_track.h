// A file's audio as a sequence of coded packets (MP3 frames, AAC access units, FLAC frames,
// Opus packets) of one duration each: what HLS segments are cut from. The formats (formats/)
// read it, hls/ turns it into playlists and segments. No bytes of the file are held: a run of
// packets is file extents.
#ifndef AUDIO_STREAM_AUDIO_TRACK_H
#define AUDIO_STREAM_AUDIO_TRACK_H

#include <cstdint>
#include <string>
#include <vector>

#include "cut.h"
#include "representation.h"

namespace audio_stream {

enum class AudioCodec : unsigned { None = 0, Mp3 = 1, Aac = 2, Flac = 3, Opus = 4 };

struct AudioTrack {
    Cut::Status status = Cut::Status::Malformed;  // Ok, Malformed, Unsupported or OverBudget
    std::string detail;                           // for the error log when not Ok
    AudioCodec codec = AudioCodec::None;
    std::uint32_t rate = 0;            // samples per second: the timeline's unit
    std::uint16_t channels = 0;
    std::uint64_t packet_samples = 0;  // every packet's, the last one's included
    std::uint64_t packets = 0;
    std::uint64_t audio_bytes = 0;     // of all packets: the average bitrate's numerator
    std::uint32_t peak_bitrate = 0;    // bit/s of the largest packet (0: unknown, the average)
    std::string config;                // the codec's setup a player needs (MP3: none)

    std::uint64_t samples() const { return packets * packet_samples; }
    // bit/s over the whole track (0 when it has no audio)
    std::uint64_t average_bitrate() const
    {
        return samples() == 0 ? 0 : audio_bytes * 8 * rate / samples();
    }
};

// Packets [first, first + count) of a track: their bytes in the file and each one's size.
struct PacketRun {
    Cut::Status status = Cut::Status::Malformed;
    std::string detail;
    Extents data;                      // file extents, in order
    std::vector<std::uint32_t> sizes;  // one per packet, summing to the data's length
};

}  // namespace audio_stream

#endif
