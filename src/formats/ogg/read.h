// Reading an Ogg Vorbis or Ogg Opus stream (RFC 3533, Vorbis I §A.2, RFC 7845 §3): its codec
// from the first page, its header pages, where its audio starts and the granule position of its
// first sample. What a cut, a clip or a layout needs before it looks for a time.
#ifndef AUDIO_STREAM_FORMATS_OGG_READ_H
#define AUDIO_STREAM_FORMATS_OGG_READ_H

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "codec.h"
#include "page.h"

namespace audio_stream {
namespace ogg {

// Every audio page a cut keeps costs two extents (~110 bytes): a walk over the pages of a stream
// passes at most this many, which bounds a cut's memory and the work of a search.
constexpr std::size_t kMaxCutPages = std::size_t{1} << 18;

// Counts the pages a walk passes, and refuses the one after kMaxCutPages (OverBudget, as the
// request's budget: a cost, not a malformation): a cut that held them could not be served, and
// no real stream has that many pages without a granule position past the one sought (a search
// walks only after its bisection, over a few pages).
class PageWalk {
public:
    void pass()
    {
        if (++passed_ > kMaxCutPages) {
            refuse_over_budget("an Ogg cut of more than " + std::to_string(kMaxCutPages) + " pages (the cap)");
        }
    }

private:
    std::size_t passed_ = 0;
};

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

// The stream whose first page is at `at` (a chained file's links after the first start later):
// refuses (Malformed) what is not Ogg, another codec, a multiplexed stream, audio sharing a page
// with the headers; (PastEnd) a stream without an audio page.
Stream read_stream(Pages& pages, Offset at = 0);

// The file's last kMaxPage bytes (a page is at most that long), walked once: where a page of
// another logical stream, or a beginning-of-stream page, starts (a chained file's (RFC 3533 §4)
// last link ends the file; a second link of the same serial number longer than kMaxPage is not
// seen), and the granule position of the stream's last page that carries one before it (-1
// when none does). A damaged page ends a walk; the search goes on after it.
struct Tail {
    std::optional<Offset> chained_at;
    std::int64_t last_granule = -1;
};
Tail read_tail(Pages& pages, const Stream& s);

// Refuses (Unsupported) a chained file (RFC 3533 §4: another logical stream after this one),
// found by a page of another serial number, or a beginning-of-stream page, among the pages of
// the last kMaxPage bytes: a chain's last link ends the file. A cut within the first link would
// be the wrong content (its audio ends where the link does), one across links would need each
// link's headers. A second link of the same serial number longer than kMaxPage is not seen.
void refuse_chained(Pages& pages, const Stream& s);

// Whether p is the last page of the stream that carries a granule position: no page of the
// stream follows it (it is flagged end-of-stream, or the file ends, is damaged, or chains the
// next stream) but pages that carry none (an empty end-of-stream page, the start of a packet a
// truncated file leaves unfinished). Reads their headers only; Malformed past kMaxCutPages.
bool last_with_granule(Pages& pages, const Stream& s, const Page& p);

// A span of granule positions in microseconds; a negative one (a damaged page) counts as 0. A
// damaged page may also carry a granule near 2^63: samples_to_micros saturates.
Micros granule_micros(std::int64_t samples, std::uint32_t rate);

}  // namespace ogg
}  // namespace audio_stream

#endif
