// How long an MP4 file's audio plays for its decoders: the audio track's own timing (its stts
// sample deltas in its mdhd timescale), not what the movie or media header declares. What the
// layout for download counting needs; the cutter reads the same tables whole (track.h).
#ifndef AUDIO_STREAM_FORMATS_MP4_DURATION_H
#define AUDIO_STREAM_FORMATS_MP4_DURATION_H

#include "box.h"

namespace audio_stream::mp4 {

// The sum of the first audio track's (hdlr 'soun') stts deltas over its mdhd timescale, or
// mvhd's duration when that is known and shorter; 0 when there is no audio track, its boxes do
// not fit, its timescale or sum is 0, or its stts entries pass the request's budget of steps.
// A declared duration is never believed past what the samples play: a file may declare anything
// in mvhd or mdhd (0xFFFFFFFE), while players time the samples by stts. Memory is one window of
// entries whatever the table's size.
Micros audio_duration(ByteSource& src, const Box& moov);

}  // namespace audio_stream::mp4

#endif
