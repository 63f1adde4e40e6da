// Reading an Ogg Vorbis or Ogg Opus stream (RFC 3533, Vorbis I §A.2, RFC 7845 §3): its codec
// from the first page, its header pages, where its audio starts and the granule position of its
// first sample. What a cut, a clip or a layout needs before it looks for a time.
#ifndef AUDIO_STREAM_FORMATS_OGG_READ_H
#define AUDIO_STREAM_FORMATS_OGG_READ_H

#include <cstdint>
#include <optional>

#include "codec.h"
#include "page.h"

namespace audio_stream {
namespace ogg {

struct Stream {
    Page first;                // the identification header's page
    StreamHeader header{};
    std::uint32_t serial = 0;
    bool opus = false;
    Page last_header;          // the page on which the header packets end
    Offset audio_start = 0;
    Page audio;                // the first audio page
    std::int64_t origin = 0;   // the granule position of the stream's first sample
    std::optional<VorbisModes> modes;  // Vorbis, when the setup header's end is on its last page
};

// The stream of the file: refuses (Malformed) what is not Ogg, another codec, a multiplexed
// stream, audio sharing a page with the headers; (PastEnd) a stream without an audio page.
Stream read_stream(Pages& pages);

// Whether p is the last page of the stream: flagged end-of-stream, or followed by no page of it
// (the end of the file, damage, or the next stream of a chained file).
bool ends_stream(Pages& pages, const Stream& s, const Page& p);

// The granule position of the stream's last page that carries one, found within the last
// kMaxPage bytes (a page is at most that long); -1 when none is.
std::int64_t final_granule(Pages& pages, const Stream& s);

// A span of granule positions in microseconds; a negative one (a damaged page) counts as 0. A
// damaged page may also carry a granule near 2^63: samples_to_micros saturates.
Micros granule_micros(std::int64_t samples, std::uint32_t rate);

}  // namespace ogg
}  // namespace audio_stream

#endif
