#include "write.h"

#include <algorithm>

namespace audio_stream {
namespace ogg {

namespace {

// The header pages as they are, but for the Opus pre-skip.
void write_headers(ByteSource& src, const Stream& s, std::int64_t pre_skip, Extents& out)
{
    const Page& first = s.first;
    if (!s.opus) {
        append_file(out, 0, s.audio_start);
        return;
    }
    // RFC 7845 §5.1: the pre-skip is bytes 10-11 of OpusHead, the first page's only packet.
    Byte old_skip[2];
    Byte new_skip[2];
    if (!src.read(first.header_length() + 10, old_skip, 2)) {
        refuse_malformed("Ogg headers truncated");
    }
    put_le(new_skip, 2, static_cast<std::uint64_t>(pre_skip));
    emit_patched(out, first, Patch{first.header_length() + 10, old_skip, new_skip, 2});
    append_file(out, first.end(), s.audio_start - first.end());
}

// Lacing values [from, to) of a page, the packets ending there ending at `granule` (on the
// original's timeline; -1: none).
struct Part {
    std::size_t from = 0;
    std::size_t to = 0;
    std::int64_t granule = -1;
};

// The audio pages, one at a time: rebased (the base is the granule position that becomes 0),
// renumbered after the headers, the last one flagged end-of-stream.
class AudioWriter {
public:
    AudioWriter(Pages& pages, const Stream& s, const Start& start, Extents& out)
        : pages_(pages), s_(s), start_(start), out_(out), sequence_(s.last_header.sequence() + 1)
    {
        if (s.opus) {
            base_ = start.at.granule;  // the pre-skip then counts from the cut's first packet
        }
    }

    // A page before the last.
    void page(const Page& p) { put(p, Part{first_segment(p), p.segments, p.granule()}, false); }

    // The last page, through END's packet (e.stop) and with END's granule position. Vorbis, when
    // it is also the first page with a granule position (no base yet): decoders time the start
    // from the first such page and trim the end to the last one's (Vorbis I §A.2; ffmpeg skips
    // the first when it is the last), so the page is split before END's packet, which alone
    // carries the end; a packet before it on the page ends where it starts. That granule position
    // is the split's, not the original's: the base goes one sample before it, to -1 when it is 0
    // (the stream's first packet ends there), so that it is never 0 (ogginfo calls a page at 0 a
    // buggy encoder's). When that part holds only the packet that primes the decoder, decoders
    // start one sample after the base: the clip's start and duration count that sample too.
    void last(const Page& p, const End& e)
    {
        const std::size_t from = first_segment(p);
        if (!s_.opus && !base_ && e.starts && e.packet > from) {
            base_ = std::min(start_.target, *e.starts - 1);
            put(p, Part{from, e.packet, *e.starts}, false);
            put(p, Part{e.packet, e.stop, e.granule}, true);
            return;
        }
        put(p, Part{from, e.stop, e.granule}, true);
    }

    // The last page of a cut to the end of the stream: whole, its last packet placed when the
    // page may need splitting.
    End end_of(const Page& p)
    {
        return base_ ? End{p, 0, p.segments, std::nullopt, p.granule()} : last_page_end(pages_, s_, p, start_.before);
    }

    std::int64_t base() const { return base_.value_or(start_.at.granule); }
    std::int64_t last_granule() const { return last_granule_; }

private:
    // The cut's first page loses the packets before the cut.
    std::size_t first_segment(const Page& p) const
    {
        return p.offset == start_.at.page.offset ? start_.at.segment : 0;
    }

    // Vorbis: the base is fixed at the first page that carries a granule position, as the target,
    // or less when that page ends before it (it ended within half a long block before the
    // target): one sample before the page's end, so that its rebased granule position is still
    // positive (a first page at 0 reads as a broken file to ffmpeg, which then times nothing, and
    // ogginfo calls it a buggy encoder's). The first page's rebased granule position is then
    // lower than the samples decoded from it, which tells decoders to discard those before the
    // target (Vorbis I §A.2). But not below 0: a stream's first page that ends at 0 (its first
    // packet alone) keeps its 0, as the original has it, and the cut from 0 is the file.
    std::int64_t rebase(std::int64_t granule)
    {
        if (!base_) {
            base_ = std::clamp<std::int64_t>(granule - 1, 0, start_.target);
        }
        return std::max<std::int64_t>(granule - *base_, 0);
    }

    void put(const Page& p, const Part& part, bool eos)
    {
        bool completes = false;
        for (std::size_t i = part.from; i < part.to; ++i) {
            completes = completes || p.lacing(i) < 255;
        }
        const std::int64_t g = completes && part.granule >= 0 ? rebase(part.granule) : -1;
        const auto type = static_cast<Byte>((p.type() & ~(kBos | kEos)) | (eos ? kEos : 0));
        const Fields fields{type, g, sequence_++};
        if (part.from == 0 && part.to == p.segments) {
            emit_rebased(out_, p, fields);
        }
        else {
            if (!pages_.load(p)) {
                refuse_malformed("bad Ogg page CRC");
            }
            emit_part(out_, p, pages_.body(p), Lacing{part.from, part.to}, fields);
        }
        if (g >= 0) {
            last_granule_ = part.granule;
        }
    }

    Pages& pages_;
    const Stream& s_;
    const Start& start_;
    Extents& out_;
    std::optional<std::int64_t> base_;
    std::uint32_t sequence_;
    std::int64_t last_granule_ = -1;
};

// The audio pages from the cut's first packet: through END's page for a clip (true), else to the
// stream's end (false; also when END is at or past it). END's page is the first whose granule
// position is at or after END's. Emission lags one page behind the walk so that the last page is
// known when it is emitted.
bool write_audio(Pages& pages, const Stream& s, const Clip& clip, AudioWriter& w)
{
    std::optional<Page> pending;
    std::optional<Page> before = clip.start.before;  // the last page walked with a granule position
    PageWalk walk;
    for (Offset pos = clip.start.at.page.offset;;) {
        Page p;
        if (!pages.header_at(pos, p)) {
            break;  // end of file, a truncated page or trailing bytes: the stream ends here
        }
        if (p.serial() != s.serial) {
            if ((p.type() & kBos) == 0) {
                refuse_malformed("multiplexed Ogg");
            }
            break;  // a chained stream: keep the first
        }
        walk.pass();
        if (p.segments == 0 && p.granule() < 0 && (p.type() & kEos) == 0) {
            pos = p.end();
            continue;  // a page of no packets says nothing: the cut leaves it out
        }
        if (pending) {
            w.page(*pending);
        }
        const auto end = clip.end && p.granule() >= *clip.end ? end_on(pages, s, clip, p, before) : std::nullopt;
        if (end) {
            w.last(p, *end);
            return true;
        }
        before = p.granule() >= 0 ? p : before;
        pending = p;
        if (p.type() & kEos) {
            break;
        }
        pos = p.end();
    }
    if (!pending) {
        refuse_past_end();
    }
    w.last(*pending, w.end_of(*pending));
    return false;
}

// A cut from START (not a clip, whose end is not known here) reserves two extents a page for the
// pages the rest of the file holds if they are the size of the stream's first audio page
// (kMaxCutPages at most) and a sixteenth more (untouched, a reserve costs address space only): a
// cut of many pages is then not copied as its vector grows, which held twice its extents for a
// moment. A reserve far off (pages that grow) is given back once the cut is written.
void reserve_pages(Extents& out, const Pages& pages, const Stream& s, const Clip& clip)
{
    if (clip.end) {
        return;
    }
    const Offset rest = pages.size() - std::min(pages.size(), clip.start.at.page.offset);
    const Offset per_page = std::max<Offset>(s.audio.length(), kFixedHeader + 1);
    const auto estimate = static_cast<std::size_t>(std::min<Offset>(rest / per_page, kMaxCutPages));
    out.reserve(2 * (estimate + estimate / 16) + 8);  // and a sixteenth: one more page doubles it
}

}  // namespace

Cut write_cut(Pages& pages, ByteSource& src, const Stream& s, const Clip& clip)
{
    const Start& start = clip.start;
    Cut cut;
    Extents& out = cut.rep.extents;
    reserve_pages(out, pages, s, clip);
    write_headers(src, s, start.pre_skip, out);
    AudioWriter w(pages, s, start, out);
    const bool clipped = write_audio(pages, s, clip, w);
    if (out.capacity() > out.size() + out.size() / 4 + 64) {
        out.shrink_to_fit();
    }
    if (w.last_granule() < 0 || start.target >= w.last_granule()) {
        refuse_past_end();
    }
    if (clipped && w.last_granule() < *clip.end) {
        // END's page ended no packet at or after END (a damaged page: a granule position on a
        // page that ends no packet, RFC 3533 §6): the audio ends before END, so the span is the
        // cut from START, byte for byte and by name.
        return write_cut(pages, src, s, Clip{start, std::nullopt});
    }
    const std::uint32_t rate = s.header.rate;
    cut.status = Cut::Status::Ok;
    cut.rep.length = extents_length(out);
    const std::int64_t first_output = w.base() + start.pre_skip - s.header.pre_skip - s.origin;
    cut.start = granule_micros(first_output, rate);
    cut.duration = granule_micros(w.last_granule() - w.base() - start.pre_skip, rate);
    // A clip ends at its last granule position on the original's timeline: END's sample.
    cut.end = clipped ? granule_micros(w.last_granule() - s.origin - s.header.pre_skip, rate) : Span::kToTheEnd;
    return cut;
}

}  // namespace ogg
}  // namespace audio_stream
