#include "locate.h"

#include <algorithm>
#include <iterator>

namespace audio_stream {
namespace flac {

namespace {

// The last frame whose first sample is at or before `sample` (an absolute sample number, as
// the headers count them, RFC 9639 §9.1.5); frames.front() starts at or before it.
std::size_t frame_holding(const FrameIndex& index, std::uint64_t sample)
{
    const auto& frames = index.frames;
    const auto after = std::upper_bound(frames.begin(), frames.end(), sample, [&](std::uint64_t x, const IndexedFrame& f) {
        return x < index.first_sample(f);
    });
    return static_cast<std::size_t>(std::prev(after) - frames.begin());
}

}  // namespace

std::uint64_t audio_samples(const StreamInfo& info, const FrameIndex& index)
{
    const std::uint64_t origin = index.first_sample(index.frames.front());
    const std::uint64_t end = index.end_sample(index.frames.back());
    const std::uint64_t held = end > origin ? end - origin : 0;  // a hostile saved index may wrap
    return info.total != 0 ? std::min(info.total, held) : held;
}

Clip locate(const StreamInfo& info, const FrameIndex& index, const Span& span)
{
    const std::uint64_t origin = index.first_sample(index.frames.front());
    const std::uint64_t audio = audio_samples(info, index);
    const std::uint64_t wanted = sample_at(span.start, info.rate);
    if (wanted >= audio) {
        refuse_past_end();
    }
    Clip c;
    c.first = frame_holding(index, origin + wanted);
    const IndexedFrame& f = index.frames[c.first];
    if (origin + wanted - index.first_sample(f) >= f.block) {
        refuse_past_end();  // in a gap between frames: only a damaged saved index has one
    }
    c.skipped = index.first_sample(f) - origin;
    c.last = index.frames.size() - 1;
    c.total = info.total != 0 ? info.total - std::min(c.skipped, info.total) : 0;
    if (span.open()) {
        return c;
    }
    // A clip keeps samples [.., samples_before(END)) of the stream: at least the one at START
    // (END is after START, so it always is unless a caller passes an empty span).
    const std::uint64_t end = std::max(samples_before(span.end, info.rate), wanted + 1);
    if (end >= audio) {
        return c;  // the same cut as no END, to the byte
    }
    c.end = end;
    c.to_the_end = false;
    c.last = frame_holding(index, origin + end - 1);
    c.total = end - c.skipped;
    return c;
}

}  // namespace flac
}  // namespace audio_stream
