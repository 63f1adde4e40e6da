#include "track.h"

#include <algorithm>
#include <cstring>
#include <initializer_list>
#include <limits>

#include "caps.h"

namespace audio_stream::mp4 {

namespace {

constexpr std::uint32_t kRateOne = 0x00010000;      // 16.16 media rate 1.0
const Box& need(const std::vector<Box>& kids, const char* type)
{
    const Box* b = BoxWalk::find(kids, type);
    if (!b) {
        refuse_malformed(std::string("a track has no ") + type + " box");
    }
    return *b;
}

// The boxes of `types` appear at most once among `kids`. Each is read once and rewritten where
// it stands, so a copy would be rewritten again from the one table read: a hostile moov of
// thousands of empty mdia or stts boxes would make the cut thousands of times the work.
void at_most_once(const std::vector<Box>& kids, std::initializer_list<const char*> types, const char* in)
{
    for (const char* type : types) {
        if (std::count_if(kids.begin(), kids.end(), [&](const Box& b) { return is(b, type); }) > 1) {
            refuse_malformed(std::string("two ") + type + " boxes in " + in);
        }
    }
}

void read_tkhd(BoxWalk& walk, Track& t)
{
    const std::string p = small_payload(walk, t.tkhd, "tkhd");
    const Reader r(p, "tkhd");
    const bool v1 = r.u8(0) == 1;
    t.id = r.u32(v1 ? 20 : 12);
    r.be_at(v1 ? 28 : 20, v1 ? 8 : 4);  // the duration is there to rewrite
}

void read_elst(BoxWalk& walk, Track& t, const Box& elst)
{
    const std::string p = small_payload(walk, elst, "elst");
    const Reader r(p, "elst");
    const bool v1 = r.u8(0) == 1;
    const std::uint32_t n = r.u32(4);
    if (n == 0) {
        return;
    }
    if (n != 1) {
        refuse_unsupported("an edit list of " + std::to_string(n) + " edits");
    }
    const std::size_t w = v1 ? 8 : 4;
    const std::uint64_t duration = r.be_at(8, w);
    const std::uint64_t media_time = r.be_at(8 + w, w);
    const std::uint32_t rate = r.u32(8 + 2 * w);
    const bool empty = v1 ? media_time >> 63 : media_time >> 31;  // negative: an empty edit
    if (empty || rate != kRateOne) {
        refuse_unsupported("an edit list with an empty edit or a rate other than 1");
    }
    t.edit = Edit{true, media_time, duration};
}

void read_tref(BoxWalk& walk, Track& t, const Box& tref)
{
    for (const Box& b : walk.children(tref)) {
        if (!is(b, "chap")) {
            continue;
        }
        const std::string p = small_payload(walk, b, "chap");
        for (std::size_t i = 0; i + 4 <= p.size(); i += 4) {
            t.chapter_refs.push_back(be32(reinterpret_cast<const Byte*>(p.data()) + i));
        }
    }
    // Each one is looked for among the tracks: no more than there can be tracks.
    if (t.chapter_refs.size() > static_cast<std::size_t>(kMaxTracks)) {
        refuse_malformed("more chapter references than tracks");
    }
}

void read_mdhd(BoxWalk& walk, Track& t)
{
    const std::string p = small_payload(walk, t.mdhd, "mdhd");
    const Reader r(p, "mdhd");
    const bool v1 = r.u8(0) == 1;
    t.timescale = r.u32(v1 ? 20 : 12);
    r.be_at(v1 ? 24 : 16, v1 ? 8 : 4);
    if (t.timescale == 0) {
        refuse_malformed("a track's timescale is 0");
    }
}

Runs read_runs(BoxWalk& walk, const Box& b, const char* what)
{
    Runs runs;
    runs.box = b;
    runs.payload = walk.payload(b);
    const Reader r(runs.payload, what);
    const bool sbgp = is(b, "sbgp");
    runs.header = sbgp ? (r.u8(0) == 1 ? 16 : 12) : 8;
    runs.entries = r.u32(runs.header - 4);
    if (runs.entries > (runs.payload.size() - runs.header) / 8) {
        refuse_malformed(std::string(what) + " has more entries than bytes");
    }
    walk.src().step(runs.entries);  // held, and walked by every question asked of it
    return runs;
}

// The stsd's entry count and the first entry's format.
std::uint32_t read_stsd(BoxWalk& walk, Track& t, const Box& stsd)
{
    Byte h[16];
    if (stsd.payload_size() < sizeof h || !walk.src().read(stsd.payload, h, sizeof h)) {
        refuse_malformed("stsd is too short");
    }
    std::memcpy(t.codec, h + 12, 4);
    const std::uint32_t n = be32(h + 4);
    if (n == 0) {
        refuse_malformed("stsd has no sample description");
    }
    return n;
}

void read_stsc(BoxWalk& walk, Track& t, const Box& b, std::uint32_t descriptions)
{
    const std::string p = walk.payload(b);
    const Reader r(p, "stsc");
    const std::uint32_t n = r.u32(4);
    if (n > (p.size() - 8) / 12) {
        refuse_malformed("stsc has more entries than bytes");
    }
    walk.src().step(n);
    std::vector<Stsc>& runs = t.chunks.runs;
    runs.reserve(n);
    for (std::uint32_t i = 0; i < n; ++i) {
        const std::size_t at = 8 + std::size_t{12} * i;
        const std::uint32_t first = r.u32(at);
        const Stsc e{first - 1, r.u32(at + 4), r.u32(at + 8)};
        const bool ordered = i == 0 ? first == 1 : first > runs.back().first_chunk + 1;
        if (!ordered || e.first_chunk >= t.chunks.offsets.size() || e.per_chunk == 0 || e.description == 0 ||
            e.description > descriptions) {
            refuse_malformed("stsc entries are out of order or out of range");
        }
        runs.push_back(e);
    }
}

void read_chunks(BoxWalk& walk, Track& t, const Box& b)
{
    const bool wide = is(b, "co64");
    const std::string p = walk.payload(b);
    const Reader r(p, wide ? "co64" : "stco");
    const std::uint32_t n = r.u32(4);
    const std::size_t w = wide ? 8 : 4;
    if (n > (p.size() - 8) / w) {
        refuse_malformed("the chunk offset table has more entries than bytes");
    }
    if (n > kMaxChunks) {
        refuse_malformed("a track of more than " + std::to_string(kMaxChunks) + " chunks (the cap)");
    }
    walk.src().step(n);  // a track's chunks are held: the request's budget bounds all tracks' together
    t.chunks.offsets.resize(n);
    for (std::uint32_t i = 0; i < n; ++i) {
        t.chunks.offsets[i] = r.be_at(8 + w * i, w);
    }
}

void read_stsz(BoxWalk& walk, Track& t, const Box& b)
{
    Byte h[12];
    if (b.payload_size() < sizeof h || !walk.src().read(b.payload, h, sizeof h)) {
        refuse_malformed("stsz is too short");
    }
    t.stsz = Stsz{be32(h + 4), b.payload + 12, be32(h + 8)};
    t.samples = t.stsz.count;
    if (t.stsz.fixed == 0 && t.samples > (b.payload_size() - 12) / 4) {
        refuse_malformed("stsz has more entries than bytes");
    }
}

// The largest pre-roll an sgpd 'roll' describes, in samples.
std::uint32_t roll_of(BoxWalk& walk, const Box& sgpd)
{
    const std::string p = walk.payload(sgpd);
    const Reader r(p, "sgpd");
    const bool v1 = r.u8(0) == 1;
    if (!v1) {
        refuse_unsupported("an sgpd roll group of version 0");
    }
    const std::uint32_t length = r.u32(8);
    const std::uint32_t n = r.u32(12);
    std::uint32_t roll = 0;
    std::size_t at = 16;
    for (std::uint32_t i = 0; i < n; ++i) {
        const std::uint32_t len = length ? length : r.u32(at);
        at += length ? 0 : 4;
        if (len < 2) {
            refuse_malformed("an sgpd roll entry shorter than its distance");
        }
        const auto distance = static_cast<std::int16_t>(r.be_at(at, 2));
        roll = std::max<std::uint32_t>(roll, distance < 0 ? static_cast<std::uint32_t>(-distance) : 0);
        at += len;
    }
    return roll;
}

// Samples of pre-roll when the file has no roll group: AAC decodes a packet with the one
// before it (Apple's roll distance -1); ALAC, FLAC and AC-3 packets stand alone.
std::uint32_t default_roll(const Track& t)
{
    const auto codec = [&](const char* c) { return std::memcmp(t.codec, c, 4) == 0; };
    if (codec("mp4a")) {
        return 1;
    }
    if (codec("alac") || codec("fLaC") || codec("ac-3") || codec("ec-3")) {
        return 0;
    }
    refuse_unsupported("audio of codec '" + std::string(t.codec, 4) + "'");
}

// stts, stsc and stsz describe one number of samples (ISO/IEC 14496-12 §8.6.1.2, §8.7.3,
// §8.7.4), and stts sums to fewer than 2^63 ticks, so the arithmetic on them cannot overflow.
void check_counts(Track& t)
{
    std::uint64_t samples = 0;
    std::uint64_t ticks = 0;
    for (std::uint32_t i = 0; i < t.stts.entries; ++i) {
        samples += t.stts.count(i);
        const unsigned __int128 sum = static_cast<unsigned __int128>(t.stts.count(i)) * t.stts.value(i) + ticks;
        if (sum > std::numeric_limits<std::int64_t>::max()) {
            refuse_malformed("stts sums past 2^63 ticks");
        }
        ticks = static_cast<std::uint64_t>(sum);
    }
    const std::vector<Stsc>& runs = t.chunks.runs;
    std::uint64_t stsc_samples = 0;
    for (std::size_t i = 0; i < runs.size(); ++i) {
        const std::uint64_t next = i + 1 < runs.size() ? runs[i + 1].first_chunk : t.chunks.offsets.size();
        stsc_samples += (next - runs[i].first_chunk) * runs[i].per_chunk;
    }
    if (!t.chunks.offsets.empty() && (runs.empty() || runs[0].first_chunk != 0)) {
        refuse_malformed("stsc does not describe the first chunk");
    }
    if (samples != t.samples || stsc_samples != t.samples) {
        refuse_malformed("stts, stsc and stsz disagree on the number of samples");
    }
    t.ticks = ticks;
}

void read_stbl(BoxWalk& walk, Track& t)
{
    t.stbl_kids = walk.children(t.stbl);
    at_most_once(t.stbl_kids, {"stsd", "stts", "stsc", "stsz", "stco", "co64", "stss", "ctts"}, "a stbl");
    const Box* sgpd_roll = nullptr;
    for (const Box& b : t.stbl_kids) {
        if (is(b, "stz2")) {
            refuse_unsupported("compact sample sizes (stz2)");
        }
        if (is(b, "saiz") || is(b, "saio") || is(b, "senc")) {
            refuse_unsupported("encrypted samples");
        }
        Byte type[4] = {};
        if ((is(b, "sgpd") || is(b, "sbgp")) && b.payload_size() >= 8) {
            if (!walk.src().read(b.payload + 4, type, 4)) {
                refuse_malformed("read error in the moov");
            }
        }
        if (is(b, "sgpd") && std::memcmp(type, "roll", 4) == 0) {
            sgpd_roll = &b;
        }
        if (is(b, "sbgp") || is(b, "ctts")) {
            if (t.others.size() == kMaxSampleGroups) {
                refuse_malformed("more than " + std::to_string(kMaxSampleGroups) + " ctts and sbgp boxes (the cap)");
            }
            t.others.push_back(read_runs(walk, b, is(b, "ctts") ? "ctts" : "sbgp"));
            t.has_roll_group = t.has_roll_group || std::memcmp(type, "roll", 4) == 0;
        }
        if (is(b, "stss")) {
            t.stss = b;
        }
    }
    const std::uint32_t descriptions = read_stsd(walk, t, need(t.stbl_kids, "stsd"));
    t.stts = read_runs(walk, need(t.stbl_kids, "stts"), "stts");
    const Box* stco = BoxWalk::find(t.stbl_kids, "stco");
    const Box* co64 = BoxWalk::find(t.stbl_kids, "co64");
    if (!stco == !co64) {
        refuse_malformed("a track needs exactly one of stco and co64");
    }
    read_chunks(walk, t, stco ? *stco : *co64);
    read_stsc(walk, t, need(t.stbl_kids, "stsc"), descriptions);
    read_stsz(walk, t, need(t.stbl_kids, "stsz"));

    check_counts(t);
    if (sgpd_roll && t.has_roll_group) {
        t.roll = roll_of(walk, *sgpd_roll);
    }
}

}  // namespace

Track read_track(BoxWalk& walk, const Box& trak)
{
    Track t;
    t.trak = trak;
    t.trak_kids = walk.children(trak);
    at_most_once(t.trak_kids, {"tkhd", "edts", "tref", "mdia"}, "a trak");
    t.tkhd = need(t.trak_kids, "tkhd");
    read_tkhd(walk, t);
    if (const Box* edts = BoxWalk::find(t.trak_kids, "edts")) {
        const auto kids = walk.children(*edts);
        if (const Box* elst = BoxWalk::find(kids, "elst")) {
            read_elst(walk, t, *elst);
        }
    }
    if (const Box* tref = BoxWalk::find(t.trak_kids, "tref")) {
        read_tref(walk, t, *tref);
    }
    t.mdia_kids = walk.children(need(t.trak_kids, "mdia"));
    at_most_once(t.mdia_kids, {"mdhd", "hdlr", "minf"}, "a mdia");
    t.mdhd = need(t.mdia_kids, "mdhd");
    read_mdhd(walk, t);
    const std::string hdlr = small_payload(walk, need(t.mdia_kids, "hdlr"), "hdlr");
    if (hdlr.size() < 12) {
        refuse_malformed("hdlr is too short");
    }
    std::memcpy(t.handler, hdlr.data() + 8, 4);
    t.kind = std::memcmp(t.handler, "soun", 4) == 0 ? Kind::Audio : Kind::Other;
    t.minf_kids = walk.children(need(t.mdia_kids, "minf"));
    at_most_once(t.minf_kids, {"stbl"}, "a minf");
    t.stbl = need(t.minf_kids, "stbl");
    read_stbl(walk, t);
    if (t.kind == Kind::Audio && !t.has_roll_group) {
        t.roll = default_roll(t);
    }
    return t;
}

}  // namespace audio_stream::mp4
