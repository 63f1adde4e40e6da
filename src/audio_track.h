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

enum class AudioCodec : unsigned { None = 0, Mp3 = 1, Mp4 = 2, Flac = 3, Opus = 4 };

struct AudioTrack {
    Cut::Status status = Cut::Status::Malformed;  // Ok, Malformed, Unsupported or OverBudget
    std::string detail;                           // for the error log when not Ok
    AudioCodec codec = AudioCodec::None;
    std::uint32_t rate = 0;            // ticks per second: the timeline's unit (MP4: the media timescale)
    std::uint32_t sample_rate = 0;
    std::uint16_t channels = 0;
    std::uint16_t bits = 16;           // per sample, for a sample entry
    std::uint64_t packet_samples = 0;  // ticks every packet plays but the last
    std::uint64_t packets = 0;
    std::uint64_t total = 0;           // ticks of the whole track: the last packet may be shorter
    std::uint64_t audio_bytes = 0;     // of all packets: the average bitrate's numerator
    std::uint32_t peak_bitrate = 0;    // bit/s of the largest packet (0: unknown, the average)
    std::string codecs;                // RFC 6381, for a master playlist
    // What a player needs to set the decoder up: MP3 nothing; FLAC its metadata blocks for dfLa
    // (STREAMINFO, marked last); MP4 its sample entry box as the file has it; Opus its OpusHead.
    std::string config;

    std::uint64_t samples() const { return total; }
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
