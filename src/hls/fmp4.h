// Fragmented MP4 (ISO/IEC 14496-12 §8.8, CMAF ISO/IEC 23000-19) for HLS (RFC 8216 §3.3): the
// init segment a playlist's EXT-X-MAP names, and the header of each media segment, moof and
// the mdat header, after which the caller serves the samples' bytes straight from the file.
// One audio track, ID 1, per stream. Pure: bytes in memory, no file access.
#ifndef AUDIO_STREAM_HLS_FMP4_H
#define AUDIO_STREAM_HLS_FMP4_H

#include <cstdint>
#include <string>
#include <vector>

namespace audio_stream::hls {

struct TrackConfig {
    std::uint32_t timescale = 0;  // of the media: the sample rate (48000 for Opus)
    // What the sample entry says too, for the playlist's CHANNELS and the caller's checks: the
    // init segment takes them from sample_entry only.
    std::uint16_t channels = 0;
    std::uint32_t sample_rate = 0;
    std::string sample_entry;     // one whole sample entry box, from a builder below
    std::uint64_t duration = 0;   // in timescale units, for mvhd and mdhd; 0: unknown
};

// ftyp + moov: the track's headers with empty sample tables, and mvex saying that its samples
// come in movie fragments.
std::string init_segment(const TrackConfig& track);

struct Sample {
    std::uint32_t size;      // bytes
    std::uint32_t duration;  // in timescale units
};

// moof (sequence number, the decode time of the first sample in timescale units, one trun
// entry per sample) + the mdat header of a payload of the samples' sizes summed. The samples'
// bytes, in order, follow it; the trun's data offset points at the first of them.
std::string fragment_header(std::uint32_t sequence, std::uint64_t decode_time, const std::vector<Sample>& samples);

// Sample entries, each one whole box for TrackConfig::sample_entry.

// 'fLaC' + 'dfLa' ("Encapsulation of FLAC in ISO-BMFF"): `metadata_blocks` are FLAC metadata
// blocks, headers included, STREAMINFO first (RFC 9639 §8); the last-block flags are set here.
// The samples are whole FLAC frames.
std::string flac_sample_entry(std::uint16_t channels, std::uint32_t sample_rate, std::uint16_t bits,
                              const std::string& metadata_blocks);

// 'Opus' + 'dOps' ("Encapsulation of Opus in ISO Base Media File Format"), from the OpusHead
// fields (RFC 7845 §5.1); `mapping_table` is what follows the family byte there (stream count,
// coupled count, one byte per channel), empty for family 0. The samples are Opus packets.
std::string opus_sample_entry(std::uint16_t channels, std::uint16_t pre_skip, std::uint32_t input_rate,
                              std::int16_t output_gain, std::uint8_t mapping_family,
                              const std::string& mapping_table);

}  // namespace audio_stream::hls

#endif
