// Writing an Ogg cut or clip: the header pages as they are (but for the Opus pre-skip), then the
// audio pages from the cut's first packet, each page header rewritten (granule position rebased,
// sequence number following the headers', end-of-stream on the last) with its CRC recomputed
// from the old one (CRC linearity: the audio is never read). The pages that lose packets, the
// first and a clip's last, get a new header in memory whose CRC covers what they keep: their
// bodies are read once for it, and served as file extents.
#ifndef AUDIO_STREAM_FORMATS_OGG_WRITE_H
#define AUDIO_STREAM_FORMATS_OGG_WRITE_H

#include "locate.h"

namespace audio_stream {
namespace ogg {

// The cut from the clip's start, through its END's packet when it has an end. Refuses (PastEnd) a
// cut that would hold no audio.
Cut write_cut(Pages& pages, ByteSource& src, const Stream& s, const Clip& clip);

}  // namespace ogg
}  // namespace audio_stream

#endif
