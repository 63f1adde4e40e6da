#include "ogg.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>

#include "codec.h"
#include "page.h"

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
    std::optional<VorbisModes> modes;  // Vorbis, when the setup header's end is on its last page
};

// The first segment of the last packet that ends on the page (0 when it began on an earlier one).
std::size_t last_packet_start(const Page& p)
{
    std::size_t i = p.segments;
    while (i > 0 && p.lacing(i - 1) == 255) {
        --i;
    }
    // i - 1 is the last packet's final segment; its start follows the packet before it.
    std::size_t start = i > 0 ? i - 1 : 0;
    while (start > 0 && p.lacing(start - 1) == 255) {
        --start;
    }
    return start;
}

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
    if (!s.opus && pages.load(s.last_header)) {
        // The setup header ends the last header page; its modes are its last bytes.
        const Offset at = s.last_header.body_offset(last_packet_start(s.last_header));
        s.modes = vorbis_modes(pages.body(s.last_header) + at, s.last_header.body - at, s.header.blocksizes);
    }
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

// Vorbis: where to split the last page of a cut when it is also its first page with a granule
// position: before its last packet (`segment`), and the granule position at the end of the
// packets before (`granule`). Packet durations: blocksize / 4 of the packet and of the one
// before (Vorbis I §A.2); the first packet's is 0 at the stream's start, else its previous
// block comes from its own window flag (long blocks) or from `previous`. The page is loaded.
struct Split {
    std::size_t segment = 0;
    std::int64_t granule = 0;
};

std::optional<Split> split_last_page(const Pages& pages, const Stream& s, const Page& p, std::size_t from,
                                     std::int64_t granule, std::optional<VorbisBlock> continued,
                                     std::optional<std::int64_t> previous, bool from_start)
{
    if (!s.modes || p.open_packet()) {
        return std::nullopt;
    }
    std::int64_t end = granule;
    std::optional<std::int64_t> last_end;
    std::size_t last_start = 0;
    std::size_t count = 0;
    Offset offset = p.body_offset(from);
    std::size_t seg = from;
    auto add = [&](const VorbisBlock& block) {
        const std::optional<std::int64_t> before = block.previous ? block.previous : previous;
        if (count > 0 || !from_start) {
            if (!before) {
                return false;
            }
            last_end = end;
            end += (*before + block.size) / 4;
        }
        previous = block.size;
        ++count;
        return true;
    };
    if (continued) {
        // The cut's first packet began on the page before and ends on this one.
        while (seg < p.segments && p.lacing(seg) == 255) {
            offset += 255;
            ++seg;
        }
        if (seg == p.segments || !add(*continued)) {
            return std::nullopt;
        }
        offset += p.lacing(seg);
        ++seg;
    }
    while (seg < p.segments) {
        std::size_t e = seg;
        Offset length = 0;
        while (p.lacing(e) == 255) {
            length += 255;
            ++e;
        }
        length += p.lacing(e);
        const auto block = vorbis_block(*s.modes, pages.body(p) + offset, length);
        if (!block || !add(*block)) {
            return std::nullopt;
        }
        last_start = seg;
        offset += length;
        seg = e + 1;
    }
    if (count < 2 || !last_end || last_start == from) {
        return std::nullopt;
    }
    return Split{last_start, *last_end};
}

// Vorbis: moves a cut that starts fresh at its page (at.segment 0) to the packet on that page
// whose decoded output ends last at or before `target` (and before the page's end, so that the
// page still ends after the cut's start): the decoder's first output, the end of that primed
// packet, is then within a packet of the target even for players that do not trim, and the
// first page carries fewer packets. Durations as in split_last_page; `previous` becomes the
// block size of the packet before the new first one. The page is loaded.
void refine_vorbis(const Pages& pages, const Stream& s, CutPoint& at, std::int64_t target,
                   std::optional<std::int64_t>& previous)
{
    const Page& p = at.page;
    if (!s.modes || at.segment != 0 || p.granule() <= target) {
        return;
    }
    const bool from_start = p.offset == s.audio_start;
    std::optional<std::int64_t> before = previous;
    std::int64_t start = at.granule;  // the granule position where the packet at seg starts
    Offset offset = 0;
    std::size_t count = 0;
    for (std::size_t seg = 0; seg < p.segments;) {
        std::size_t e = seg;
        Offset length = 0;
        while (e < p.segments && p.lacing(e) == 255) {
            length += 255;
            ++e;
        }
        if (e == p.segments) {
            return;  // the last packet goes on to the next page
        }
        length += p.lacing(e);
        const auto block = vorbis_block(*s.modes, pages.body(p) + offset, length);
        if (!block) {
            return;
        }
        const std::optional<std::int64_t> prior = block->previous ? block->previous : before;
        std::int64_t end = start;
        if (count > 0 || !from_start) {
            if (!prior) {
                return;
            }
            end += (*prior + block->size) / 4;
        }
        if (end > target) {
            return;  // this packet yields past the target: the one before primes it
        }
        if (e + 1 < p.segments) {
            // This packet can prime the next, which starts on the page.
            at.segment = seg;
            at.granule = start;
            previous = before;
        }
        before = block->size;
        start = end;
        offset += length;
        seg = e + 1;
        ++count;
    }
}

// Whether a packet ends on the page from lacing value `segment` on.
bool completes_from(const Page& p, std::size_t segment)
{
    for (std::size_t i = segment; i < p.segments; ++i) {
        if (p.lacing(i) < 255) {
            return true;
        }
    }
    return false;
}

// Audio pages: rebased by `base` (the granule position that becomes 0), renumbered after the
// headers, the last one flagged end-of-stream. Emission lags one page behind the walk so that
// the last page is known when it is emitted. last_granule: the last granule position emitted,
// -1 if none.
//
// Vorbis (trim_to set): base is fixed at the first page that carries a granule position, as
// trim_to, or less when that page ends before it (it ended within half a long block before
// trim_to): one sample before the page's end, so that its rebased granule position is still
// positive (a first page at 0 reads as a broken file to ffmpeg, which then times nothing).
//
// Vorbis again: when that first page is also the last, decoders read its granule position as
// trimming at the end instead (Vorbis I §A.2), so it is split before its last packet, which
// alone carries the end (previous: the block size of the packet before the cut's first).
std::optional<Cut> emit_audio(Pages& pages, const Stream& s, const CutPoint& at, Extents& out,
                              std::int64_t& last_granule, std::int64_t& base, std::optional<std::int64_t> trim_to,
                              std::optional<std::int64_t> previous)
{
    bool based = !trim_to;
    base = at.granule;
    std::optional<VorbisBlock> continued;
    std::uint32_t sequence = s.last_header.sequence() + 1;
    std::size_t count = 0;
    std::optional<Page> pending;
    auto emit = [&](const Page& p, bool last) {
        Byte type = static_cast<Byte>((p.type() & ~kBos) | (last ? kEos : 0));
        const bool trimmed = p.offset == at.page.offset && at.segment > 0;
        if (!based && trimmed && !completes_from(p, at.segment) && s.modes) {
            // The cut's first packet goes on to the next page: its block, while it is loaded.
            const Offset off = p.body_offset(at.segment);
            continued = vorbis_block(*s.modes, pages.body(p) + off, p.body - off);
        }
        const bool first_part = p.offset == at.page.offset || continued;
        if (!based && last && first_part && pages.load(p)) {
            const bool from_start = at.page.offset == s.audio_start && at.segment == 0;
            const std::size_t from = p.offset == at.page.offset ? at.segment : 0;
            const auto split = split_last_page(pages, s, p, from, at.granule,
                                               p.offset == at.page.offset ? std::nullopt : continued, previous,
                                               from_start);
            if (split) {
                base = std::min(*trim_to, split->granule - 1);
                based = true;
                emit_part(out, p, pages.body(p), from, split->segment, static_cast<Byte>(type & ~kEos),
                          split->granule - base, sequence++);
                emit_part(out, p, pages.body(p), split->segment, p.segments, type, p.granule() - base, sequence++);
                last_granule = p.granule();
                return;
            }
        }
        if (!based && p.granule() >= 0 && completes_from(p, trimmed ? at.segment : 0)) {
            base = std::min(*trim_to, p.granule() - 1);
            based = true;
        }
        const std::int64_t g = p.granule() < 0 ? -1 : std::max<std::int64_t>(p.granule() - base, 0);
        if (trimmed) {
            // The cut page loses the packets before the cut. It is still in the buffer: it is
            // the last page loaded before emission (a split loads only the last page).
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

Cut cut_ogg(ByteSource& src, const Span& span)
{
    const Micros t = span.start;
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
    // Vorbis: a cut starts where a decoder's output begins at or before the target, and the
    // first page's granule position trims what comes before it (Vorbis I §A.2). The first
    // packet of a cut only primes the decoder: output begins at the end of what it would have
    // yielded, up to half a long block (blocksize_1 / 4 + blocksize_1 / 4) after the granule
    // position of the page before. So that page is the last at least that far before the target.
    const auto target =
        s.origin + static_cast<std::int64_t>(sample_at(std::min(t, kLatest), s.header.rate)) + s.header.pre_skip;
    const std::int64_t want = s.opus ? target - kOpusPreRoll : target - s.header.long_block / 2;

    std::optional<Page> before;
    if (auto stop = find_last_before(pages, s, want, before)) {
        return *stop;
    }
    CutPoint at;
    if (auto stop = find_cut_point(pages, s, before, want, at)) {
        return *stop;
    }

    // Opus: the new pre-skip discards the pre-roll so that output starts at the target.
    const std::int64_t pre_skip = s.opus ? std::clamp<std::int64_t>(target - at.granule, 0, kMaxPreSkip) : 0;

    Cut cut;
    Extents& out = cut.rep.extents;
    if (auto stop = emit_headers(src, s, pre_skip, out)) {
        return *stop;
    }
    std::int64_t last_granule = -1;
    std::int64_t base = at.granule;
    const auto trim_to = s.opus ? std::nullopt : std::optional<std::int64_t>(target);
    std::optional<std::int64_t> previous;
    if (!s.opus && s.modes && before && pages.load(*before)) {
        // The block size of the last packet before the cut's first, should the last page be
        // split. `before` is the cut page or the page before it (then not needed in memory).
        const std::size_t start = last_packet_start(*before);
        const Offset off = before->body_offset(start);
        if (before->completed_packets() > 0 && !(start == 0 && (before->type() & kContinued))) {
            if (const auto b = vorbis_block(*s.modes, pages.body(*before) + off, before->body - off)) {
                previous = b->size;
            }
        }
    }
    if (!s.opus && pages.load(at.page)) {
        refine_vorbis(pages, s, at, target, previous);
    }
    if (auto stop = emit_audio(pages, s, at, out, last_granule, base, trim_to, previous)) {
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
