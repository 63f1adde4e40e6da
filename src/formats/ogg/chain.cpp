#include "chain.h"

#include <algorithm>
#include <limits>

namespace audio_stream {
namespace ogg {

namespace {

// A link's end and the last granule position of its pages (-1: none).
struct Link {
    Offset end = 0;
    std::int64_t last = -1;
};

// The pages of the link s from its audio on, by their headers, to the first page that is not
// its own (another serial number, or a beginning-of-stream page: links of one serial number
// follow one another in `cat a.opus a.opus`), or to the end of the file. A walk, not a bisection:
// a later link may have the first one's serial number, and its pages would pass for the
// first's in the middle of the file.
Link walk_link(Pages& pages, const Stream& s, PageWalk& walk)
{
    Link link{s.audio_start, -1};
    for (Page p; pages.header_at(link.end, p) && p.serial() == s.serial && (p.type() & kBos) == 0;) {
        walk.pass();
        link.last = p.granule() >= 0 ? p.granule() : link.last;
        link.end = p.end();
    }
    return link;
}

// The audio from the link's first sample to its last granule position (RFC 7845 §4).
Micros link_duration(const Stream& s, std::int64_t last)
{
    return last > s.origin + s.header.pre_skip ? granule_micros(last - s.origin - s.header.pre_skip, s.header.rate) : 0;
}

}  // namespace

std::optional<Micros> chain_duration(Pages& pages, const Stream& first)
{
    const Tail tail = read_tail(pages, first);
    if (!tail.chained_at) {
        return link_duration(first, tail.last_granule);
    }
    Micros total = 0;
    Stream s = first;
    PageWalk walk;
    for (std::size_t links = 1; links <= kMaxLinks; ++links) {
        const Link link = walk_link(pages, s, walk);
        // A damaged link's granule position near 2^62 reads as the longest duration: the sum
        // saturates as each link's does.
        total += std::min(link_duration(s, link.last), std::numeric_limits<Micros>::max() - total);
        if (link.end >= pages.size()) {
            return total;
        }
        s = read_stream(pages, link.end);
    }
    return std::nullopt;
}

}  // namespace ogg
}  // namespace audio_stream
