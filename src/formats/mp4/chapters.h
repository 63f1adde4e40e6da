// Chapters over a span: a QuickTime chapter track's samples (a text track an audio track names
// in tref 'chap', QuickTime File Format "Chapter lists"), and Nero's udta 'chpl' list. Each
// keeps the chapters that overlap the span, rebased to start at its start.
#ifndef AUDIO_STREAM_FORMATS_MP4_CHAPTERS_H
#define AUDIO_STREAM_FORMATS_MP4_CHAPTERS_H

#include <cstdint>
#include <string>
#include <vector>

#include "track.h"

namespace audio_stream::mp4 {

// A chapter track's sample: its bytes (a 16-bit length and the title) and its ticks.
struct ChapterSample {
    std::string bytes;
    std::uint64_t ticks;
};

// The samples of chapter track `t` that overlap [from, to) (to: Span::kToTheEnd for the end of
// the track), the first shortened to begin at `from`'s tick, the last to end the whole ticks of
// to - from later (one tick at least, so past `to` when to - from is shorter than a tick).
// Malformed past kMaxChapters samples or kMaxChapterSample bytes a title; Unsupported with an
// edit that skips media.
std::vector<ChapterSample> chapter_samples(ByteSource& src, const Track& t, Micros from, Micros to);

// Nero chapters: each starts (in 100 ns units) where the one before ends.
struct NeroChapter {
    std::uint64_t start;
    std::string title;
};
struct Chpl {
    std::string head;  // version, flags and (version 1) 4 reserved bytes
    std::vector<NeroChapter> chapters;
};
Chpl read_chpl(const std::string& payload);

// The chapters of `c` that overlap [from, to) (100 ns units; `end`: where the last one ends),
// rebased to start at `from`.
Chpl clip_chpl(const Chpl& c, std::uint64_t from, std::uint64_t to, std::uint64_t end);

}  // namespace audio_stream::mp4

#endif
