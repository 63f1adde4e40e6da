// Writing a WAVE cut or clip: a fresh RIFF/fmt/data header in memory, then the sample frames
// kept as one file extent. Chunks other than fmt and data (LIST, fact, ...) are left out.
#ifndef AUDIO_STREAM_FORMATS_WAV_WRITE_H
#define AUDIO_STREAM_FORMATS_WAV_WRITE_H

#include "locate.h"

namespace audio_stream::wav {

Cut write_cut(const Stream& s, const Frames& f);

}  // namespace audio_stream::wav

#endif
