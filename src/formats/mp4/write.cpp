#include "write.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <string>

#include "stbl.h"

namespace audio_stream::mp4 {

namespace {

constexpr std::uint32_t kRateOne = 0x00010000;
constexpr std::uint64_t kMax32 = 0xFFFFFFFFu;
// What the moov of a cut may gain a track over the file's, besides a chunk offset table twice
// as wide: an edit list, a roll group, two stsc entries, a chapter track's tables of up to
// kMaxChapters samples (12 bytes each).
constexpr Offset kTrackGrowth = 16 * 1024;

// Where the cut's bytes go, decided before it is written: whether its chunk offsets need 64
// bits (ISO/IEC 14496-12 §8.7.5 co64), and the mdat header's length (§4.2, a 64-bit size past
// 4 GiB).
struct Layout {
    bool wide = false;
    Offset mdat_header = 8;
    Offset payload = 0;  // of the mdat: chapter titles, then the audio
};

// The rewritten moov is at most the file's with each offset table doubled, plus what each track
// may gain: every other table keeps at most the entries it had.
Layout layout_of(const Movie& movie, const Plan& plan)
{
    Layout l;
    l.payload = plan.chapter_bytes + (plan.data_end - plan.data_start);
    l.mdat_header = l.payload + 8 > kMax32 ? 16 : 8;
    const Offset ftyp = movie.ftyp ? movie.ftyp->size() : 0;
    const Offset moov = 2 * movie.moov.size() + kTrackGrowth * movie.tracks.size();
    l.wide = ftyp + moov + l.mdat_header + l.payload > kMax32;
    return l;
}

// Where a full box holds its duration: at `v0` in 4 bytes (version 0), at `v1` in 8.
struct DurationAt {
    std::size_t v0, v1;
};
constexpr DurationAt kMvhdDuration{16, 24};  // §8.2.2
constexpr DurationAt kTkhdDuration{20, 28};  // §8.3.2
constexpr DurationAt kMdhdDuration{16, 24};  // §8.4.2

// The payload of a header box (mvhd, tkhd, mdhd) with its duration rewritten.
std::string with_duration(BoxWalk& walk, const Box& b, DurationAt at, std::uint64_t duration)
{
    std::string p = walk.payload(b);
    const Reader r(p, "a header box");
    const bool v1 = r.u8(0) == 1;
    const std::size_t n = v1 ? 8 : 4;
    r.be_at(v1 ? at.v1 : at.v0, n);  // the field is there
    put_be(reinterpret_cast<Byte*>(p.data()) + (v1 ? at.v1 : at.v0), n, v1 ? duration : std::min(duration, kMax32 - 1));
    return p;
}

void write_box(Writer& w, const char* type, const std::string& payload)
{
    const auto m = w.open(type);
    w.bytes(payload);
    w.close(m);
}

// mvhd with the cut's duration and timescale (mvhd and mdhd put the timescale 4 bytes before
// the duration).
void write_mvhd(Out& out, const Box& mvhd, const Plan& plan)
{
    std::string p = with_duration(out.walk, mvhd, kMvhdDuration, plan.movie_duration);
    const std::size_t at = (p[0] == 1 ? kMvhdDuration.v1 : kMvhdDuration.v0) - 4;
    put_be32(reinterpret_cast<Byte*>(p.data()) + at, plan.movie_timescale);
    write_box(out.w, "mvhd", p);
}

// An edit list of one edit (§8.6.6): `duration` movie ticks of the media from `media_time`.
void write_edts(Writer& w, std::uint64_t duration, std::uint64_t media_time)
{
    const bool v1 = duration > kMax32 || media_time > 0x7FFFFFFFu;
    const auto edts = w.open("edts");
    const auto elst = w.open("elst");
    w.put32(v1 ? 0x01000000u : 0);
    w.put32(1);
    w.put(duration, v1 ? 8 : 4);
    w.put(media_time, v1 ? 8 : 4);
    w.put32(kRateOne);
    w.close(elst);
    w.close(edts);
}

void write_minf(Out& out, const Track& t, const TrackPlan& plan, Offset titles_at)
{
    const auto minf = out.w.open("minf");
    for (const Box& b : t.minf_kids) {
        if (!is(b, "stbl")) {
            copy_box(out.walk, out.w, b);
        }
        else if (t.kind == Kind::Audio) {
            write_audio_stbl(out, t, plan.audio);
        }
        else {
            write_chapter_stbl(out, t, plan.chapters, titles_at);
        }
    }
    out.w.close(minf);
}

// A kept track: tkhd and elst with its presented duration, mdhd with its media's, its tables.
// An audio track always gets an edit (it hides the pre-roll); a chapter track keeps one if it
// had one.
void write_trak(Out& out, const Track& t, const TrackPlan& plan, Offset titles_at)
{
    const auto trak = out.w.open("trak");
    for (const Box& b : t.trak_kids) {
        if (is(b, "tkhd")) {
            write_box(out.w, "tkhd", with_duration(out.walk, b, kTkhdDuration, plan.duration));
            if (t.kind == Kind::Audio || t.edit.present) {
                write_edts(out.w, plan.duration, t.kind == Kind::Audio ? plan.audio.media_time : 0);
            }
        }
        else if (is(b, "mdia")) {
            const auto mdia = out.w.open("mdia");
            for (const Box& d : t.mdia_kids) {
                if (is(d, "mdhd")) {
                    write_box(out.w, "mdhd", with_duration(out.walk, d, kMdhdDuration, plan.media_duration));
                }
                else if (is(d, "minf")) {
                    write_minf(out, t, plan, titles_at);
                }
                else {
                    copy_box(out.walk, out.w, d);
                }
            }
            out.w.close(mdia);
        }
        else if (!is(b, "edts")) {
            copy_box(out.walk, out.w, b);
        }
    }
    out.w.close(trak);
}

// iTunes' gapless info (priming, padding and length of the whole file): wrong for a cut.
bool is_itunsmpb(Out& out, const Box& item)
{
    if (!is(item, "----")) {
        return false;
    }
    for (const Box& b : out.walk.children(item)) {
        if (is(b, "name") && b.payload_size() == 12) {
            Byte p[12];
            if (!out.walk.src().read(b.payload, p, sizeof p)) {
                refuse_malformed("read error in the moov");
            }
            return std::memcmp(p + 4, "iTunSMPB", 8) == 0;
        }
    }
    return false;
}

void write_meta(Out& out, const Box& meta)
{
    // ISO meta (§8.11.1) is a full box; QuickTime's has no version and flags.
    Byte v[4] = {};
    const bool full = meta.payload_size() >= 4 && out.walk.src().read(meta.payload, v, 4) && be32(v) == 0;
    const auto m = out.w.open("meta");
    if (full) {
        out.w.put32(0);
    }
    for (const Box& b : out.walk.children(meta.payload + (full ? 4 : 0), meta.end)) {
        if (!is(b, "ilst")) {
            copy_box(out.walk, out.w, b);
            continue;
        }
        const auto ilst = out.w.open("ilst");
        for (const Box& item : out.walk.children(b)) {
            if (!is_itunsmpb(out, item)) {
                copy_box(out.walk, out.w, item);
            }
        }
        out.w.close(ilst);
    }
    out.w.close(m);
}

// Microseconds in chpl's 100 ns units, saturating.
std::uint64_t hundred_ns(Micros t)
{
    constexpr auto kMax = std::numeric_limits<std::uint64_t>::max() / 10;
    return std::min<std::uint64_t>(static_cast<std::uint64_t>(std::max<Micros>(t, 0)), kMax) * 10;
}

void write_chpl(Out& out, const Box& chpl, const Movie& movie, const Plan& plan)
{
    const std::uint64_t end = rescale(movie.duration, movie.timescale, 10000000);
    const std::uint64_t to = plan.clip() ? hundred_ns(plan.end) : std::numeric_limits<std::uint64_t>::max();
    const Chpl kept = clip_chpl(read_chpl(out.walk.payload(chpl)), hundred_ns(plan.start), to, end);
    const auto m = out.w.open("chpl");
    out.w.bytes(kept.head);
    out.w.put(kept.chapters.size(), 1);
    for (const NeroChapter& c : kept.chapters) {
        out.w.put64(c.start);
        out.w.put(c.title.size(), 1);
        out.w.bytes(c.title);
    }
    out.w.close(m);
}

void write_udta(Out& out, const Box& udta, const Movie& movie, const Plan& plan)
{
    const auto m = out.w.open("udta");
    for (const Box& b : out.walk.children(udta)) {
        if (is(b, "chpl")) {
            write_chpl(out, b, movie, plan);
        }
        else if (is(b, "meta")) {
            write_meta(out, b);
        }
        else {
            copy_box(out.walk, out.w, b);
        }
    }
    out.w.close(m);
}

void write_moov(Out& out, const Movie& movie, const Plan& plan)
{
    const auto moov = out.w.open("moov");
    std::size_t track = 0;
    Offset titles_at = 0;  // chapter tracks' titles go into the mdat in track order
    for (const Box& b : movie.kids) {
        if (is(b, "mvhd")) {
            write_mvhd(out, b, plan);
        }
        else if (is(b, "trak")) {
            const TrackPlan& p = plan.tracks[track];
            write_trak(out, movie.tracks[track], p, titles_at);
            for (const ChapterSample& c : p.chapters) {
                titles_at += c.bytes.size();
            }
            ++track;
        }
        else if (is(b, "udta")) {
            write_udta(out, b, movie, plan);
        }
        else if (!is(b, "free") && !is(b, "skip")) {
            copy_box(out.walk, out.w, b);
        }
    }
    out.w.close(moov);
}

void write_mdat(Out& out, const Plan& plan, const Layout& layout)
{
    if (layout.mdat_header == 16) {
        out.w.put32(1);
        out.w.bytes("mdat");
        out.w.put64(16 + layout.payload);
    }
    else {
        out.w.put32(8 + layout.payload);
        out.w.bytes("mdat");
    }
    for (const TrackPlan& t : plan.tracks) {
        for (const ChapterSample& s : t.chapters) {
            out.w.bytes(s.bytes);
        }
    }
    out.w.file(plan.data_start, plan.data_end - plan.data_start);
}

// Every chunk offset, now that the mdat's place is known: the chapter titles start at
// `titles`, the audio bytes right after them.
void patch_offsets(Out& out, const Plan& plan, Offset titles)
{
    const Offset audio = titles + plan.chapter_bytes;
    for (const PendingOffsets& table : out.pending) {
        Writer::Slot slot = table.first;
        for (const Offset v : table.values) {
            const Offset at = table.of == PendingOffsets::Of::FileBytes ? audio + (v - plan.data_start) : titles + v;
            if (table.width == 4 && at > kMax32) {
                refuse_malformed("a chunk offset past 4 GiB in stco");  // layout_of rules it out
            }
            out.w.patch(slot, at, table.width);
            slot.at += table.width;
        }
    }
}

}  // namespace

Cut write_cut(BoxWalk& walk, const Movie& movie, const Plan& plan)
{
    const Layout layout = layout_of(movie, plan);
    Out out{walk, Writer{}, layout.wide, {}};
    if (movie.ftyp) {
        copy_box(walk, out.w, *movie.ftyp);
    }
    write_moov(out, movie, plan);
    const Offset titles = out.w.length() + layout.mdat_header;
    write_mdat(out, plan, layout);
    patch_offsets(out, plan, titles);
    Cut cut;
    cut.status = Cut::Status::Ok;
    cut.rep.length = out.w.length();
    cut.rep.extents = out.w.take();
    cut.start = plan.start;
    cut.end = plan.end;
    cut.duration = plan.duration;
    return cut;
}

}  // namespace audio_stream::mp4
