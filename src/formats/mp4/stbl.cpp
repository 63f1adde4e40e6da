#include "stbl.h"

#include <algorithm>
#include <cstdint>
#include <utility>

namespace audio_stream::mp4 {

namespace {

constexpr std::uint64_t kMax32 = 0xFFFFFFFFu;

// The runs of a Runs table (stts, ctts, sbgp) over samples [first, last): the run holding
// `first` from it on, the whole runs after it as a copy of the file's table, and the run
// holding `last` up to it. A table that covers fewer samples keeps what it covers.
void write_runs(Out& out, const Runs& r, std::uint64_t first, std::uint64_t last)
{
    const RunsAt a = runs_at(r, first);
    const RunsAt b = runs_at(r, last);
    const std::uint32_t before_last = b.entry < r.entries ? r.count(b.entry) - b.left : 0;
    const auto m = out.w.open(r.box.type);
    out.w.bytes(r.payload.substr(0, r.header - 4));
    if (a.entry == r.entries) {
        out.w.put32(0);
    }
    else if (a.entry == b.entry) {
        out.w.put32(1);
        out.w.put32(last - first);
        out.w.put32(r.value(a.entry));
    }
    else {
        const std::uint32_t whole = b.entry - a.entry - 1;
        out.w.put32(1 + whole + (before_last > 0 ? 1 : 0));
        out.w.put32(a.left);
        out.w.put32(r.value(a.entry));
        copy_bytes(out.walk.src(), out.w, r.file_at(a.entry + 1), Offset{8} * whole);
        if (before_last > 0) {
            out.w.put32(before_last);
            out.w.put32(r.value(b.entry));
        }
    }
    out.w.close(m);
}

// stsc (§8.7.4) of the kept chunks: the first less the samples before `first`, the ones kept
// whole as the file describes them, the last holding the samples up to `last`.
void write_stsc(Out& out, const Track& t, const ChunkSpan& c)
{
    const ChunkCursor first(t.chunks, c.first_chunk);
    const ChunkCursor last(t.chunks, c.last_chunk);
    const bool last_whole = c.kept_in_last == last.run().per_chunk;
    const std::uint64_t whole_end = last_whole ? c.last_chunk + 1 : c.last_chunk;  // chunks kept whole
    const std::uint32_t in_first = (c.first_chunk == c.last_chunk ? c.kept_in_last : first.run().per_chunk) - c.dropped;
    std::vector<Stsc> runs{{0, in_first, first.run().description}};
    if (c.first_chunk + 1 < whole_end) {
        const ChunkCursor second(t.chunks, c.first_chunk + 1);
        runs.push_back({1, second.run().per_chunk, second.run().description});
        for (const Stsc& r : t.chunks.runs) {
            if (r.first_chunk > c.first_chunk + 1 && r.first_chunk < whole_end) {
                runs.push_back({static_cast<std::uint32_t>(r.first_chunk - c.first_chunk), r.per_chunk, r.description});
            }
        }
    }
    if (!last_whole && c.last_chunk > c.first_chunk) {
        runs.push_back({static_cast<std::uint32_t>(c.last_chunk - c.first_chunk), c.kept_in_last,
                        last.run().description});
    }
    const auto m = out.w.open("stsc");
    out.w.put32(0);
    out.w.put32(runs.size());
    for (const Stsc& e : runs) {
        out.w.put32(e.first_chunk + 1);
        out.w.put32(e.per_chunk);
        out.w.put32(e.description);
    }
    out.w.close(m);
}

// stsz (§8.7.3) of samples [first, last): the file's sizes copied.
void write_stsz(Out& out, const Stsz& stsz, std::uint64_t first, std::uint64_t last)
{
    const auto m = out.w.open("stsz");
    out.w.put32(0);
    out.w.put32(stsz.fixed);
    out.w.put32(last - first);
    if (stsz.fixed == 0) {
        copy_bytes(out.walk.src(), out.w, stsz.table + 4 * first, 4 * (last - first));
    }
    out.w.close(m);
}

// stss (§8.6.2): the sync samples among [first, last), renumbered.
void write_stss(Out& out, const Box& stss, std::uint64_t first, std::uint64_t last)
{
    const std::string p = out.walk.payload(stss);
    const Reader r(p, "stss");
    const std::uint32_t n = r.u32(4);
    if (n > (p.size() - 8) / 4) {
        refuse_malformed("stss has more entries than bytes");
    }
    std::vector<std::uint32_t> kept;
    for (std::uint32_t i = 0; i < n; ++i) {
        const std::uint32_t sample = r.u32(8 + std::size_t{4} * i);  // 1-based
        if (sample > first && sample <= last) {
            kept.push_back(static_cast<std::uint32_t>(sample - first));
        }
    }
    const auto m = out.w.open("stss");
    out.w.put32(0);
    out.w.put32(kept.size());
    for (std::uint32_t s : kept) {
        out.w.put32(s);
    }
    out.w.close(m);
}

// stco or co64 (§8.7.5) of as many zeros as values, to be patched.
void write_offsets(Out& out, PendingOffsets::Of of, std::vector<Offset> values)
{
    const std::size_t width = out.wide ? 8 : 4;
    const auto m = out.w.open(out.wide ? "co64" : "stco");
    out.w.put32(0);
    out.w.put32(values.size());
    if (!values.empty()) {
        const Writer::Slot first = out.w.put(0, width);
        for (std::size_t i = 1; i < values.size(); ++i) {
            out.w.put(0, width);
        }
        out.pending.push_back({of, first, width, std::move(values)});
    }
    out.w.close(m);
}

// The pre-roll as a roll group (§10.1): each of `samples` needs `roll` before it. Players that
// read it know the first packet only primes the decoder.
void write_roll_group(Out& out, std::uint32_t roll, std::uint64_t samples)
{
    const auto g = out.w.open("sgpd");
    out.w.put32(0x01000000u);
    out.w.bytes("roll");
    out.w.put32(2);
    out.w.put32(1);
    out.w.put(static_cast<std::uint16_t>(-static_cast<int>(std::min<std::uint32_t>(roll, 0x7FFF))), 2);
    out.w.close(g);
    const auto s = out.w.open("sbgp");
    out.w.put32(0);
    out.w.bytes("roll");
    out.w.put32(1);
    out.w.put32(samples);
    out.w.put32(1);
    out.w.close(s);
}

}  // namespace

void write_audio_stbl(Out& out, const Track& t, const AudioSpan& a)
{
    const auto m = out.w.open("stbl");
    for (const Box& b : t.stbl_kids) {
        if (is(b, "stsd") || is(b, "sgpd") || is(b, "cslg")) {
            copy_box(out.walk, out.w, b);
        }
        else if (is(b, "stts")) {
            write_runs(out, t.stts, a.first, a.last);
        }
        else if (is(b, "ctts") || is(b, "sbgp")) {
            for (const Runs& r : t.others) {
                if (r.box.offset == b.offset) {
                    write_runs(out, r, a.first, a.last);
                }
            }
        }
        else if (is(b, "stsc")) {
            write_stsc(out, t, a.chunks);
        }
        else if (is(b, "stsz")) {
            write_stsz(out, t.stsz, a.first, a.last);
        }
        else if (is(b, "stco") || is(b, "co64")) {
            write_offsets(out, PendingOffsets::Of::FileBytes, a.chunks.offsets);
        }
        else if (is(b, "stss")) {
            write_stss(out, t.stss, a.first, a.last);
        }
        // Anything else describes samples in a way not rewritten here (sdtp, padb, subs): left
        // out, as optional hints are.
    }
    if (t.roll > 0 && !t.has_roll_group) {
        write_roll_group(out, t.roll, a.last - a.first);
    }
    out.w.close(m);
}

void write_chapter_stbl(Out& out, const Track& t, const std::vector<ChapterSample>& chapters, Offset titles_at)
{
    const auto m = out.w.open("stbl");
    copy_box(out.walk, out.w, *BoxWalk::find(t.stbl_kids, "stsd"));  // read_track made sure of it
    std::vector<std::pair<std::uint32_t, std::uint64_t>> runs;  // stts: count, ticks
    for (const ChapterSample& c : chapters) {
        if (!runs.empty() && runs.back().second == c.ticks) {
            ++runs.back().first;
        }
        else {
            runs.emplace_back(1, c.ticks);
        }
    }
    const auto stts = out.w.open("stts");
    out.w.put32(0);
    out.w.put32(runs.size());
    for (const auto& [count, ticks] : runs) {
        out.w.put32(count);
        out.w.put32(std::min(ticks, kMax32));
    }
    out.w.close(stts);
    // All the titles in one chunk.
    const auto stsc = out.w.open("stsc");
    out.w.put32(0);
    out.w.put32(chapters.empty() ? 0 : 1);
    if (!chapters.empty()) {
        out.w.put32(1);
        out.w.put32(chapters.size());
        out.w.put32(1);
    }
    out.w.close(stsc);
    const auto stsz = out.w.open("stsz");
    out.w.put32(0);
    out.w.put32(0);
    out.w.put32(chapters.size());
    for (const ChapterSample& c : chapters) {
        out.w.put32(c.bytes.size());
    }
    out.w.close(stsz);
    write_offsets(out, PendingOffsets::Of::ChapterTitles,
                  chapters.empty() ? std::vector<Offset>{} : std::vector<Offset>{titles_at});
    out.w.close(m);
}

}  // namespace audio_stream::mp4
