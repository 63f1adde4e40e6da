// Time-seek cuts of RIFF/WAVE files holding PCM or IEEE float samples (plain or
// WAVE_FORMAT_EXTENSIBLE): a fresh RIFF/fmt/data header in memory, then the remaining
// sample frames as one file extent.
#ifndef AUDIO_STREAM_FORMATS_WAV_H
#define AUDIO_STREAM_FORMATS_WAV_H

#include "../audio_layout.h"
#include "cut.h"

namespace audio_stream {

// The cut of the WAVE file in `src` starting at the sample frame that holds time t (t >= 0).
// Chunks other than fmt and data (LIST, fact, ...) are left out of the cut; a data size past
// the end of the file (a streamed WAVE, 0xFFFFFFFF) is clipped to the file.
Cut cut_wav(ByteSource& src, Micros t);

// The data chunk and its duration in sample frames (0 when the header does not parse).
AudioLayout layout_wav(ByteSource& src);

}  // namespace audio_stream

#endif
