#include "ogg.h"

#include "write.h"

namespace audio_stream {

Cut cut_ogg(ByteSource& src, const Span& span)
{
    return as_cut([&] {
        ogg::Pages pages(src);
        const ogg::Stream s = ogg::read_stream(pages);
        return ogg::write_cut(pages, src, s, ogg::locate(pages, s, span));
    });
}

AudioLayout layout_ogg(ByteSource& src)
{
    AudioLayout l{src.size(), 0, src.size(), 0};
    parses([&] {
        ogg::Pages pages(src);
        const ogg::Stream s = ogg::read_stream(pages);
        l.audio_start = s.audio_start;
        // The duration is the last granule position less the Opus pre-skip (RFC 7845 §4).
        const std::int64_t last = ogg::final_granule(pages, s);
        if (last > s.origin + s.header.pre_skip) {
            l.duration = ogg::granule_micros(last - s.origin - s.header.pre_skip, s.header.rate);
        }
    });
    return l;
}

}  // namespace audio_stream
