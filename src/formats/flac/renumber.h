// The frames of a FLAC cut or clip (RFC 9639 §9), written from the seek index without reading
// their audio: copied as they are when the cut starts at the stream's frame 0, else renumbered
// from 0 (§9.1.5), since decoders time a stream from its first frame's number.
#ifndef AUDIO_STREAM_FORMATS_FLAC_RENUMBER_H
#define AUDIO_STREAM_FORMATS_FLAC_RENUMBER_H

#include <cstddef>
#include <optional>
#include <utility>
#include <vector>

#include "locate.h"

namespace audio_stream {
namespace flac {

// Every frame a cut renumbers costs two extents (~100 bytes): this bounds a cut's memory. At
// 4096 samples a frame, 2^18 frames are about 6.8 hours of 44.1 kHz audio (at 1152, 1.9 hours).
// A clip counts only its own frames. Past it: OverBudget (a cost, as the request's budget is).
constexpr std::size_t kMaxCutFrames = std::size_t{1} << 18;

struct CutFrames {
    Extents extents;
    bool renumbered = false;  // else copied as they are, from the stream's frame 0
    // (file offset, offset in the cut's audio) of each tracked offset where a kept frame starts,
    // in file order.
    std::vector<std::pair<Offset, Offset>> moves;

    // Where the frame that starts at `file_offset` is in the cut's audio; nothing when no kept
    // frame starts there or the offset was not tracked.
    std::optional<Offset> moved(Offset file_offset) const;
};

// Frames clip.first through clip.last of the index, in a file of `file_size` bytes. Renumbered,
// each frame's header is rewritten in memory (CRC-8 recomputed) with the previous frame's CRC-16,
// its body is a file extent, and its own CRC-16 follows from the old one (renumbered_crc16). A
// cut to the end keeps the bytes that trail the last frame (an ID3v1 tag); a clip ends with its
// last frame. `tracked` (sorted file offsets: the SEEKTABLE's targets) get their moves. Refuses
// (Malformed) more than kMaxCutFrames frames to renumber, or a number that no longer codes.
CutFrames cut_frames(const FrameIndex& index, const Clip& clip, Offset file_size, const std::vector<Offset>& tracked);

}  // namespace flac
}  // namespace audio_stream

#endif
