// Writing a FLAC cut or clip (RFC 9639): "fLaC", STREAMINFO rewritten, the blocks a cut keeps,
// the first SEEKTABLE rebased, then the frames (renumber.h).
#ifndef AUDIO_STREAM_FORMATS_FLAC_WRITE_H
#define AUDIO_STREAM_FORMATS_FLAC_WRITE_H

#include "renumber.h"

namespace audio_stream {
namespace flac {

// STREAMINFO says clip.total samples, its MD5 zeroed unless the cut is the whole stream.
// VORBIS_COMMENT and PICTURE blocks are kept as file extents, PADDING, APPLICATION and CUESHEET
// dropped; the first SEEKTABLE's points on the cut's frames before END are kept, rebased, any
// other SEEKTABLE dropped. Reads only that SEEKTABLE of `src`.
Cut write_cut(ByteSource& src, const Stream& s, const FrameIndex& index, const Clip& clip);

}  // namespace flac
}  // namespace audio_stream

#endif
