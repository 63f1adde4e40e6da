// Where a span of an Ogg stream lies: the packet a cut or clip starts with, found by a bisection
// of the pages by granule position and a short walk, and the packet and page its END falls in.
#ifndef AUDIO_STREAM_FORMATS_OGG_LOCATE_H
#define AUDIO_STREAM_FORMATS_OGG_LOCATE_H

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "read.h"

namespace audio_stream {
namespace ogg {

// A packet that starts fresh in `page`, at lacing value `segment`, whose first sample has granule
// position `granule`.
struct CutPoint {
    Page page;
    std::size_t segment = 0;
    std::int64_t granule = 0;
};

// A page a bisection found: the first with a granule position at or after `from`.
struct Probe {
    Offset from = 0;
    Page page;
};

struct Start {
    CutPoint at;                 // the first packet of the cut
    std::optional<Page> before;  // the last page before at's packet ends with a granule position
    std::int64_t target = 0;     // where the output starts, as a granule position: START's sample
    std::int64_t pre_skip = 0;   // Opus: the cut's OpusHead pre-skip (RFC 7845 §4.2)
    std::vector<Probe> probes;   // what the start's bisection found, which narrows a later one
};

// Where a clip ends: END's packet is the first whose end is at or after END (RFC 7845 §4.4,
// Vorbis I §A.2: decoders trim the last packet to the last page's granule position).
struct End {
    Page page;                           // the page END's packet ends on
    std::size_t packet = 0;              // END's packet's first lacing value (0: it began earlier)
    std::size_t stop = 0;                // one past its last: the clip keeps [.., stop) of the page
    std::optional<std::int64_t> starts;  // where END's packet starts, when the packets are timed
    std::int64_t granule = 0;            // the clip's last granule position: END's sample
};

struct Clip {
    Start start;
    std::optional<std::int64_t> end;  // END's sample as a granule position, if the span has an END
};

// Opus starts at the packet 80 ms (RFC 7845 §4.6 pre-roll) before START, and the pre-skip makes
// the output start exactly at START. Vorbis starts at a packet whose decoded output (after the
// first, which only primes the decoder, Vorbis I §A.2) begins at or before START. Refuses
// (PastEnd) a START past the last page.
//
// END's page is the first page from the cut on whose granule position is at or after END's, which
// writing the clip walks to anyway (see end_on). It needs no search of its own but for an Opus
// clip of 120 ms or less, whose start depends on where END's packet starts: the page headers from
// the cut's first page to END's page are then walked here too (OverBudget past kMaxCutPages of
// them, as writing would refuse), and the start may be searched again within what the first
// search found.
Clip locate(Pages& pages, const Stream& s, const Span& span);

// Where a clip ends on `page`, the first page of the stream with a granule position at or after
// the clip's END (`before`: the last page before it with one). nullopt when END is at or past
// the end of the stream (the last granule position, whatever pages without one follow it): the
// clip is the cut from START. When the page's packets cannot be timed, the clip keeps them all,
// with END's granule position.
std::optional<End> end_on(Pages& pages, const Stream& s, const Clip& clip, const Page& page,
                          const std::optional<Page>& before);

// The last page of a cut that runs to the end: the whole page, its last packet placed when it can
// be (`before`: the last page before it with a granule position).
End last_page_end(Pages& pages, const Stream& s, const Page& page, const std::optional<Page>& before);

}  // namespace ogg
}  // namespace audio_stream

#endif
