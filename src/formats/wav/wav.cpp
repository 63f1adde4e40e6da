#include "wav.h"

#include "write.h"

namespace audio_stream {

Cut cut_wav(ByteSource& src, const Span& span)
{
    return as_cut([&] {
        const wav::Stream s = wav::read_stream(src);
        return wav::write_cut(s, wav::locate(s, span));
    });
}

AudioLayout layout_wav(ByteSource& src)
{
    AudioLayout l{src.size(), 0, src.size(), 0};
    parses([&] {
        const wav::Stream s = wav::read_stream(src);
        l.audio_start = s.data_offset;
        l.audio_end = s.data_offset + s.data_length;
        l.duration = samples_to_micros(s.frames(), s.sample_rate);
    });
    return l;
}

}  // namespace audio_stream
