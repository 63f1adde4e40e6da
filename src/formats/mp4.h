// MP4 audio (ISO/IEC 14496-12 boxes: .m4a, .m4b, audio-only .mp4). No cutter yet: ?t= on MP4
// answers 501 (dispatch.h); what download counting needs is the layout.
#ifndef AUDIO_STREAM_FORMATS_MP4_H
#define AUDIO_STREAM_FORMATS_MP4_H

#include "../audio_layout.h"
#include "../byte_source.h"

namespace audio_stream {

// The audio is the largest `mdat` box's payload (wherever the `moov` is: before it, as after
// faststart, or after it, as ffmpeg writes by default); the duration is the movie header's
// (`moov`/`mvhd`). Walks at most kMaxTopBoxes top-level boxes and the children of `moov` only
// by their headers: a few reads whatever the file. Duration 0 when a box runs past the end of
// the file, `mvhd` is missing, or its timescale or duration is 0 or unknown.
AudioLayout layout_mp4(ByteSource& src);

}  // namespace audio_stream

#endif
