#include "ogg.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>

#include "ogg_codec.h"
#include "ogg_page.h"

namespace audio_stream {
namespace ogg {

namespace {

// Below this span the page is found by walking page to page instead of bisecting.
constexpr Offset kWalkSpan = 128 * 1024;
// Every audio page after the cut costs two extents (~110 bytes): this bounds a cut's memory.
constexpr std::size_t kMaxCutPages = std::size_t{1} << 18;
// Times beyond this (about 8.9 years) are past the end of any file and keep the maths in range.
constexpr Micros kLatest = Micros{1} << 48;

// RFC 7845 §4.6: decode at least 80 ms before the target after a seek.
constexpr std::int64_t kOpusPreRoll = 3840;
constexpr std::int64_t kMaxPreSkip = 65535;

// A span of granule positions in microseconds; a negative one (a damaged page) counts as 0. A
// damaged page may also carry a granule near 2^63: samples_to_micros saturates.
Micros granule_micros(std::int64_t samples, std::uint32_t rate)
{
    return samples_to_micros(static_cast<std::uint64_t>(std::max<std::int64_t>(samples, 0)), rate);
}

// What the header pages tell of the stream, and where its audio starts. Each step of a cut below
// returns the Cut that ends it early (Malformed or PastEnd), or nothing to go on.
struct Stream {
    Page first;                // the identification header's page
    StreamHeader header{};
    std::uint32_t serial = 0;
    bool opus = false;
    Page last_header;          // the page on which the header packets end
    Offset audio_start = 0;
    Page audio;                // the first audio page
    std::int64_t origin = 0;   // the granule position of the stream's first sample
};

// The codec, from the first page, and the header pages.
std::optional<Cut> read_headers(Pages& pages, Stream& s)
{
    Page& first = s.first;
    if (!pages.header_at(0, first) || (first.type() & kBos) == 0) {
        return malformed("not an Ogg stream");
    }
    // RFC 7845 §3 and Vorbis I §A.2: the first page holds the identification packet alone.
    if (first.segments == 0 || first.completed_packets() != 1 || first.open_packet() || !pages.load(first)) {
        return malformed("bad first Ogg page");
    }
    const auto stream = identify(pages.body(first), first.body);
    if (!stream) {
        return malformed("unsupported Ogg codec");
    }
    s.header = *stream;
    s.serial = first.serial();
    s.opus = stream->codec == Codec::Opus;

    // The header packets (Vorbis: identification, comment, setup; Opus: OpusHead, OpusTags) end
    // a page, and audio starts on the next one (Vorbis I §A.2, RFC 7845 §3).
    const std::size_t needed = s.opus ? 2 : 3;
    std::size_t done = 1;
    s.last_header = first;
    while (done < needed) {
        Page p;
        if (!pages.header_at(s.last_header.end(), p)) {
            return malformed("Ogg headers truncated");
        }
        if (p.serial() != s.serial) {
            return malformed("multiplexed Ogg");
        }
        done += p.completed_packets();
        if (done > needed || (done == needed && p.open_packet())) {
            return malformed("Ogg audio shares a page with headers");
        }
        s.last_header = p;
    }
    s.audio_start = s.last_header.end();
    return std::nullopt;
}

// The first audio page: its granule position less its packets' samples is the granule of the
// stream's first sample (RFC 7845 §4.3; 0 unless the file was itself cut from a stream).
// Vorbis packets' durations need the setup header's modes, so Vorbis streams start at 0.
std::optional<Cut> read_origin(Pages& pages, Stream& s)
{
    Page& audio = s.audio;
    if (!pages.header_at(s.audio_start, audio) || audio.serial() != s.serial) {
        return pages.header_at(s.audio_start, audio) ? malformed("multiplexed Ogg") : past_end();
    }
    if (s.opus) {
        if (!pages.load(audio)) {
            return malformed("bad Ogg page CRC");
        }
        const auto samples = opus_page_samples(pages, audio, 0);
        if (samples && audio.granule() >= *samples) {
            s.origin = audio.granule() - *samples;
        }
    }
    return std::nullopt;
}

// L: the last page with a granule position <= want. Bisect while the span is large
// (lo is always a page boundary after L, pages from hi on are all past want), then walk.
std::optional<Cut> find_last_before(Pages& pages, const Stream& s, std::int64_t want, std::optional<Page>& before)
{
    Offset lo = s.audio_start;
    Offset hi = pages.size();
    while (hi - lo > kWalkSpan) {
        const Offset mid = lo + (hi - lo) / 2;
        Page q;
        if (!pages.find_granule_page(mid, hi, s.serial, q) || q.granule() > want) {
            hi = mid;
        }
        else {
            before = q;
            lo = q.end();
        }
    }
    if (pages.exhausted()) {
        return malformed("Ogg scan budget exhausted");
    }
    for (Offset pos = lo;;) {
        Page q;
        if (!pages.header_at(pos, q) || q.serial() != s.serial || q.granule() > want) {
            break;
        }
        if (q.granule() >= 0) {
            before = q;
        }
        if (q.type() & kEos) {
            break;
        }
        pos = q.end();
    }
    return std::nullopt;
}

// The cut at the packet that `before` leaves open and `next` continues, at granule(before).
std::optional<Cut> cut_open_packet(Pages& pages, const Stream& s, const Page& before, const Page& next,
                                   std::int64_t want, CutPoint& at)
{
    const auto open = before.open_packet();
    if (!open) {
        return malformed("Ogg continued packet without a start");
    }
    at.page = before;
    at.segment = *open;
    if (!pages.load(before)) {
        return malformed("bad Ogg page CRC");
    }
    if (s.opus) {
        // The open packet may end early in the next page; a later packet there may be closer.
        const Offset x = before.body_offset(*open);
        const std::int64_t d = opus_samples(pages.body(before) + x, before.body - x);
        if (d != 0 && at.granule + d <= want) {
            std::size_t seg = 0;
            while (seg < next.segments && next.lacing(seg) == 255) {
                ++seg;
            }
            if (seg + 1 < next.segments) {
                if (!pages.load(next)) {
                    return malformed("bad Ogg page CRC");
                }
                at.page = next;
                at.segment = seg + 1;
                at.granule += d;
                refine_opus(pages, at, want);
            }
        }
    }
    return std::nullopt;
}

// The cut point: the page after L if it starts a fresh packet, else the packet that L left
// open (RFC 3533 §6: a continued packet cannot start a stream). Either starts at granule(L).
std::optional<Cut> find_cut_point(Pages& pages, const Stream& s, const std::optional<Page>& before,
                                  std::int64_t want, CutPoint& at)
{
    if (!before) {
        at.page = s.audio;
        at.granule = s.origin;
        if (s.opus) {
            if (!pages.load(s.audio)) {
                return malformed("bad Ogg page CRC");
            }
            refine_opus(pages, at, want);
        }
        return std::nullopt;
    }
    Page next;
    if (!pages.header_at(before->end(), next) || next.serial() != s.serial || (before->type() & kEos)) {
        return past_end();
    }
    at.granule = before->granule();
    if ((next.type() & kContinued) != 0) {
        return cut_open_packet(pages, s, *before, next, want, at);
    }
    at.page = next;
    if (s.opus) {
        if (!pages.load(next)) {
            return malformed("bad Ogg page CRC");
        }
        refine_opus(pages, at, want);
    }
    return std::nullopt;
}

// The header pages as they are, but for the Opus pre-skip.
std::optional<Cut> emit_headers(ByteSource& src, const Stream& s, std::int64_t pre_skip, Extents& out)
{
    const Page& first = s.first;
    if (s.opus) {
        // RFC 7845 §5.1: the pre-skip is bytes 10-11 of OpusHead, the first page's only packet.
        Byte old_skip[2];
        Byte new_skip[2];
        if (!src.read(first.header_length() + 10, old_skip, 2)) {
            return malformed("Ogg headers truncated");
        }
        put_le(new_skip, 2, static_cast<std::uint64_t>(pre_skip));
        emit_patched(out, first, first.header_length() + 10, old_skip, new_skip, 2);
        append_file(out, first.end(), s.audio_start - first.end());
    }
    else {
        append_file(out, 0, s.audio_start);
    }
    return std::nullopt;
}

// Audio pages: rebased, renumbered after the headers, the last one flagged end-of-stream.
// Emission lags one page behind the walk so that the last page is known when it is emitted.
// last_granule: the last granule position emitted, -1 if none.
std::optional<Cut> emit_audio(Pages& pages, const Stream& s, const CutPoint& at, Extents& out,
                              std::int64_t& last_granule)
{
    const std::int64_t base = at.granule;
    std::uint32_t sequence = s.last_header.sequence() + 1;
    std::size_t count = 0;
    std::optional<Page> pending;
    auto emit = [&](const Page& p, bool last) {
        Byte type = static_cast<Byte>((p.type() & ~kBos) | (last ? kEos : 0));
        const std::int64_t g = p.granule() < 0 ? -1 : std::max<std::int64_t>(p.granule() - base, 0);
        if (p.offset == at.page.offset && at.segment > 0) {
            // The cut page loses the packets before the cut. It is still in the buffer: nothing
            // is loaded after the cut is chosen.
            emit_trimmed(out, p, pages.body(p), at.segment, type, g, sequence);
        }
        else {
            emit_rebased(out, p, type, g, sequence);
        }
        ++sequence;
        if (p.granule() >= 0) {
            last_granule = p.granule();
        }
    };
    for (Offset pos = at.page.offset;;) {
        Page p;
        if (!pages.header_at(pos, p)) {
            break;  // end of file, a truncated page or trailing bytes: the stream ends here
        }
        if (p.serial() != s.serial) {
            if ((p.type() & kBos) == 0) {
                return malformed("multiplexed Ogg");
            }
            break;  // a chained stream: keep the first
        }
        if (pending) {
            emit(*pending, false);
        }
        if (++count > kMaxCutPages) {
            return malformed("Ogg cut needs too many pages");
        }
        pending = p;
        if (p.type() & kEos) {
            break;
        }
        pos = p.end();
    }
    if (!pending) {
        return past_end();
    }
    emit(*pending, true);
    return std::nullopt;
}

}  // namespace
}  // namespace ogg

Cut cut_ogg(ByteSource& src, Micros t)
{
    using namespace ogg;
    Pages pages(src);
    Stream s;
    if (auto stop = read_headers(pages, s)) {
        return *stop;
    }
    if (auto stop = read_origin(pages, s)) {
        return *stop;
    }

    // Targets as granule positions. Opus: RFC 7845 §4 counts pre-skip in granules, and the cut
    // starts one pre-roll earlier.
    const auto target =
        s.origin + static_cast<std::int64_t>(sample_at(std::min(t, kLatest), s.header.rate)) + s.header.pre_skip;
    const std::int64_t want = s.opus ? target - kOpusPreRoll : target;

    std::optional<Page> before;
    if (auto stop = find_last_before(pages, s, want, before)) {
        return *stop;
    }
    CutPoint at;
    if (auto stop = find_cut_point(pages, s, before, want, at)) {
        return *stop;
    }

    // Opus: the new pre-skip discards the pre-roll so that output starts at the target.
    const std::int64_t base = at.granule;
    const std::int64_t pre_skip = s.opus ? std::clamp<std::int64_t>(target - base, 0, kMaxPreSkip) : 0;

    Cut cut;
    Extents& out = cut.rep.extents;
    if (auto stop = emit_headers(src, s, pre_skip, out)) {
        return *stop;
    }
    std::int64_t last_granule = -1;
    if (auto stop = emit_audio(pages, s, at, out, last_granule)) {
        return *stop;
    }
    if (last_granule < 0 || target >= last_granule) {
        return past_end();
    }

    cut.status = Cut::Status::Ok;
    cut.rep.length = extents_length(out);
    const std::int64_t first_output = base + pre_skip - s.header.pre_skip - s.origin;
    cut.start = granule_micros(first_output, s.header.rate);
    cut.duration = granule_micros(last_granule - base - pre_skip, s.header.rate);
    return cut;
}

AudioLayout layout_ogg(ByteSource& src)
{
    using namespace ogg;
    AudioLayout l{src.size(), 0, src.size(), 0};
    Pages pages(src);
    Stream s;
    if (read_headers(pages, s) || read_origin(pages, s)) {
        return l;
    }
    l.audio_start = s.audio_start;
    // The last page of the stream that carries a granule position: a page is at most kMaxPage.
    const Offset size = src.size();
    Offset from = std::max(s.audio_start, size > kMaxPage ? size - kMaxPage : 0);
    std::int64_t last = -1;
    for (Page p; from < size && pages.find_granule_page(from, size, s.serial, p);) {
        // The pages after one found by its capture pattern and CRC follow one another: walk
        // them by their headers. A search from each page would read the rest of the tail once
        // a page, and a tail of many small pages would exhaust the scan budget early.
        do {
            if (p.serial() == s.serial && p.granule() >= 0) {
                last = p.granule();
            }
            from = p.end();
        } while (pages.header_at(from, p) && pages.load(p));
    }
    if (last > s.origin + s.header.pre_skip) {
        l.duration = granule_micros(last - s.origin - s.header.pre_skip, s.header.rate);
    }
    return l;
}

}  // namespace audio_stream
