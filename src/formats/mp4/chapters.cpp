#include "chapters.h"

#include <algorithm>
#include <limits>

#include "caps.h"

namespace audio_stream::mp4 {

std::vector<ChapterSample> chapter_samples(ByteSource& src, const Track& t, Micros from, Micros to)
{
    if (t.samples > kMaxChapters) {
        refuse_malformed("more than " + std::to_string(kMaxChapters) + " chapters (the cap)");
    }
    if (t.edit.present && t.edit.media_time != 0) {
        refuse_unsupported("a chapter track with an edit");
    }
    const std::uint64_t first = sample_at(from, t.timescale);
    // As many whole chapter ticks as fit in [from, to), so that a chapter track (in milliseconds,
    // as a rule) does not outlast the audio it goes with; but one at least, so a clip shorter
    // than a chapter tick has a chapter longer than its audio (the movie's duration, mvhd, is
    // the audio's: locate.h).
    const std::uint64_t last = to == Span::kToTheEnd
                                   ? std::numeric_limits<std::uint64_t>::max()
                                   : first + std::max<std::uint64_t>(1, sample_at(to - from, t.timescale));
    std::vector<ChapterSample> out;
    SampleSizes sizes(src, t.stsz);
    std::uint64_t sample = 0;
    std::uint64_t start = 0;
    // The stts run of `sample` and how many samples of it came before: walked forward once, so
    // runs of no samples (which a table may hold by the million) are passed once, not per sample.
    std::uint32_t entry = 0;
    std::uint64_t used = 0;
    for (ChunkCursor c(t.chunks, 0); c.chunk() < t.chunks.offsets.size(); c.next()) {
        Offset offset = t.chunks.offsets[c.chunk()];
        for (std::uint32_t i = 0; i < c.run().per_chunk; ++i, ++sample) {
            const Offset size = sizes.size(sample);
            for (; entry < t.stts.entries && used == t.stts.count(entry); used = 0) {
                ++entry;
            }
            const std::uint64_t ticks = entry < t.stts.entries ? t.stts.value(entry) : 0;
            ++used;
            const std::uint64_t end = start + ticks;
            if (end > first && start < last) {
                if (size > kMaxChapterSample) {
                    refuse_malformed("a chapter title of more than 4 KiB");
                }
                ChapterSample s{std::string(static_cast<std::size_t>(size), '\0'),
                                std::min(end, last) - std::max(start, first)};
                if (!src.read(offset, s.bytes.data(), s.bytes.size())) {
                    refuse_malformed("a chapter sample past the end of the file");
                }
                out.push_back(std::move(s));
            }
            start = end;
            offset += size;
        }
    }
    return out;
}

// chpl: version, flags, (version 1) 4 reserved bytes, a count, then per chapter its start in
// 100 ns units, a title length and the title.
Chpl read_chpl(const std::string& payload)
{
    const Reader r(payload, "chpl");
    Chpl c;
    const std::size_t head = r.u8(0) == 1 ? 8 : 4;
    r.be_at(0, head);
    c.head = payload.substr(0, head);
    const std::uint32_t n = r.u8(head);
    std::size_t at = head + 1;
    for (std::uint32_t i = 0; i < n; ++i) {
        const std::uint64_t start = r.u64(at);
        const std::size_t len = r.u8(at + 8);
        r.be_at(at + 9, len);
        c.chapters.push_back({start, payload.substr(at + 9, len)});
        at += 9 + len;
    }
    return c;
}

Chpl clip_chpl(const Chpl& c, std::uint64_t from, std::uint64_t to, std::uint64_t end)
{
    Chpl out{c.head, {}};
    for (std::size_t i = 0; i < c.chapters.size(); ++i) {
        const NeroChapter& e = c.chapters[i];
        const std::uint64_t stop = i + 1 < c.chapters.size() ? c.chapters[i + 1].start : end;
        if (stop > from && e.start < to) {
            out.chapters.push_back({e.start > from ? e.start - from : 0, e.title});
        }
    }
    return out;
}

}  // namespace audio_stream::mp4
