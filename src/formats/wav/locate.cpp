#include "locate.h"

namespace audio_stream::wav {

Frames locate(const Stream& s, const Span& span)
{
    Frames f;
    const std::uint64_t frames = s.frames();
    f.first = sample_at(span.start, s.sample_rate);
    if (f.first >= frames) {
        refuse_past_end();
    }
    f.end = frames;
    if (!span.open()) {
        const std::uint64_t end = samples_before(span.end, s.sample_rate);
        if (end < frames) {
            f.end = end;
            f.to_the_end = false;
        }
    }
    return f;
}

}  // namespace audio_stream::wav
