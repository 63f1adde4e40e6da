// Where a span of an MP4 movie lies: for each audio track, the samples that play from START
// (with the pre-roll its codec needs) to the last one presented before END, their chunks and
// bytes, and the ticks the new edit list presents; for each chapter track, the chapters that
// overlap the span. Every duration a rewritten header carries is decided here.
#ifndef AUDIO_STREAM_FORMATS_MP4_LOCATE_H
#define AUDIO_STREAM_FORMATS_MP4_LOCATE_H

#include <cstdint>
#include <vector>

#include "chapters.h"
#include "read.h"

namespace audio_stream::mp4 {

// The chunks holding samples [first, last) of a track (§8.7.4, §8.7.5): [first_chunk,
// last_chunk], the first less `dropped` samples before `first`, the last with `kept_in_last`.
struct ChunkSpan {
    std::uint64_t first_chunk = 0;
    std::uint64_t last_chunk = 0;
    std::uint32_t dropped = 0;
    std::uint32_t kept_in_last = 0;
    std::vector<Offset> offsets;  // file offsets of the kept chunks, the first moved to `first`
    Offset data_start = 0;        // the first kept byte
    Offset data_end = 0;          // one past the last
};

// Samples [first, last) of an audio track, how they are presented and where they lie.
struct AudioSpan {
    std::uint64_t first = 0;        // first sample kept: the one playing at START less the pre-roll
    std::uint64_t last = 0;         // one past the last kept
    std::uint64_t start_ticks = 0;  // START on the track's presentation, in media ticks
    std::uint64_t end_ticks = 0;    // where presentation ends: END's ticks rounded up, or the end
    std::uint64_t media_time = 0;   // of the new edit: ticks of the kept samples before START
    std::uint64_t kept_ticks = 0;   // of the samples kept (mdhd)
    ChunkSpan chunks;
    std::uint64_t presented() const { return end_ticks - start_ticks; }
};

// The samples of audio track `t` over `span` (a clip when `clip`, else to the end of the track).
// PastEnd when START is at or past the end of its presentation.
AudioSpan locate_audio(ByteSource& src, const Track& t, std::uint32_t movie_timescale, const Span& span,
                       bool clip);

// What a cut keeps of one track: an audio track's samples, or a chapter track's chapters.
struct TrackPlan {
    AudioSpan audio;                      // audio tracks only
    std::vector<ChapterSample> chapters;  // chapter tracks only
    std::uint64_t media_duration = 0;     // mdhd: media ticks kept
    std::uint64_t duration = 0;           // tkhd and elst: movie ticks presented
};

struct Plan {
    std::vector<TrackPlan> tracks;  // one per movie track, in order
    Micros start = 0;               // where the cut really starts (the first audio track's tick)
    Micros end = Span::kToTheEnd;   // where a clip ends, or kToTheEnd
    Micros duration = 0;            // of the first audio track's presentation
    // The clip's movie timescale: the file's, or the first audio track's where the file's is
    // coarser, so that an edit can end on END's sample (a 1000 Hz movie clock would round it
    // up to a whole millisecond). The cut from START keeps the file's.
    std::uint32_t movie_timescale = 0;
    // mvhd, in movie ticks: the longest audio track's. ISO/IEC 14496-12 §8.2.2 has it the longest
    // track's, but a chapter track keeps a whole tick of its own timescale (a millisecond, as a
    // rule) however short the clip: the movie lasts as long as its audio.
    std::uint64_t movie_duration = 0;
    Offset data_start = 0;          // the file bytes every audio track keeps lie in [start, end)
    Offset data_end = 0;
    Offset chapter_bytes = 0;       // of every chapter track's samples
    bool clip() const { return end != Span::kToTheEnd; }
};

// The plan of the cut of `movie` over `span`. An END at or past the end of every audio track's
// presentation plans the cut from START (the same cut, the same bytes).
Plan locate(ByteSource& src, const Movie& movie, const Span& span);

}  // namespace audio_stream::mp4

#endif
