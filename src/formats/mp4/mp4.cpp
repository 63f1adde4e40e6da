#include "mp4.h"

#include <optional>

#include "write.h"

namespace audio_stream {

Cut cut_mp4(ByteSource& src, const Span& span)
{
    return as_cut([&] {
        mp4::BoxWalk walk(src);
        const mp4::Movie movie = mp4::read_movie(walk);
        return mp4::write_cut(walk, movie, mp4::locate(src, movie, span));
    });
}

AudioLayout layout_mp4(ByteSource& src)
{
    using namespace mp4;
    const Offset size = src.size();
    AudioLayout l{size, 0, size, 0};
    std::optional<Box> mdat;
    Micros duration = 0;
    Offset at = 0;
    bool moov_seen = false;  // only the first one's children are walked (a file has one)
    for (int i = 0; i < kMaxTopBoxes && at < size; ++i) {
        const auto b = box_at(src, at, size);
        if (!b) {
            return l;  // not boxes to the end: not a file to trust
        }
        if (is(*b, "mdat") && (!mdat || b->end - b->payload > mdat->end - mdat->payload)) {
            mdat = b;
        }
        if (is(*b, "moov") && !moov_seen) {
            moov_seen = true;
            Offset c = b->payload;
            for (int j = 0; j < kMaxMoovChildren && c < b->end; ++j) {
                const auto child = box_at(src, c, b->end);
                if (!child) {
                    break;
                }
                if (is(*child, "mvhd")) {
                    duration = mvhd_duration(src, *child);
                    break;
                }
                c = child->end;
            }
        }
        at = b->end;
    }
    if (mdat && duration > 0) {
        l.audio_start = mdat->payload;
        l.audio_end = mdat->end;
        l.duration = duration;
    }
    return l;
}

}  // namespace audio_stream
