#include "locate.h"

#include <algorithm>
#include <utility>

#include "timing.h"

namespace audio_stream {
namespace ogg {

namespace {

// Below this span the page is found by walking page to page instead of bisecting.
constexpr Offset kWalkSpan = 128 * 1024;
// Times beyond this (about 8.9 years) are past the end of any file and keep the maths in range.
constexpr Micros kLatest = Micros{1} << 48;

// RFC 7845 §4.6: decode at least 80 ms before the target after a seek.
constexpr std::int64_t kOpusPreRoll = 3840;
// RFC 6716 §3.2.5: an Opus packet lasts at most 120 ms.
constexpr std::int64_t kMaxOpusPacket = 5760;
constexpr std::int64_t kMaxPreSkip = 65535;

// A time as a granule position of the stream, counting its sample `sample` (RFC 7845 §4: Opus
// granule positions count the pre-skip too).
std::int64_t granule_of(const Stream& s, std::uint64_t sample)
{
    return s.origin + static_cast<std::int64_t>(sample) + s.header.pre_skip;
}

// Where a search looks: from lo, a page boundary after `before` (the last page known to carry a
// granule position <= want), to hi, from which all pages are past want.
struct Bracket {
    Offset lo = 0;
    Offset hi = 0;
    std::optional<Page> before;
};

struct Search {
    std::optional<Page> before;  // the last page with a granule position <= want
    std::optional<Page> after;   // the first page after it with one > want, if the stream has one
    std::vector<Probe> probes;   // the pages the bisection found
};

// Bisects the bracket while it is large, then walks page to page.
Search find_last_before(Pages& pages, const Stream& s, Bracket b, std::int64_t want)
{
    Search found;
    while (b.hi - b.lo > kWalkSpan) {
        const Offset mid = b.lo + (b.hi - b.lo) / 2;
        Page q;
        const bool hit = pages.find_granule_page(mid, b.hi, s.serial, q);
        if (hit) {
            found.probes.push_back(Probe{mid, q});
        }
        if (!hit || q.granule() > want) {
            b.hi = mid;
        }
        else {
            b.before = q;
            b.lo = q.end();
        }
    }
    if (pages.exhausted()) {
        refuse_malformed("Ogg scan budget exhausted");
    }
    found.before = b.before;
    // The walk passes few pages after a bisection, but any number from a bracket it did not
    // narrow (an Opus clip's END, from the cut's first page): it is capped as writing is.
    PageWalk walk;
    for (Offset pos = b.lo;;) {
        Page q;
        if (!pages.header_at(pos, q) || q.serial() != s.serial) {
            return found;
        }
        walk.pass();
        if (q.granule() > want) {
            found.after = q;
            return found;
        }
        if (q.granule() >= 0) {
            found.before = q;
        }
        if (q.type() & kEos) {
            return found;
        }
        pos = q.end();
    }
}

// The bracket narrowed by what another search's bisection found: a page at or before want
// raises lo, one past it lowers hi to where its search began (granule positions only grow).
Bracket narrowed(Bracket b, const std::vector<Probe>& probes, std::int64_t want)
{
    for (const Probe& p : probes) {
        if (p.page.granule() > want) {
            b.hi = std::min(b.hi, p.from);
        }
        else if (p.page.end() > b.lo) {
            b.lo = p.page.end();
            b.before = p.page;
        }
    }
    b.hi = std::max(b.hi, b.lo);  // a damaged file's granule positions may not grow
    return b;
}

// Opus: the last packet of the loaded page, from at.segment on, that starts at or before `want`.
// Starts add up packet durations (RFC 6716 §3.1); when they do not add up to the page's granule
// position the cut stays where it is, only further from the target.
CutPoint refine_opus(const Pages& pages, CutPoint at, std::int64_t want)
{
    const Page& page = at.page;
    const Byte* body = pages.body(page);
    const auto samples = opus_page_samples(body, page, at.segment);
    if (!samples || (page.granule() >= 0 && at.granule + *samples != page.granule())) {
        return at;
    }
    CutPoint best = at;
    std::int64_t start = at.granule;
    for (const Packet& k : packets(page, at.segment)) {
        if (start > want) {
            break;
        }
        best.segment = k.first;
        best.granule = start;
        start += k.complete ? opus_samples(body + k.offset, k.length) : 0;
    }
    return best;
}

void load_or_refuse(Pages& pages, const Page& p)
{
    if (!pages.load(p)) {
        refuse_malformed("bad Ogg page CRC");
    }
}

// The cut at the packet that `before` leaves open and `next` continues, at granule(before).
CutPoint cut_open_packet(Pages& pages, const Stream& s, const Page& before, const Page& next, std::int64_t want)
{
    const auto open = before.open_packet();
    if (!open) {
        refuse_malformed("Ogg continued packet without a start");
    }
    const CutPoint at{before, *open, before.granule()};
    load_or_refuse(pages, before);
    if (!s.opus) {
        return at;
    }
    // Opus: the open packet may end early in the next page; a later packet there may be closer.
    const Offset x = before.body_offset(*open);
    const std::int64_t d = opus_samples(pages.body(before) + x, before.body - x);
    const auto rest = packets(next);
    if (d == 0 || at.granule + d > want || rest.size() < 2) {
        return at;
    }
    load_or_refuse(pages, next);
    return refine_opus(pages, CutPoint{next, rest[1].first, at.granule + d}, want);
}

// The cut point: the page after `before` if it starts a fresh packet, else the packet that
// `before` left open (RFC 3533 §6: a continued packet cannot start a stream). Either starts at
// granule(before).
CutPoint find_cut_point(Pages& pages, const Stream& s, const std::optional<Page>& before, std::int64_t want)
{
    CutPoint at{s.audio, 0, s.origin};
    if (before) {
        Page next;
        if (!pages.header_at(before->end(), next) || next.serial() != s.serial || (before->type() & kEos)) {
            refuse_past_end();
        }
        if (next.type() & kContinued) {
            return cut_open_packet(pages, s, *before, next, want);
        }
        at = CutPoint{next, 0, before->granule()};
    }
    if (!s.opus) {
        return at;
    }
    load_or_refuse(pages, at.page);
    return refine_opus(pages, at, want);
}

// Vorbis: moves a cut that starts fresh at its page to the packet on that page whose decoded
// output ends last at or before `target` (and before the page's end, so that the page still ends
// after the cut's start): the decoder's first output, the end of that primed packet, is then
// within a packet of the target even for players that do not trim, and the first page carries
// fewer packets.
CutPoint refine_vorbis(Pages& pages, const Stream& s, const std::optional<Page>& before, CutPoint at,
                       std::int64_t target)
{
    if (at.segment != 0 || at.page.granule() <= target) {
        return at;
    }
    const auto ends = packet_ends(pages, s, at.page, before);
    if (!ends) {
        return at;
    }
    CutPoint best = at;
    for (std::size_t j = 0; j < ends->size() && (*ends)[j].end <= target; ++j) {
        // This packet can prime the next if that starts on the page.
        if ((*ends)[j].packet.stop < at.page.segments) {
            best.segment = (*ends)[j].packet.first;
            best.granule = j == 0 ? at.granule : (*ends)[j - 1].end;
        }
    }
    return best;
}

// `probes`: what an earlier search found, which narrows this one.
Start locate_start(Pages& pages, const Stream& s, std::int64_t target, const std::vector<Probe>& probes)
{
    Start r;
    r.target = target;
    // Opus starts one pre-roll earlier. Vorbis: the first packet of a cut only primes the
    // decoder, whose output begins at the end of what it would have yielded, up to half a long
    // block (blocksize_1 / 4 + blocksize_1 / 4) after the granule position of the page before
    // (Vorbis I §A.2). So that page is the last at least that far before the target, and the
    // first page's granule position trims what comes before the target.
    const std::int64_t want = s.opus ? target - kOpusPreRoll : target - s.header.long_block / 2;
    const Bracket stream{s.audio_start, pages.size(), std::nullopt};
    Search found = find_last_before(pages, s, narrowed(stream, probes, want), want);
    r.before = found.before;
    r.probes = std::move(found.probes);
    r.at = find_cut_point(pages, s, r.before, want);
    if (!s.opus) {
        r.at = refine_vorbis(pages, s, r.before, r.at, target);
    }
    // Opus: the new pre-skip discards the pre-roll so that output starts at the target.
    r.pre_skip = s.opus ? std::clamp<std::int64_t>(target - r.at.granule, 0, kMaxPreSkip) : 0;
    return r;
}

}  // namespace

std::optional<End> end_on(Pages& pages, const Stream& s, const Clip& clip, const Page& page,
                          const std::optional<Page>& before)
{
    const std::int64_t granule = clip.end.value_or(0);
    // END at the stream's last granule position: the cut from START, with the pages after that
    // carry none (they end no packet, RFC 3533 §6).
    if (granule >= page.granule() && last_with_granule(pages, s, page)) {
        return std::nullopt;
    }
    const auto ends = packet_ends(pages, s, page, before);
    if (!ends) {
        // The packets cannot be timed (not the codec's, or a short block after one whose start is
        // on no page at hand): the clip keeps every packet that ends on the page, with END's
        // granule position. Nothing before END is lost and the headers still say END; a decoder
        // that trims only the last packet plays on to the page's end, at most.
        const auto open = page.open_packet();
        return End{page, page.last_packet_start(), open ? *open : page.segments, std::nullopt, granule};
    }
    std::size_t j = 0;
    while (j + 1 < ends->size() && (*ends)[j].end < granule) {
        ++j;
    }
    // The packet before END's ends on this page, or is the last to end before it.
    const std::int64_t starts = j > 0 ? (*ends)[j - 1].end : before ? before->granule() : s.origin;
    const CutPoint& at = clip.start.at;
    if (page.offset == at.page.offset && (*ends)[j].packet.stop <= at.segment) {
        refuse_malformed("Ogg granule positions out of order");
    }
    return End{page, (*ends)[j].packet.first, (*ends)[j].packet.stop, starts, granule};
}

Clip locate(Pages& pages, const Stream& s, const Span& span)
{
    const std::uint32_t rate = s.header.rate;
    Clip c{locate_start(pages, s, granule_of(s, sample_at(std::min(span.start, kLatest), rate)), {}), std::nullopt};
    if (span.open() || span.end > kLatest) {
        return c;  // an END past any file's end: the cut from START
    }
    c.end = granule_of(s, samples_before(span.end, rate));
    if (!s.opus || *c.end - c.start.target > kMaxOpusPacket) {
        return c;
    }
    // Opus, START and END in one packet that is not the cut's first: what remains of the
    // pre-skip would fall on the packet that carries the end trim, and ffmpeg cancels it there
    // (the trim's side data sets the samples still to skip, to 0). So the output starts where
    // that packet does, after a pre-roll of its own: the pre-skip ends before it. END's page is
    // then a page or two after the cut's first: the walk that ends a search finds it (in a
    // damaged stream, whose pages carry no granule position or too small ones, it refuses where
    // writing the clip would).
    const Bracket here{c.start.at.page.offset, c.start.at.page.offset, c.start.before};
    const Search found = find_last_before(pages, s, here, *c.end - 1);
    const auto e = found.after ? end_on(pages, s, c, *found.after, found.before) : std::nullopt;
    const std::int64_t starts = e && e->starts ? *e->starts : c.start.target;
    if (starts < c.start.target && starts > c.start.at.granule && starts >= s.origin + s.header.pre_skip) {
        c.start = locate_start(pages, s, starts, c.start.probes);
    }
    return c;
}

End last_page_end(Pages& pages, const Stream& s, const Page& page, const std::optional<Page>& before)
{
    End e{page, page.last_packet_start(), page.segments, std::nullopt, page.granule()};
    if (page.open_packet()) {
        return e;  // a truncated stream: its last packet never ends
    }
    const auto ends = packet_ends(pages, s, page, before);
    if (ends && ends->size() >= 2) {
        e.starts = (*ends)[ends->size() - 2].end;
    }
    return e;
}

}  // namespace ogg
}  // namespace audio_stream
