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

// The lowest sample rate of real PCM recordings: telephone speech (G.711's 8 kHz).
constexpr std::uint64_t kLowestRate = 8000;

// The data chunk and its duration in sample frames at the sample rate (0 when the header does
// not parse): exact, and what decoders play; fmt's byte rate, which can say anything, is not
// read. The floor: these sample frames at 8 kHz, so that a sample rate of 1 Hz (a file that
// plays for days) lowers the threshold no further than a real telephone-rate file's.
AudioLayout layout_wav(ByteSource& src)
{
    AudioLayout l{src.size(), 0, src.size(), 0};
    parses([&] {
        const wav::Stream s = wav::read_stream(src);
        l.audio_start = s.data_offset;
        l.audio_end = s.data_offset + s.data_length;
        l.duration = samples_to_micros(s.frames(), s.sample_rate);
        l.floor_bitrate = kLowestRate * s.block_align * 8;
    });
    return l;
}

}  // namespace audio_stream
