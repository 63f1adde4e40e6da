// Writing an MP4 cut or clip: ftyp, a rewritten moov (every kept track's headers, edit and
// sample tables; udta with its chapters clipped and iTunSMPB dropped), then one mdat of the
// chapter titles kept and the audio bytes kept as one file extent. The moov always comes
// first, whatever the file's order.
#ifndef AUDIO_STREAM_FORMATS_MP4_WRITE_H
#define AUDIO_STREAM_FORMATS_MP4_WRITE_H

#include "locate.h"

namespace audio_stream::mp4 {

// The cut `plan` makes of `movie`, reading what it copies through `walk` (the one that read
// the movie: one budget of boxes for the whole cut).
Cut write_cut(BoxWalk& walk, const Movie& movie, const Plan& plan);

}  // namespace audio_stream::mp4

#endif
