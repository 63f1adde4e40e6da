// RIFF/WAVE files holding PCM or IEEE float samples (plain or WAVE_FORMAT_EXTENSIBLE): cuts and
// clips exact to the sample frame at both ends, and the layout download counting needs.
// read.h (the file's chunks) -> locate.h (the frames of a span) -> write.h (the clip).
#include "../formats.h"

#include "write.h"

namespace audio_stream {

// The cut of the WAVE file in `src` over `span`: a fresh RIFF/fmt/data header, then the sample
// frames from the one that plays at START to the last that starts before END (or the end) as
// one file extent. A data size past the end of the file (a streamed WAVE, 0xFFFFFFFF) is
// clipped to the file.
Cut cut_wav(ByteSource& src, const Span& span)
{
    return as_cut([&] {
        const wav::Stream s = wav::read_stream(src);
        return wav::write_cut(s, wav::locate(s, span));
    });
}

// The data chunk and its duration in sample frames (0 when the header does not parse).
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
