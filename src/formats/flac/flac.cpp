#include "flac.h"

#include <memory>

#include "index.h"
#include "locate.h"
#include "metadata.h"
#include "write.h"

namespace audio_stream {

Cut cut_flac(ByteSource& src, const Span& span, IndexSource& indexes)
{
    return as_cut([&] {
        const flac::Stream s = flac::read_stream(src);
        const auto index = indexes.get<flac::FrameIndex>(IndexKind::Flac, [&] {
            return std::make_shared<const flac::FrameIndex>(flac::build_index(src, s));
        });
        if (!index->error.empty() || index->frames.empty()) {
            refuse_malformed(index->error.empty() ? "no FLAC frames" : index->error);
        }
        return flac::write_cut(src, s, *index, flac::locate(s.info, *index, span));
    });
}

Cut cut_flac(ByteSource& src, const Span& span)
{
    IndexSource none;
    return cut_flac(src, span, none);
}

AudioLayout layout_flac(ByteSource& src)
{
    AudioLayout l{src.size(), 0, src.size(), 0};
    parses([&] {
        const flac::Stream s = flac::read_stream(src);
        l.audio_start = s.audio_start;
        l.duration = s.info.total > 0 ? samples_to_micros(s.info.total, s.info.rate) : 0;
    });
    return l;
}

}  // namespace audio_stream
