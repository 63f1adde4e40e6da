// Where each packet of a page ends on the stream's timeline, in granule positions: what places a
// clip's end (and a Vorbis cut's first packet) inside a page rather than at its boundary.
//
// A page's granule position is the end of the last packet that ends on it (RFC 3533 §6, Vorbis I
// §A.2, RFC 7845 §4), so the packets before end that packet's duration earlier, and so on back:
// Opus durations from each packet's TOC (RFC 6716 §3.1), Vorbis ones a quarter of the packet's
// block size plus a quarter of the previous packet's (Vorbis I §1.3.2, §4.3.1). Only the
// end-of-stream page may carry less than its packets decode to (end trimming, Vorbis I §A.2, RFC
// 7845 §4.4): there the ends are counted forward from the page before instead.
#ifndef AUDIO_STREAM_FORMATS_OGG_TIMING_H
#define AUDIO_STREAM_FORMATS_OGG_TIMING_H

#include <cstdint>
#include <optional>
#include <vector>

#include "read.h"

namespace audio_stream {
namespace ogg {

// A packet that ends on a page, and the granule position at its end.
struct PacketEnd {
    Packet packet;
    std::int64_t end = 0;
};

// The packets that end on `page`, in order, with their ends. `before` is the last page of the
// stream before `page` that carries a granule position (nullopt: none, the stream's first
// packet ends on `page`). nullopt when a duration that is needed cannot be known: a packet that
// is not one of the codec's, the page's CRC, or, on the end-of-stream page, the block before its
// first packet (see timing.cpp). Leaves `page` loaded.
std::optional<std::vector<PacketEnd>> packet_ends(Pages& pages, const Stream& s, const Page& page,
                                                  const std::optional<Page>& before);

}  // namespace ogg
}  // namespace audio_stream

#endif
