// Time-seek cuts: the representation of "this file, starting at time t". Each format returns
// a Representation made of small rewritten header blocks (MemoryBlock) and file extents, so a
// cut is served, ranged and validated exactly like a plain file (see response_plan.h).
#ifndef AUDIO_STREAM_FORMATS_CUT_H
#define AUDIO_STREAM_FORMATS_CUT_H

#include <cstdint>
#include <string>

#include "../byte_source.h"
#include "../micros.h"
#include "../representation.h"

namespace audio_stream {

struct Cut {
    enum class Status {
        Ok,          // rep is the cut
        PastEnd,     // t is at or past the end of the audio
        Malformed,   // the file is not a well-formed stream of its format
        Unsupported, // well-formed, but of a kind the cutter does not cut (fragmented MP4, video)
    };
    Status status = Status::Malformed;
    Representation rep;      // rep.etag_suffix names the cut: set by cut_for_type (dispatch.h)
    Micros start = 0;        // where the cut really starts (a frame/page boundary at or before t)
    Micros duration = 0;     // of the cut, as its rewritten headers tell players
    std::string detail;      // for the error log when Malformed or Unsupported
};

}  // namespace audio_stream

#endif
