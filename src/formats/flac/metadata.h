// Reading a native FLAC stream's metadata (RFC 9639 §8): "fLaC", the metadata blocks with
// STREAMINFO first, and where the frames start. What a cut, a clip or a layout needs before the
// frames; the SEEKTABLE's points are read only when a cut rebases them.
#ifndef AUDIO_STREAM_FORMATS_FLAC_METADATA_H
#define AUDIO_STREAM_FORMATS_FLAC_METADATA_H

#include <cstdint>
#include <vector>

#include "../toolbox.h"

namespace audio_stream {
namespace flac {

// RFC 9639 §8.1 block types.
constexpr unsigned kStreamInfo = 0;
constexpr unsigned kSeekTable = 3;
constexpr unsigned kVorbisComment = 4;
constexpr unsigned kPicture = 6;
constexpr std::uint32_t kStreamInfoBytes = 34;

struct StreamInfo {
    std::uint32_t max_block = 0;
    std::uint32_t max_frame = 0;
    std::uint32_t rate = 0;
    unsigned channels = 0;
    unsigned bits = 0;
    std::uint64_t total = 0;  // 0: unknown
};

struct Block {
    unsigned type;
    Offset offset;  // of the 4-byte block header
    std::uint32_t length;
    bool last;
};

// What the metadata tells of the stream, and where its frames start.
struct Stream {
    Byte head[4 + 4 + kStreamInfoBytes] = {};  // "fLaC", STREAMINFO's block header and body
    std::vector<Block> blocks;                 // STREAMINFO first
    Offset audio_start = 0;
    StreamInfo info;

    const Byte* stream_info() const { return head + 8; }
};

// RFC 9639 §8.5: one seek point (a placeholder has sample kPlaceholderPoint).
struct SeekPoint {
    std::uint64_t sample;   // of the target frame's first sample
    std::uint64_t offset;   // of the target frame's header, from the first frame's
    std::uint16_t samples;  // in the target frame
};

constexpr std::uint64_t kPlaceholderPoint = ~std::uint64_t{0};
constexpr std::size_t kSeekPointBytes = 18;

// The stream in `src`, an ID3v2 tag before "fLaC" stepped over. Refuses (Malformed) what is
// not FLAC, metadata past the end of the file or without STREAMINFO first, more than 1024
// blocks, block type 127, a sample rate of 0.
Stream read_stream(ByteSource& src);

// A SEEKTABLE's points as they are, or none when the block is larger than 64 KiB, is not whole
// points or cannot be read: a cut then keeps no SEEKTABLE, which players do without.
std::vector<SeekPoint> read_seek_points(ByteSource& src, const Block& b);

}  // namespace flac
}  // namespace audio_stream

#endif
