// What the walk over an MP3's frames (mp3.cpp) finds: the cut's first frame and where the bit
// reservoir it needs lies, the frame count and frame offsets sampled for the TOC that
// xing_frame (mp3_xing.cpp) writes.
#ifndef AUDIO_STREAM_FORMATS_MP3_WALK_H
#define AUDIO_STREAM_FORMATS_MP3_WALK_H

#include <array>
#include <cstddef>
#include <cstdint>

#include "mp3_reader.h"

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
