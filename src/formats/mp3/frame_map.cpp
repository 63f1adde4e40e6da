#include "frame_map.h"

#include <algorithm>

namespace audio_stream {
namespace mp3 {

std::shared_ptr<const FrameIndex> stream_index(Reader& r, const Stream& s, IndexSource& indexes)
{
    auto index = indexes.get<FrameIndex>(IndexKind::Mp3, [&] {
        const ByteSource::Unbudgeted own_bounds(r.source());  // kMaxIndexFrames, kMaxIndexBytes
        return std::make_shared<const FrameIndex>(build_index(r, s.audio, s.tags.limit, s.ref));
    });
    if (!index->error.empty()) {
        refuse_malformed(index->error);
    }
    if (index->frames.empty()) {
        refuse_malformed("no MPEG audio frames after the header frame");
    }
    return index;
}

Offset CbrFrames::offset(std::uint64_t i) const
{
    return s_.audio + mul_div(i, s_.tags.limit - s_.audio, count());
}

std::optional<FrameRun> CbrFrames::run(std::uint64_t from, std::uint64_t to)
{
    const Offset total = s_.tags.limit - s_.audio;
    if (to >= count() || total == 0) {
        return std::nullopt;
    }
    // Resync a frame and a few bytes before the estimate of frame `from`: a frame's padding byte
    // may put it a little before its share of the bytes.
    const std::uint64_t back = from > 0 ? from - 1 : 0;
    const Offset estimate = offset(back);
    const Offset start = back == 0 ? s_.audio : std::max(s_.audio, estimate - std::min<Offset>(estimate, 8));
    const Offset pos = resync(r_, start, s_.tags.limit, s_.ref);
    if (pos >= s_.tags.limit) {
        return std::nullopt;
    }
    // The number of the frame found: its offset over the average frame, rounded.
    std::uint64_t n = mul_div(2 * (pos - s_.audio) + total / count(), count(), 2 * total);
    if (n > to) {
        return std::nullopt;
    }
    FrameRun run;
    run.first = std::max(from, n);
    FrameScanner scan(r_, pos, s_.tags.limit, s_.ref);
    for (; n <= to; ++n) {
        const auto f = scan.next();
        if (!f) {
            return std::nullopt;
        }
        if (n >= run.first) {
            run.frames.push_back(f->info);
        }
    }
    return run;
}

std::optional<FrameRun> IndexedFrames::run(std::uint64_t from, std::uint64_t to)
{
    if (to >= count() || from > to) {
        return std::nullopt;
    }
    FrameRun run;
    run.first = from;
    for (std::uint64_t i = from; i <= to; ++i) {
        run.frames.push_back(x_.at(static_cast<std::size_t>(i)));
    }
    return run;
}

bool IndexedFrames::constant(std::uint64_t first, std::uint64_t last) const
{
    const std::uint16_t bitrate = x_.frames[first].packed >> 12;
    for (std::uint64_t i = first + 1; i <= last; ++i) {
        if (x_.frames[i].packed >> 12 != bitrate) {
            return false;
        }
    }
    return true;
}

}  // namespace mp3
}  // namespace audio_stream
