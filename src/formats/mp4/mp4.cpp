#include "mp4.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "box.h"
#include "track.h"
#include "../toolbox.h"

namespace audio_stream {

namespace {

using namespace mp4;

constexpr int kMaxTopBoxes = 1024;
constexpr int kMaxMoovChildren = 1024;
constexpr std::uint32_t kRateOne = 0x00010000;
constexpr std::uint64_t kMax32 = 0xFFFFFFFFu;

// mvhd (ISO/IEC 14496-12 §8.2.2): version 0 has 32-bit times, version 1 64-bit ones.
Micros movie_duration(ByteSource& src, const Box& mvhd)
{
    Byte p[32];
    const Offset n = mvhd.end - mvhd.payload;
    if (n < 20 || !src.read(mvhd.payload, p, static_cast<std::size_t>(std::min<Offset>(n, sizeof p)))) {
        return 0;
    }
    const bool v1 = p[0] == 1;
    if (v1 && n < 32) {
        return 0;
    }
    const std::uint32_t timescale = be32(p + (v1 ? 20 : 12));
    const std::uint64_t duration = v1 ? be64(p + 24) : be32(p + 16);
    const bool unknown = v1 ? duration == ~std::uint64_t{0} : duration == 0xFFFFFFFFu;
    if (timescale == 0 || duration == 0 || unknown) {
        return 0;
    }
    return samples_to_micros(duration, timescale);
}

// A full box whose duration field is rewritten (mvhd, tkhd, mdhd): version 1 holds it in 8 bytes
// at `at1`, version 0 in 4 at `at0`.
void write_with_duration(BoxWalk& walk, Writer& w, const Box& b, std::size_t at0, std::size_t at1,
                         std::uint64_t duration)
{
    std::string p = walk.payload(b);
    const Reader r(p, "a header box");
    const bool v1 = r.u8(0) == 1;
    const std::size_t at = v1 ? at1 : at0;
    const std::size_t n = v1 ? 8 : 4;
    r.be_at(at, n);  // the field is there
    put_be(reinterpret_cast<Byte*>(p.data()) + at, n, v1 ? duration : std::min(duration, kMax32 - 1));
    const auto m = w.open(b.type);
    w.bytes(p);
    w.close(m);
}

// A chunk offset table waiting for the final layout: its first value's slot, the original
// offsets it holds (moved by the same amount), or one offset of its own.
struct OffsetTable {
    Writer::Slot first;
    std::size_t width;
    const std::vector<Offset>* offsets;  // null: the chapter chunk
};

struct Movie {
    std::optional<Box> ftyp;
    Box moov;
    std::vector<Box> kids;
    Box mvhd;
    std::uint32_t timescale = 0;
    std::uint64_t duration = 0;
    std::vector<Track> tracks;
};

class Mp4Cutter {
public:
    Mp4Cutter(ByteSource& src, Micros t) : src_(src), walk_(src), t_(t) {}
    Cut run();

private:
    void walk_top();
    void read_moov();
    void classify();
    void write(bool wide);
    void write_trak(const Track& t, std::size_t index);
    void write_edts(std::uint64_t duration, std::uint64_t media_time);
    void write_stbl(const Track& t, const TrackCut& c);
    void write_chapter_stbl(const Track& t, const std::vector<ChapterSample>& chapters);
    void write_runs(const Runs& r, std::uint64_t skip);
    void write_stsc(const Track& t, const TrackCut& c);
    void write_stss(const Track& t, std::uint64_t skip);
    void write_offsets(const std::vector<Offset>* offsets, std::size_t count);
    void write_udta(const Box& udta);
    void write_meta(const Box& meta);
    void write_ilst(const Box& ilst);
    void write_chpl(const Box& chpl);
    bool is_itunsmpb(const Box& item);

    ByteSource& src_;
    BoxWalk walk_;
    Micros t_;
    Movie movie_;
    std::vector<std::optional<TrackCut>> cuts_;              // per track, audio only
    std::vector<std::vector<ChapterSample>> chapters_;       // per track, chapter tracks only
    std::vector<std::uint64_t> durations_;                   // per track, movie ticks
    Micros start_ = 0;
    Offset data_start_ = 0, data_end_ = 0;
    Writer w_;
    bool wide_ = false;
    std::vector<OffsetTable> tables_;
};

void Mp4Cutter::walk_top()
{
    const Offset size = src_.size();
    Offset at = 0;
    std::optional<Box> moov;
    for (int i = 0; at < size; ++i) {
        if (i == kMaxTopBoxes) {
            refuse_malformed("more than 1024 top-level boxes");
        }
        const auto b = box_at(src_, at, size);
        if (!b) {
            refuse_malformed("a top-level box runs past the end of the file");
        }
        if (is(*b, "moof")) {
            refuse_unsupported("a fragmented MP4 (moof)");
        }
        if (is(*b, "ftyp") && !movie_.ftyp && !moov) {
            movie_.ftyp = b;
        }
        if (is(*b, "moov")) {
            if (moov) {
                refuse_malformed("two moov boxes");
            }
            moov = b;
        }
        at = b->end;
    }
    if (!moov) {
        refuse_malformed("no moov box");
    }
    if (moov->size() > kMaxMoov) {
        refuse_malformed("a moov of " + std::to_string(moov->size()) + " bytes (the cap is 64 MiB)");
    }
    movie_.moov = *moov;
}

void Mp4Cutter::read_moov()
{
    movie_.kids = walk_.children(movie_.moov);
    if (movie_.kids.size() > kMaxMoovChildren) {
        refuse_malformed("more than 1024 boxes in the moov");
    }
    if (BoxWalk::find(movie_.kids, "cmov")) {
        refuse_unsupported("a compressed moov (cmov)");
    }
    if (BoxWalk::find(movie_.kids, "mvex")) {
        refuse_unsupported("a fragmented MP4 (mvex)");
    }
    const Box* mvhd = BoxWalk::find(movie_.kids, "mvhd");
    if (!mvhd) {
        refuse_malformed("no mvhd box");
    }
    movie_.mvhd = *mvhd;
    const std::string p = walk_.payload(*mvhd);
    const Reader r(p, "mvhd");
    const bool v1 = r.u8(0) == 1;
    movie_.timescale = r.u32(v1 ? 20 : 12);
    movie_.duration = r.be_at(v1 ? 24 : 16, v1 ? 8 : 4);
    if (movie_.timescale == 0) {
        refuse_malformed("the movie timescale is 0");
    }
    for (const Box& b : movie_.kids) {
        if (is(b, "trak")) {
            if (movie_.tracks.size() == kMaxTracks) {
                refuse_malformed("more than 16 tracks (the cap)");
            }
            movie_.tracks.push_back(read_track(walk_, b));
        }
    }
}

void Mp4Cutter::classify()
{
    std::vector<std::uint32_t> chapter_ids;
    for (const Track& t : movie_.tracks) {
        if (t.kind == Kind::Audio) {
            chapter_ids.insert(chapter_ids.end(), t.chapter_refs.begin(), t.chapter_refs.end());
        }
    }
    bool audio = false;
    for (Track& t : movie_.tracks) {
        for (const Track& o : movie_.tracks) {
            if (&o != &t && o.id == t.id) {
                refuse_malformed("two tracks with one track ID");
            }
        }
        const auto handler = [&](const char* h) { return std::memcmp(t.handler, h, 4) == 0; };
        audio = audio || t.kind == Kind::Audio;
        if (t.kind == Kind::Audio) {
            continue;
        }
        const bool referenced = std::find(chapter_ids.begin(), chapter_ids.end(), t.id) != chapter_ids.end();
        if (referenced && (handler("text") || handler("sbtl"))) {
            t.kind = Kind::Chapters;
        }
        else if (handler("vide")) {
            refuse_unsupported("a video track");
        }
        else {
            refuse_unsupported("a track of handler '" + std::string(t.handler, 4) + "'");
        }
    }
    if (!audio) {
        refuse_unsupported("no audio track");
    }
}

void Mp4Cutter::write_edts(std::uint64_t duration, std::uint64_t media_time)
{
    const bool v1 = duration > kMax32 || media_time > 0x7FFFFFFFu;
    const auto edts = w_.open("edts");
    const auto elst = w_.open("elst");
    w_.put32(v1 ? 0x01000000u : 0);
    w_.put32(1);
    w_.put(duration, v1 ? 8 : 4);
    w_.put(media_time, v1 ? 8 : 4);
    w_.put32(kRateOne);
    w_.close(elst);
    w_.close(edts);
}

void Mp4Cutter::write_runs(const Runs& r, std::uint64_t skip)
{
    const RunsAt at = runs_at(r, skip);
    const auto m = w_.open(r.box.type);
    w_.bytes(r.payload.substr(0, r.header - 4));
    w_.put32(r.entries - at.entry);
    if (at.entry < r.entries) {
        w_.put32(at.left);
        w_.put32(r.value(at.entry));
        const Offset tail = r.box.payload + r.header + Offset{8} * (at.entry + 1);
        copy_bytes(src_, w_, tail, Offset{8} * (r.entries - at.entry - 1));
    }
    w_.close(m);
}

void Mp4Cutter::write_stsc(const Track& t, const TrackCut& c)
{
    std::size_t run = 0;
    while (run + 1 < t.stsc.size() && t.stsc[run + 1].first_chunk <= c.chunk) {
        ++run;
    }
    std::vector<Stsc> out{{0, t.stsc[run].per_chunk - c.dropped_in_chunk, t.stsc[run].description}};
    if (c.chunk + 1 < t.chunks.size()) {
        if (run + 1 < t.stsc.size() && t.stsc[run + 1].first_chunk == c.chunk + 1) {
            ++run;
        }
        out.push_back({1, t.stsc[run].per_chunk, t.stsc[run].description});
        for (std::size_t i = run + 1; i < t.stsc.size(); ++i) {
            out.push_back({static_cast<std::uint32_t>(t.stsc[i].first_chunk - c.chunk), t.stsc[i].per_chunk,
                           t.stsc[i].description});
        }
    }
    const auto m = w_.open("stsc");
    w_.put32(0);
    w_.put32(out.size());
    for (const Stsc& e : out) {
        w_.put32(e.first_chunk + 1);
        w_.put32(e.per_chunk);
        w_.put32(e.description);
    }
    w_.close(m);
}

void Mp4Cutter::write_stss(const Track& t, std::uint64_t skip)
{
    const std::string p = walk_.payload(t.stss);
    const Reader r(p, "stss");
    const std::uint32_t n = r.u32(4);
    if (n > (p.size() - 8) / 4) {
        refuse_malformed("stss has more entries than bytes");
    }
    std::vector<std::uint32_t> kept;
    for (std::uint32_t i = 0; i < n; ++i) {
        const std::uint32_t sample = r.u32(8 + std::size_t{4} * i);  // 1-based
        if (sample > skip) {
            kept.push_back(static_cast<std::uint32_t>(sample - skip));
        }
    }
    const auto m = w_.open("stss");
    w_.put32(0);
    w_.put32(kept.size());
    for (std::uint32_t s : kept) {
        w_.put32(s);
    }
    w_.close(m);
}

void Mp4Cutter::write_offsets(const std::vector<Offset>* offsets, std::size_t count)
{
    const std::size_t width = wide_ ? 8 : 4;
    const auto m = w_.open(wide_ ? "co64" : "stco");
    w_.put32(0);
    w_.put32(count);
    if (count > 0) {
        tables_.push_back({w_.put(0, width), width, offsets});
        for (std::size_t i = 1; i < count; ++i) {
            w_.put(0, width);
        }
    }
    w_.close(m);
}

void Mp4Cutter::write_stbl(const Track& t, const TrackCut& c)
{
    const std::uint64_t left = t.samples - c.first;
    const auto m = w_.open("stbl");
    for (const Box& b : t.stbl_kids) {
        if (is(b, "stsd") || is(b, "sgpd") || is(b, "cslg")) {
            copy_box(walk_, w_, b);
        }
        else if (is(b, "stts")) {
            write_runs(t.stts, c.first);
        }
        else if (is(b, "ctts") || is(b, "sbgp")) {
            for (const Runs& r : t.others) {
                if (r.box.offset == b.offset) {
                    write_runs(r, c.first);
                }
            }
        }
        else if (is(b, "stsc")) {
            write_stsc(t, c);
        }
        else if (is(b, "stsz")) {
            const auto z = w_.open("stsz");
            w_.put32(0);
            w_.put32(t.sample_size);
            w_.put32(left);
            if (t.sample_size == 0) {
                copy_bytes(src_, w_, t.sizes_at + 4 * c.first, 4 * left);
            }
            w_.close(z);
        }
        else if (is(b, "stco") || is(b, "co64")) {
            write_offsets(&c.offsets, c.offsets.size());
        }
        else if (is(b, "stss")) {
            write_stss(t, c.first);
        }
        // Anything else describes samples in a way not rewritten here (sdtp, padb, subs): left
        // out, as optional hints are.
    }
    if (t.roll > 0 && !t.has_roll_group) {
        // The pre-roll as a roll group (ISO/IEC 14496-12 §10.1): each sample needs `roll` before it.
        const auto g = w_.open("sgpd");
        w_.put32(0x01000000u);
        w_.bytes("roll");
        w_.put32(2);
        w_.put32(1);
        w_.put(static_cast<std::uint16_t>(-static_cast<int>(std::min<std::uint32_t>(t.roll, 0x7FFF))), 2);
        w_.close(g);
        const auto s = w_.open("sbgp");
        w_.put32(0);
        w_.bytes("roll");
        w_.put32(1);
        w_.put32(left);
        w_.put32(1);
        w_.close(s);
    }
    w_.close(m);
}

void Mp4Cutter::write_chapter_stbl(const Track& t, const std::vector<ChapterSample>& chapters)
{
    const auto m = w_.open("stbl");
    copy_box(walk_, w_, *BoxWalk::find(t.stbl_kids, "stsd"));  // read_track made sure of it
    std::vector<std::pair<std::uint32_t, std::uint64_t>> runs;
    for (const ChapterSample& c : chapters) {
        if (!runs.empty() && runs.back().second == c.ticks) {
            ++runs.back().first;
        }
        else {
            runs.emplace_back(1, c.ticks);
        }
    }
    const auto stts = w_.open("stts");
    w_.put32(0);
    w_.put32(runs.size());
    for (const auto& [count, ticks] : runs) {
        w_.put32(count);
        w_.put32(std::min(ticks, kMax32));
    }
    w_.close(stts);
    const auto stsc = w_.open("stsc");
    w_.put32(0);
    w_.put32(chapters.empty() ? 0 : 1);
    if (!chapters.empty()) {
        w_.put32(1);
        w_.put32(chapters.size());
        w_.put32(1);
    }
    w_.close(stsc);
    const auto stsz = w_.open("stsz");
    w_.put32(0);
    w_.put32(0);
    w_.put32(chapters.size());
    for (const ChapterSample& c : chapters) {
        w_.put32(c.bytes.size());
    }
    w_.close(stsz);
    write_offsets(nullptr, chapters.empty() ? 0 : 1);
    w_.close(m);
}

void Mp4Cutter::write_trak(const Track& t, std::size_t index)
{
    const bool audio = t.kind == Kind::Audio;
    const std::uint64_t duration = durations_[index];
    const auto trak = w_.open("trak");
    for (const Box& b : t.trak_kids) {
        if (is(b, "tkhd")) {
            write_with_duration(walk_, w_, b, 20, 28, duration);
            if (audio) {
                write_edts(duration, cuts_[index]->media_time);
            }
        }
        else if (is(b, "mdia")) {
            const auto mdia = w_.open("mdia");
            for (const Box& d : t.mdia_kids) {
                if (is(d, "mdhd")) {
                    std::uint64_t ticks = 0;
                    for (const ChapterSample& c : chapters_[index]) {
                        ticks += c.ticks;
                    }
                    write_with_duration(walk_, w_, d, 16, 24, audio ? t.ticks - cuts_[index]->skipped : ticks);
                }
                else if (is(d, "minf")) {
                    const auto minf = w_.open("minf");
                    for (const Box& f : t.minf_kids) {
                        if (!is(f, "stbl")) {
                            copy_box(walk_, w_, f);
                        }
                        else if (audio) {
                            write_stbl(t, *cuts_[index]);
                        }
                        else {
                            write_chapter_stbl(t, chapters_[index]);
                        }
                    }
                    w_.close(minf);
                }
                else {
                    copy_box(walk_, w_, d);
                }
            }
            w_.close(mdia);
        }
        else if (!is(b, "edts")) {
            copy_box(walk_, w_, b);
        }
    }
    w_.close(trak);
}

bool Mp4Cutter::is_itunsmpb(const Box& item)
{
    if (!is(item, "----")) {
        return false;
    }
    for (const Box& b : walk_.children(item)) {
        if (is(b, "name") && b.payload_size() == 12) {
            Byte p[12];
            if (!src_.read(b.payload, p, sizeof p)) {
                refuse_malformed("read error in the moov");
            }
            return std::memcmp(p + 4, "iTunSMPB", 8) == 0;
        }
    }
    return false;
}

void Mp4Cutter::write_ilst(const Box& ilst)
{
    const auto m = w_.open("ilst");
    for (const Box& b : walk_.children(ilst)) {
        if (!is_itunsmpb(b)) {
            copy_box(walk_, w_, b);
        }
    }
    w_.close(m);
}

void Mp4Cutter::write_meta(const Box& meta)
{
    // ISO meta is a full box; QuickTime's has no version and flags.
    Byte v[4] = {};
    const bool full = meta.payload_size() >= 4 && src_.read(meta.payload, v, 4) && be32(v) == 0;
    const auto m = w_.open("meta");
    if (full) {
        w_.put32(0);
    }
    for (const Box& b : walk_.children(meta.payload + (full ? 4 : 0), meta.end)) {
        if (is(b, "ilst")) {
            write_ilst(b);
        }
        else {
            copy_box(walk_, w_, b);
        }
    }
    w_.close(m);
}

void Mp4Cutter::write_chpl(const Box& chpl)
{
    // Nero chapters: version, flags, (version 1) 4 reserved bytes, a count, then per chapter its
    // start in 100 ns units, a title length and the title. Each ends where the next starts.
    const std::string p = walk_.payload(chpl);
    const Reader r(p, "chpl");
    const std::size_t head = r.u8(0) == 1 ? 8 : 4;
    const std::uint32_t n = r.u8(head);
    struct Entry {
        std::uint64_t start;
        std::string title;
    };
    std::vector<Entry> entries;
    std::size_t at = head + 1;
    for (std::uint32_t i = 0; i < n; ++i) {
        const std::uint64_t start = r.u64(at);
        const std::size_t len = r.u8(at + 8);
        r.be_at(at + 9, len);
        entries.push_back({start, p.substr(at + 9, len)});
        at += 9 + len;
    }
    const unsigned __int128 t100 = static_cast<unsigned __int128>(start_) * 10;
    const std::uint64_t end = rescale(movie_.duration, movie_.timescale, 10000000);
    const auto m = w_.open("chpl");
    w_.bytes(p.substr(0, head));
    std::vector<const Entry*> kept;
    for (std::size_t i = 0; i < entries.size(); ++i) {
        const std::uint64_t stop = i + 1 < entries.size() ? entries[i + 1].start : end;
        if (stop > t100) {
            kept.push_back(&entries[i]);
        }
    }
    w_.put(kept.size(), 1);
    for (const Entry* e : kept) {
        w_.put64(e->start > t100 ? static_cast<std::uint64_t>(e->start - t100) : 0);
        w_.put(e->title.size(), 1);
        w_.bytes(e->title);
    }
    w_.close(m);
}

void Mp4Cutter::write_udta(const Box& udta)
{
    const auto m = w_.open("udta");
    for (const Box& b : walk_.children(udta)) {
        if (is(b, "chpl")) {
            write_chpl(b);
        }
        else if (is(b, "meta")) {
            write_meta(b);
        }
        else {
            copy_box(walk_, w_, b);
        }
    }
    w_.close(m);
}

void Mp4Cutter::write(bool wide)
{
    w_ = Writer{};
    wide_ = wide;
    tables_.clear();
    if (movie_.ftyp) {
        copy_box(walk_, w_, *movie_.ftyp);
    }
    std::uint64_t movie_duration = 0;
    for (std::uint64_t d : durations_) {
        movie_duration = std::max(movie_duration, d);
    }
    const auto moov = w_.open("moov");
    std::size_t track = 0;
    for (const Box& b : movie_.kids) {
        if (is(b, "mvhd")) {
            write_with_duration(walk_, w_, b, 16, 24, movie_duration);
        }
        else if (is(b, "trak")) {
            write_trak(movie_.tracks[track], track);
            ++track;
        }
        else if (is(b, "udta")) {
            write_udta(b);
        }
        else if (!is(b, "free") && !is(b, "skip")) {
            copy_box(walk_, w_, b);
        }
    }
    w_.close(moov);
}

Cut Mp4Cutter::run()
{
    walk_top();
    read_moov();
    classify();
    const std::size_t n = movie_.tracks.size();
    cuts_.resize(n);
    chapters_.resize(n);
    durations_.assign(n, 0);
    bool first = true;
    std::uint32_t audio_timescale = 0;
    std::uint64_t presented = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const Track& t = movie_.tracks[i];
        if (t.kind != Kind::Audio) {
            continue;
        }
        cuts_[i] = cut_track(src_, t, movie_.timescale, t_);
        if (!cuts_[i]) {
            return past_end();
        }
        const TrackCut& c = *cuts_[i];
        if (first) {
            start_ = samples_to_micros(c.start_ticks, t.timescale);
            audio_timescale = t.timescale;
            presented = c.presented;
            data_start_ = c.data_start;
            first = false;
        }
        data_start_ = std::min(data_start_, c.data_start);
        data_end_ = std::max(data_end_, c.data_end);
        durations_[i] = std::max<std::uint64_t>(1, rescale(c.presented, t.timescale, movie_.timescale));
    }
    if (data_start_ >= data_end_) {
        refuse_malformed("the audio tracks hold no sample bytes");
    }
    Offset chapter_bytes = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const Track& t = movie_.tracks[i];
        if (t.kind == Kind::Chapters) {
            chapters_[i] = cut_chapters(src_, t, start_);
            std::uint64_t ticks = 0;
            for (const ChapterSample& c : chapters_[i]) {
                ticks += c.ticks;
                chapter_bytes += c.bytes.size();
            }
            durations_[i] = rescale(ticks, t.timescale, movie_.timescale);
        }
    }

    const Offset data = data_end_ - data_start_;
    for (bool wide : {false, true}) {
        write(wide);
        const Offset mdat_payload = chapter_bytes + data;
        const Offset header = mdat_payload + 8 > kMax32 ? 16 : 8;
        const Offset chapters_at = w_.length() + header;
        const Offset base = chapters_at + chapter_bytes;
        if (!wide && base + data > kMax32) {
            continue;  // an offset may pass 2^32: co64 everywhere
        }
        if (header == 16) {
            w_.put32(1);
            w_.bytes("mdat");
            w_.put64(16 + mdat_payload);
        }
        else {
            w_.put32(8 + mdat_payload);
            w_.bytes("mdat");
        }
        for (const auto& c : chapters_) {
            for (const ChapterSample& s : c) {
                w_.bytes(s.bytes);
            }
        }
        w_.file(data_start_, data);
        // Chapter tracks' chunks were written in track order, as their titles are above.
        Offset next_titles = chapters_at;
        std::size_t chapter_track = 0;
        for (const OffsetTable& table : tables_) {
            Writer::Slot slot = table.first;
            if (!table.offsets) {
                while (chapters_[chapter_track].empty()) {
                    ++chapter_track;
                }
                w_.patch(slot, next_titles, table.width);
                for (const ChapterSample& c : chapters_[chapter_track++]) {
                    next_titles += c.bytes.size();
                }
                continue;
            }
            for (Offset o : *table.offsets) {
                w_.patch(slot, base + (o - data_start_), table.width);
                slot.at += table.width;
            }
        }
        break;
    }
    Cut cut;
    cut.status = Cut::Status::Ok;
    cut.rep.length = w_.length();
    cut.rep.extents = w_.take();
    cut.start = start_;
    cut.duration = samples_to_micros(presented, audio_timescale);
    return cut;
}

}  // namespace

Cut cut_mp4(ByteSource& src, const Span& span)
{
    return as_cut([&] { return Mp4Cutter(src, span.start).run(); });
}

AudioLayout layout_mp4(ByteSource& src)
{
    const Offset size = src.size();
    AudioLayout l{size, 0, size, 0};
    std::optional<Box> mdat;
    Micros duration = 0;
    Offset at = 0;
    bool moov_seen = false;  // only the first one's children are walked (a file has one)
    for (int i = 0; i < kMaxTopBoxes && at < size; ++i) {
        const auto b = box_at(src, at, size);
        if (!b) {
            return l;  // not boxes to the end: not a file to trust
        }
        if (is(*b, "mdat") && (!mdat || b->end - b->payload > mdat->end - mdat->payload)) {
            mdat = b;
        }
        if (is(*b, "moov") && !moov_seen) {
            moov_seen = true;
            Offset c = b->payload;
            for (int j = 0; j < kMaxMoovChildren && c < b->end; ++j) {
                const auto child = box_at(src, c, b->end);
                if (!child) {
                    break;
                }
                if (is(*child, "mvhd")) {
                    duration = movie_duration(src, *child);
                    break;
                }
                c = child->end;
            }
        }
        at = b->end;
    }
    if (mdat && duration > 0) {
        l.audio_start = mdat->payload;
        l.audio_end = mdat->end;
        l.duration = duration;
    }
    return l;
}

}  // namespace audio_stream
