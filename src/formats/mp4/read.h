// Reading an MP4 movie (ISO/IEC 14496-12): the top-level boxes, the moov, its movie header and
// every track's validated tables, and which tracks are audio, which chapters. What a cut needs
// of the file, read once.
#ifndef AUDIO_STREAM_FORMATS_MP4_READ_H
#define AUDIO_STREAM_FORMATS_MP4_READ_H

#include <cstdint>
#include <optional>
#include <vector>

#include "track.h"

namespace audio_stream::mp4 {

struct Movie {
    std::optional<Box> ftyp;
    Box moov;
    std::vector<Box> kids;  // of the moov
    Box mvhd;
    std::uint32_t timescale = 0;
    std::uint64_t duration = 0;  // mvhd's, in the movie timescale
    std::vector<Track> tracks;   // in the moov's order
};

// The movie of the file `walk` reads. Unsupported: fragmented (moof, mvex) or compressed (cmov)
// movies, no audio track, a track that is neither audio nor a text track an audio track names
// as its chapters (tref 'chap'). Malformed: no moov or two, top-level boxes that do not fit,
// and past the caps (caps.h).
Movie read_movie(BoxWalk& walk);

}  // namespace audio_stream::mp4

#endif
