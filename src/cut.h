// Time-seek cuts and clips: the representation of "this file from START" or "from START to
// END". The formats (formats/) make them, the caches (cache/) keep them, the glue serves them:
// each is a Representation of small rewritten header blocks (MemoryBlock) and file extents, so
// it is served, ranged and validated exactly like a plain file (see response_plan.h).
#ifndef AUDIO_STREAM_CUT_H
#define AUDIO_STREAM_CUT_H

#include <cstdint>
#include <limits>
#include <string>

#include "byte_source.h"
#include "micros.h"
#include "representation.h"

namespace audio_stream {

// What a request asks for on the original's timeline: from `start` to `end` (exclusive), or to
// the end of the audio when `end` is kToTheEnd.
// A start alone (a Micros) is the span from it to the end: ?t=START.
struct Span {
    static constexpr Micros kToTheEnd = std::numeric_limits<Micros>::max();
    Span(Micros from = 0, Micros to = kToTheEnd) : start(from), end(to) {}
    Micros start;
    Micros end;
    bool open() const { return end == kToTheEnd; }
    bool operator==(const Span& o) const { return start == o.start && end == o.end; }
};

struct Cut {
    enum class Status {
        Ok,          // rep is the cut
        PastEnd,     // the start is at or past the end of the audio
        Malformed,   // the file is not a well-formed stream of its format
        Unsupported, // well-formed, but of a kind the cutter does not cut (fragmented MP4, video)
        OverBudget,  // cutting it would cost more than a request's budget (byte_source.h)
    };
    Status status = Status::Malformed;
    Representation rep;      // rep.etag_suffix names the cut: set by cut_for_type (formats/dispatch.h)
    Micros start = 0;        // where the cut really starts (a frame/page boundary at or before START)
    // Where it really ends, as its headers tell players: the first sample boundary at or after
    // END (a FLAC clip holds the rest of END's frame too, which its STREAMINFO leaves out), or
    // Span::kToTheEnd when it runs to the end of the audio: an END at or past the end of the
    // audio makes the same cut as no END.
    Micros end = Span::kToTheEnd;
    Micros duration = 0;     // of the cut, as its rewritten headers tell players
    std::string detail;      // for the error log when Malformed, Unsupported or OverBudget
    // The refusal holds for every span of the file, not only this one (as_cut, formats/toolbox.h):
    // the file is malformed or unsupported, or the budget spent was its tables
    // (BudgetSpent::whole_file), not a walk from START.
    bool whole_file = false;
};

}  // namespace audio_stream

#endif
