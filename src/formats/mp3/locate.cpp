#include "locate.h"

#include <memory>

namespace audio_stream {
namespace mp3 {

namespace {

// Where frame W's main_data_begin bytes lie: the ends of the frames before it in `run` (whose
// last frame is W), nearest first; what lies before the run is missing. Their bytes are read at
// once, from the window the run leaves (where the scan just read them).
Reservoir find_reservoir(Reader& r, const FrameRun& run)
{
    Reservoir res;
    std::uint32_t need = run.frames.back().main_data_begin;
    res.bytes = need;
    for (auto f = run.frames.rbegin() + 1; need > 0 && f != run.frames.rend(); ++f) {
        const std::uint32_t take = std::min(need, f->main_data);
        res.pieces.push_back({f->offset + f->size - take, take});
        need -= take;
    }
    res.missing = need;
    if (res.in_file()) {
        res.tail.assign(res.missing, '\0');  // what lies before the frames looked at
        for (auto piece = res.pieces.rbegin(); piece != res.pieces.rend(); ++piece) {
            const unsigned char* p = r.at(piece->offset, piece->length);
            if (!p) {
                refuse_malformed("read error");
            }
            res.tail.append(reinterpret_cast<const char*>(p), piece->length);
        }
    }
    return res;
}

// The lead frames' bytes: silent frames at the audio's bitrate, the last ending with frame W's
// reservoir when it is in the file (at a bitrate that holds it).
Offset lead_size(const Stream& s, const Clip& c)
{
    if (c.trim.lead == 0) {
        return 0;
    }
    const unsigned own = bitrate_index_of(s.audio_raw);
    const std::uint32_t tail = c.reservoir.in_file() ? c.reservoir.bytes : 0;
    const unsigned index = bitrate_for(s.audio_raw, own, tail);
    if (index == 0) {
        refuse_malformed("no bitrate holds the bit reservoir");
    }
    return (c.trim.lead - 1) * Offset{size_like(s.audio_raw, own)} + size_like(s.audio_raw, index);
}

// The Xing TOC's points: linear for one bitrate (the bytes are the frames in proportion), else
// where the clip's frame at i% of its frames starts (the lead frames come first; all but the
// last are of `silent` bytes).
std::array<Offset, kTocSize> toc_of(const FrameMap& map, const Clip& c, Offset lead, Offset silent)
{
    std::array<Offset, kTocSize> toc{};
    for (std::size_t i = 0; i < kTocSize; ++i) {
        const std::uint64_t rel = c.frames * i / kTocSize;
        toc[i] = c.constant ? mul_div(c.audio_bytes, i, kTocSize)
                 : rel < c.trim.lead ? rel * silent
                                     : lead + map.offset(c.ends.whole + rel - c.trim.lead) - c.first_offset;
    }
    return toc;
}

// Where frame L ends, if `map` finds it after frame W's offset `first` (CBR: a resync near it
// finds nothing before a short last frame, or disagrees with START's on damage).
std::optional<Offset> end_of(FrameMap& map, std::uint64_t last, Offset first)
{
    const auto run = map.run(last, last);
    if (!run) {
        return std::nullopt;
    }
    const Offset end = run->frames.back().offset + run->frames.back().size;
    return end > first ? std::optional<Offset>(end) : std::nullopt;
}

// The clip through `map`; nullopt when the map cannot find START's frames (CBR: junk or a short
// file where the arithmetic expects them), and only then: the index decides both ends.
std::optional<Clip> locate_in(Reader& r, const Stream& s, FrameMap& map, const Span& span)
{
    if (map.count() == 0) {
        refuse_malformed("no MPEG audio frames after the header frame");
    }
    Clip c;
    c.timeline = timeline_of(s.head, s.tag, map.count());
    c.ends = locate_ends(c.timeline, span);
    // START's frames first, W's reservoir read from their window; END's frame then from the same
    // window when it lies there (CBR: a short clip reads no more than the cut), else from one
    // window more.
    const std::uint64_t w = c.ends.whole;
    const auto start = map.run(w > kReservoirFrames ? w - kReservoirFrames : 0, w);
    if (!start) {
        return std::nullopt;
    }
    const FrameInfo& first = start->frames.back();
    c.first_offset = first.offset;
    c.reservoir = find_reservoir(r, *start);
    const auto end = c.ends.to_the_end ? std::nullopt : end_of(map, c.ends.last, c.first_offset);
    if (!c.ends.to_the_end && !end) {
        // END's frame is not found where START's were (CBR: one of the last three before a short
        // last frame): the clip runs to the end, as where no decoder yields END (locate_ends),
        // and is the cut from START byte for byte. The index would count the frames otherwise
        // than the Info frame and name another body -t<START>; it would also walk the file.
        c.ends = locate_ends(c.timeline, span.start);
    }
    c.audio_end = end ? *end : map.audio_end();
    c.trim = trim_for(c.timeline, c.ends, c.reservoir.in_file());
    c.frames = c.ends.last - w + 1 + c.trim.lead;
    const Offset lead = lead_size(s, c);
    c.audio_bytes = lead + (c.audio_end - c.first_offset);
    c.constant = map.constant(w, c.ends.last);
    c.bitrate_index = first.bitrate_index;
    c.toc = toc_of(map, c, lead, size_like(s.audio_raw, bitrate_index_of(s.audio_raw)));
    return c;
}

}  // namespace

Clip locate(Reader& r, const Stream& s, const Span& span, IndexSource& indexes)
{
    if (s.cbr) {
        CbrFrames cbr(r, s);
        if (auto clip = locate_in(r, s, cbr, span)) {
            return *clip;
        }
    }
    const auto index = stream_index(r, s, indexes);
    IndexedFrames indexed(*index);
    auto clip = locate_in(r, s, indexed, span);
    if (!clip) {
        refuse_malformed("MP3 frames missing from the index");  // never: it holds every frame
    }
    return *clip;
}

}  // namespace mp3
}  // namespace audio_stream
