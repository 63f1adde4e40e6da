// What the walk over an MP3's frames (mp3.cpp) finds: the cut's first frame and where the bit
// reservoir it needs lies, the frame count and frame offsets sampled for the TOC that
// xing_frame (mp3_xing.cpp) writes.
#ifndef AUDIO_STREAM_FORMATS_MP3_WALK_H
#define AUDIO_STREAM_FORMATS_MP3_WALK_H

#include <array>
#include <cstddef>
#include <cstdint>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "reader.h"
#include "../../cache/seek_index.h"

namespace audio_stream {
namespace mp3 {

inline constexpr std::size_t kTocPoints = 256;  // frame offsets kept to write the TOC
// The reservoir (at most 511 bytes) is looked for in this many frames before the cut's first.
inline constexpr std::size_t kReservoirFrames = 24;

// File bytes: where part of the reservoir lies.
struct Piece {
    Offset offset = 0;
    std::uint32_t length = 0;
};

// Offsets of frames first, first + stride, ... in a fixed array; the stride doubles when it
// fills, so the memory is constant for any number of frames.
class OffsetSampler {
public:
    void add(std::uint64_t rel, Offset offset)
    {
        if (rel % stride_ != 0) {
            return;
        }
        if (n_ == points_.size()) {
            for (std::size_t i = 0; i < n_ / 2; ++i) {
                points_[i] = points_[2 * i];
            }
            n_ /= 2;
            stride_ *= 2;
            if (rel % stride_ != 0) {
                return;
            }
        }
        points_[n_++] = offset;
    }
    // The offset of frame `rel`, interpolated between the kept points.
    Offset at(std::uint64_t rel) const
    {
        const std::uint64_t i = rel / stride_;
        if (n_ == 0) {
            return 0;
        }
        if (i + 1 >= n_) {
            return points_[n_ - 1];
        }
        return points_[i] + mul_div(points_[i + 1] - points_[i], rel % stride_, stride_);
    }

private:
    std::array<Offset, kTocPoints> points_{};
    std::size_t n_ = 0;
    std::uint64_t stride_ = 1;
};

// What a walk records of a frame.
struct FrameInfo {
    Offset offset;
    std::uint32_t main_data;        // bytes of main data this frame carries, at its end
    std::uint16_t main_data_begin;  // bytes its own main data starts before its header
    std::uint16_t size;
    std::uint8_t bitrate_index;
};

// Every frame of a stream that is not CBR (whose frames are found by arithmetic), found once by
// walking the whole stream and kept as the file's seek index, so that a cut at any t is made
// without reading the file again: 8 bytes a frame (1.1 MiB an hour at 44.1 kHz). Offsets are
// 32 bits from the first audio frame, so a stream longer than 4 GiB or of more than
// kMaxIndexFrames frames (about 30 hours at 44.1 kHz, 20 at 22.05 kHz) is not indexed, and
// such a file is not cut (500).
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

struct Walk {
    bool reached = false;       // frame k was found
    std::uint64_t first = 0;    // W: the first frame of the cut, decoded whole
    Offset first_offset = 0;
    std::uint64_t count = 0;    // frames in the stream
    Offset audio_end = 0;       // end of the last whole frame
    bool constant = true;       // every frame from j on has the same bitrate
    std::uint8_t bitrate_index = 0;
    OffsetSampler toc;
    // The main data of frame W that lies before it (main_data_begin bytes): file pieces, the
    // last one first, and the bytes of it that lie before the frames walked (missing).
    std::uint32_t reservoir_bytes = 0;
    std::array<Piece, kReservoirFrames> reservoir{};
    std::size_t reservoir_pieces = 0;
    std::uint32_t reservoir_missing = 0;
};

}  // namespace mp3
}  // namespace audio_stream

#endif
