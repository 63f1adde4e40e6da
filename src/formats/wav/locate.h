// Where a span of a WAVE stream lies: sample frames, exact to the frame at both ends.
#ifndef AUDIO_STREAM_FORMATS_WAV_LOCATE_H
#define AUDIO_STREAM_FORMATS_WAV_LOCATE_H

#include <cstdint>

#include "read.h"

namespace audio_stream::wav {

// Sample frames [first, end) of the stream.
struct Frames {
    std::uint64_t first = 0;  // the frame that plays at START
    std::uint64_t end = 0;    // one past the last frame that starts before END, or the frame count
    bool to_the_end = true;   // no END, or one at or past the end of the audio
};

// Refuses (PastEnd) a START at or past the last frame.
Frames locate(const Stream& s, const Span& span);

}  // namespace audio_stream::wav

#endif
