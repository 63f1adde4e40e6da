// Time-seek cuts of native FLAC files (RFC 9639).
#ifndef AUDIO_STREAM_FORMATS_FLAC_H
#define AUDIO_STREAM_FORMATS_FLAC_H

#include "cut.h"

namespace audio_stream {

// "fLaC", a rewritten STREAMINFO (total samples = what remains, MD5 zeroed), the VORBIS_COMMENT
// and PICTURE blocks as file extents, a SEEKTABLE keeping the points at or after the cut, then
// the original frames from the one holding sample floor(t * rate) to the end of the file.
// Frame headers are not renumbered: decoders take the first frame's number as the stream's
// start time (ffprobe start_time = cut.start). Reads are bounded by a fixed scan budget.
Cut cut_flac(ByteSource& src, Micros t);

}  // namespace audio_stream

#endif
