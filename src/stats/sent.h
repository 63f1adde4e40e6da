// What a response actually delivered, in the terms of the log and of counting: the body bytes
// sent (a prefix of the body when the client left early) mapped back to the representation's
// ranges (AUDIO_SENT), to the file's bytes (coverage) and to seconds of audio (AUDIO_SECONDS).
#ifndef AUDIO_STREAM_STATS_SENT_H
#define AUDIO_STREAM_STATS_SENT_H

#include <string>
#include <vector>

#include "../audio_layout.h"
#include "../response_plan.h"
#include "coverage.h"

namespace audio_stream::stats {

// A cut rewrites each frame or page header in memory between file extents of their bodies:
// file ranges this close count as contiguous (the longest Ogg page header is 282 bytes).
constexpr Offset kJoinGap = 512;

// The file bytes among the first `sent` bytes of `body`, in body order, ranges at most
// `join_gap` apart joined within a part of `parts` (the plan's), never across two: the file
// bytes between two parts of a multipart answer were not sent. Memory blocks (multipart
// headers, a cut's rewritten headers) are not file bytes.
std::vector<FileRange> sent_file_ranges(const Extents& body, const std::vector<Part>& parts, Offset sent,
                                        Offset join_gap = kJoinGap);

// The file bytes behind the first `sent` body bytes of a representation built in memory from
// `source` (an MPEG-TS segment: its frames, interleaved with packet headers), `total` bytes
// long: each part's bytes map onto the source in proportion (the container's overhead is
// spread evenly), so sending all of it covers all the source.
std::vector<FileRange> source_file_ranges(const Extents& source, Offset total, const std::vector<Part>& parts,
                                          Offset sent);

// AUDIO_SENT: "first-last/total" (inclusive, of the representation), several ranges joined by
// commas, for the parts' bytes among the first `sent` body bytes; "-" when none was sent.
std::string sent_text(const std::vector<Part>& parts, Offset total, Offset sent);

// AUDIO_SECONDS: "s0-s1", the times the first and the end of the file ranges play at, in
// seconds with three decimals; ranges wholly in the headers (before audio_start) are left
// out. "-" when no audio was sent or the duration is unknown.
std::string seconds_text(const AudioLayout& layout, const std::vector<FileRange>& ranges);

}  // namespace audio_stream::stats

#endif
