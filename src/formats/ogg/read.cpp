#include "read.h"

#include <algorithm>

namespace audio_stream {
namespace ogg {

namespace {

// The codec, from the first page, which holds the identification packet alone (RFC 7845 §3,
// Vorbis I §A.2).
void read_first_page(Pages& pages, Stream& s, Offset at)
{
    Page& first = s.first;
    if (!pages.header_at(at, first) || (first.type() & kBos) == 0) {
        refuse_malformed("not an Ogg stream");
    }
    if (first.segments == 0 || first.completed_packets() != 1 || first.open_packet() || !pages.load(first)) {
        refuse_malformed("bad first Ogg page");
    }
    const auto stream = identify(pages.body(first), first.body);
    if (!stream) {
        refuse_malformed("unsupported Ogg codec");
    }
    s.header = *stream;
    s.serial = first.serial();
    s.opus = stream->codec == Codec::Opus;
}

// The header packets (Vorbis: identification, comment, setup; Opus: OpusHead, OpusTags) end a
// page, and audio starts on the next one (Vorbis I §A.2, RFC 7845 §3).
void read_header_pages(Pages& pages, Stream& s)
{
    const std::size_t needed = s.opus ? 2 : 3;
    std::size_t done = 1;
    s.last_header = s.first;
    while (done < needed) {
        Page p;
        if (!pages.header_at(s.last_header.end(), p)) {
            refuse_malformed("Ogg headers truncated");
        }
        if (p.serial() != s.serial) {
            refuse_malformed("multiplexed Ogg");
        }
        done += p.completed_packets();
        if (done > needed || (done == needed && p.open_packet())) {
            refuse_malformed("Ogg audio shares a page with headers");
        }
        s.last_header = p;
    }
    s.audio_start = s.last_header.end();
    if (!s.opus && pages.load(s.last_header)) {
        // The setup header ends the last header page; its modes are its last bytes.
        const Offset at = s.last_header.body_offset(s.last_header.last_packet_start());
        s.modes = vorbis_modes(pages.body(s.last_header) + at, s.last_header.body - at, s.header.blocksizes);
    }
}

// The first audio page: its granule position less its packets' samples is the granule of the
// stream's first sample (RFC 7845 §4.3; 0 unless the file was itself cut from a stream).
// Vorbis packets' durations need the setup header's modes, so Vorbis streams start at 0.
void read_origin(Pages& pages, Stream& s)
{
    Page& audio = s.audio;
    if (!pages.header_at(s.audio_start, audio)) {
        refuse_past_end();
    }
    if (audio.serial() != s.serial) {
        refuse_malformed("multiplexed Ogg");
    }
    if (s.opus) {
        if (audio.granule() >= kMaxGranule) {
            refuse_malformed("Ogg granule position out of range");  // every time would be past it
        }
        if (!pages.load(audio)) {
            refuse_malformed("bad Ogg page CRC");
        }
        const auto samples = opus_page_samples(pages.body(audio), audio, 0);
        if (samples && audio.granule() >= *samples) {
            s.origin = audio.granule() - *samples;
        }
    }
}

}  // namespace

Stream read_stream(Pages& pages, Offset at)
{
    Stream s;
    read_first_page(pages, s, at);
    read_header_pages(pages, s);
    read_origin(pages, s);
    return s;
}

Tail read_tail(Pages& pages, const Stream& s)
{
    const Offset size = pages.size();
    Tail tail;
    Offset from = std::max(s.audio_start, size > kMaxPage ? size - kMaxPage : 0);
    for (Page p; from < size && pages.find_page(from, size, [](const Page&) { return true; }, p);) {
        // The pages after one found by its capture pattern and CRC follow one another: walk
        // them by their headers. A search from each page would read the rest of the tail once
        // a page, and a tail of many small pages would exhaust the scan budget early.
        do {
            if (p.serial() != s.serial || (p.type() & kBos) != 0) {
                tail.chained_at = p.offset;
                return tail;
            }
            tail.last_granule = p.granule() >= 0 ? p.granule() : tail.last_granule;
            from = p.end();
        } while (pages.header_at(from, p) && pages.verify(p));
    }
    return tail;
}

void refuse_chained(Pages& pages, const Stream& s)
{
    if (const auto at = read_tail(pages, s).chained_at) {
        refuse_unsupported("a chained Ogg file (another stream's page at byte " + std::to_string(*at) + ")");
    }
}

bool last_with_granule(Pages& pages, const Stream& s, const Page& p)
{
    PageWalk walk;
    for (Page q = p; (q.type() & kEos) == 0;) {
        Page next;
        if (!pages.header_at(q.end(), next) || next.serial() != s.serial) {
            return true;
        }
        if (next.granule() >= 0) {
            return false;
        }
        walk.pass();
        q = next;
    }
    return true;
}

Micros granule_micros(std::int64_t samples, std::uint32_t rate)
{
    return samples_to_micros(static_cast<std::uint64_t>(std::max<std::int64_t>(samples, 0)), rate);
}

}  // namespace ogg
}  // namespace audio_stream
