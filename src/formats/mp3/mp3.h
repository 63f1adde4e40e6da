// Time-seek cuts and clips of MPEG-1/2/2.5 Layer III files (CBR and VBR): a fresh Xing/Info
// frame in memory whose counts and LAME tag describe the clip, then the audio frames from a
// frame or two before START to the one holding END's last sample as a file extent (a short clip
// keeps six frames). Exact to the sample at both ends for gapless players (the LAME tag's
// encoder delay and end padding).
// stream.h (the file read) -> locate.h (the frames of a span) -> write.h (the clip).
#ifndef AUDIO_STREAM_FORMATS_MP3_H
#define AUDIO_STREAM_FORMATS_MP3_H

#include "../../audio_layout.h"
#include "../../cut.h"
#include "../../cache/seek_index.h"

namespace audio_stream {

// The cut of the MP3 file in `src` over `span`, on the timeline a gapless player shows (the
// LAME/Lavf/Lavc encoder delay and padding honoured), or on the decoder's when the file has no
// LAME tag. A stream that is not CBR is walked once for its seek index (mp3::FrameIndex, from
// `indexes`); a CBR one is found by arithmetic. See timeline.h and locate.h for the choices made.
Cut cut_mp3(ByteSource& src, const Span& span, IndexSource& indexes);

// The same with an index of its own, made for this cut alone.
Cut cut_mp3(ByteSource& src, const Span& span);

// Where the audio lies (after the ID3v2 tags, before ID3v1/APE) and how long it plays: the
// Xing/Info frame count (less the LAME encoder delay and padding), else the first frame's
// bitrate over the audio bytes. Duration 0 when no frame is found.
AudioLayout layout_mp3(ByteSource& src);

}  // namespace audio_stream

#endif
