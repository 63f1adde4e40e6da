// Where a span of a FLAC stream lies in its frames (RFC 9639 §9). Frames cannot be cut inside,
// so a cut starts at the frame holding START's sample and a clip ends with the frame holding
// the last sample before END; STREAMINFO's total samples (§8.2) then tells where the audio
// stops inside that frame.
#ifndef AUDIO_STREAM_FORMATS_FLAC_LOCATE_H
#define AUDIO_STREAM_FORMATS_FLAC_LOCATE_H

#include <cstddef>
#include <cstdint>

#include "index.h"

namespace audio_stream {
namespace flac {

// Frames [first, last] of the index, samples counted from the stream's first sample.
struct Clip {
    std::size_t first = 0;      // the frame holding sample_at(START)
    std::size_t last = 0;       // the frame holding sample end - 1, or the stream's last frame
    std::uint64_t skipped = 0;  // samples before the first frame's
    std::uint64_t end = 0;      // samples_before(END) when a clip; 0 when to_the_end
    std::uint64_t total = 0;    // STREAMINFO's total samples for the cut (0: unknown)
    bool to_the_end = true;     // no END, or one at or past the end of the audio
};

// The end of the audio, in samples from the stream's first: STREAMINFO's total, or what the
// frames hold when that is unknown or more (a truncated file).
std::uint64_t audio_samples(const StreamInfo& info, const FrameIndex& index);

// The frames of `span` in a non-empty index. Refuses (PastEnd) a START at or past the end of
// the audio (audio_samples). An END at or past it is no END: the cut from START. A clip's
// total is end - skipped, which the frames through `last` may exceed by up to a frame.
Clip locate(const StreamInfo& info, const FrameIndex& index, const Span& span);

}  // namespace flac
}  // namespace audio_stream

#endif
