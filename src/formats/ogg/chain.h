// The duration of a chained Ogg file (RFC 3533 §4: logical streams one after another, each
// from its beginning-of-stream page to its end-of-stream page, as stream recorders write them):
// the sum of its links', for the layout that download counting reads.
#ifndef AUDIO_STREAM_FORMATS_OGG_CHAIN_H
#define AUDIO_STREAM_FORMATS_OGG_CHAIN_H

#include <cstddef>
#include <optional>

#include "read.h"

namespace audio_stream {
namespace ogg {

// Links a chain is followed through; a file of more has an unknown duration (the whole file is
// then a download's threshold: a count is missed, never made up).
constexpr std::size_t kMaxLinks = 64;

// The duration of the file's streams: each link's last granule position less its origin and
// pre-skip (RFC 7845 §4) at its own rate, summed from the first link (`first`) on. A file of one
// stream (read_tail finds no other) is a chain of one link, whose last granule position is
// found within the file's last kMaxPage bytes; a chain's links are walked page by page (their
// headers only, a read per kHeaderWindow bytes or per page), kMaxCutPages pages in all. nullopt
// when a link's headers cannot be read, or past kMaxLinks links; OverBudget past the pages.
std::optional<Micros> chain_duration(Pages& pages, const Stream& first);

}  // namespace ogg
}  // namespace audio_stream

#endif
