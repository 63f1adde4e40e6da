// The caps the MP4 reader holds a file to: what one cut may read and hold, whatever the file
// claims. Past any of them a file is refused as Malformed.
#ifndef AUDIO_STREAM_FORMATS_MP4_CAPS_H
#define AUDIO_STREAM_FORMATS_MP4_CAPS_H

#include <cstddef>
#include <cstdint>

#include "../toolbox.h"

namespace audio_stream::mp4 {

constexpr Offset kMaxMoov = Offset{64} << 20;
constexpr int kMaxTracks = 16;
constexpr int kMaxTopBoxes = 1024;
constexpr int kMaxMoovChildren = 1024;
constexpr std::uint64_t kMaxChunks = std::uint64_t{1} << 21;  // a track's
constexpr std::uint64_t kMaxChapters = 1024;                 // samples of a chapter track
constexpr Offset kMaxChapterSample = 4096;                   // bytes of one chapter title
// ctts and sbgp boxes in one stbl (a file has one ctts and a sample-to-group box or two).
constexpr std::size_t kMaxSampleGroups = 16;

}  // namespace audio_stream::mp4

#endif
