#include "locate.h"

#include <algorithm>

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
        // END at or before START (parse_span refuses it, but nothing here relies on that): START's
        // frame alone, as MP3 and FLAC clips keep, so that (end - first) * block_align never wraps.
        const std::uint64_t end = std::max(samples_before(span.end, s.sample_rate), f.first + 1);
        if (end < frames) {
            f.end = end;
            f.to_the_end = false;
        }
    }
    return f;
}

}  // namespace audio_stream::wav
