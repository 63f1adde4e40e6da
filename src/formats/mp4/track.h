// One track of an MP4 movie (ISO/IEC 14496-12 §8.3-§8.7), read into validated sample tables:
// what it is (audio, or something a cut must refuse), its one edit, its timescale and the
// tables a cut rewrites.
#ifndef AUDIO_STREAM_FORMATS_MP4_TRACK_H
#define AUDIO_STREAM_FORMATS_MP4_TRACK_H

#include <cstdint>
#include <vector>

#include "tables.h"

namespace audio_stream::mp4 {

enum class Kind { Audio, Chapters, Other };

// The track's edit list (§8.6.6) of at most one edit at rate 1.
struct Edit {
    bool present = false;
    std::uint64_t media_time = 0;  // of the first presented tick
    std::uint64_t duration = 0;    // presented length in movie ticks (0: to the end of the media)
};

struct Track {
    Box trak, tkhd, mdhd, stbl;
    std::vector<Box> trak_kids, mdia_kids, minf_kids, stbl_kids;
    std::uint32_t id = 0;
    char handler[4] = {};
    char codec[4] = {};  // the first sample description's format
    Kind kind = Kind::Other;
    std::uint32_t timescale = 0;
    Edit edit;
    std::vector<std::uint32_t> chapter_refs;  // tref/chap
    Runs stts;
    std::vector<Runs> others;  // ctts and sbgp: cut like stts
    std::uint64_t samples = 0;
    std::uint64_t ticks = 0;  // sum of stts
    Chunks chunks;
    Stsz stsz;
    std::uint32_t roll = 0;       // samples of pre-roll the codec needs
    bool has_roll_group = false;  // an sgpd/sbgp 'roll' pair is there
    Box stss;                     // type all zero when absent
};

// Reads a trak. Malformed for tables that do not agree (sample counts of stts, stsc and stsz,
// chunk numbers, description indexes), Unsupported for what the cutter does not cut (stz2,
// encrypted samples, edit lists of more than one edit or another rate).
Track read_track(BoxWalk& walk, const Box& trak);

}  // namespace audio_stream::mp4

#endif
