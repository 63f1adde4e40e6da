// The seek index of an MP3 stream that is not CBR (whose frames are found by arithmetic): every
// frame, found once by walking the whole stream and kept (cache/seek_index.h), so that a cut or
// clip at any span is made without reading the file again. The read layer of the MP3 cutter.
#ifndef AUDIO_STREAM_FORMATS_MP3_INDEX_H
#define AUDIO_STREAM_FORMATS_MP3_INDEX_H

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "frame.h"
#include "../formats.h"

namespace audio_stream {
namespace mp3 {

// 8 bytes a frame (1.1 MiB an hour at 44.1 kHz). Offsets are 32 bits from the first audio frame,
// so a stream longer than 4 GiB or of more than kMaxIndexFrames frames (about 30 hours at
// 44.1 kHz, 20 at 22.05 kHz) is not indexed, and such a file is not cut (500).
inline constexpr std::size_t kMaxIndexFrames = std::size_t{1} << 22;

struct FrameIndex final : SeekIndex {
    struct Entry {
        std::uint32_t offset;           // from base
        std::uint16_t packed;           // size (11 bits), CRC present (1), bitrate index (4)
        std::uint16_t main_data_begin;
    };
    std::string error;           // why the stream could not be indexed (then no frames)
    Offset base = 0;             // the first audio frame's offset
    Offset audio_end = 0;        // the end of the last whole frame
    std::uint8_t side_info = 0;  // bytes of side information: the same in every frame of a stream
    std::vector<Entry> frames;

    FrameInfo at(std::size_t i) const
    {
        const Entry& e = frames[i];
        const unsigned size = e.packed & 0x7FF;
        const unsigned crc = (e.packed >> 11 & 1) ? 2 : 0;
        return FrameInfo{base + e.offset, size - 4 - crc - side_info, e.main_data_begin,
                         static_cast<std::uint16_t>(size), static_cast<std::uint8_t>(e.packed >> 12)};
    }
    std::size_t footprint() const override { return sizeof *this + error.size() + frames.capacity() * sizeof(Entry); }

    // Little-endian fields. parse() takes back only frames in order, each inside the file, no
    // smaller than its header and side information, with a valid bitrate index: else null.
    std::string payload() const override;
    static std::shared_ptr<const FrameIndex> parse(std::string_view payload, Offset file_size);
};

// The index of the frames of stream `ref` from `audio` (the first audio frame) to `end`; error
// set (and no frames) when it is too long or the file cannot be read.
FrameIndex build_index(Reader& r, Offset audio, Offset end, std::uint32_t ref);

}  // namespace mp3
}  // namespace audio_stream

#endif
