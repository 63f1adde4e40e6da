#include "track.h"

#include <algorithm>
#include <cstring>
#include <initializer_list>
#include <limits>

#include "mp4.h"

namespace audio_stream::mp4 {

namespace {

constexpr std::uint32_t kRateOne = 0x00010000;      // 16.16 media rate 1.0
constexpr std::size_t kSizesWindow = 16 * 1024;     // stsz entries read at once (64 KiB)
constexpr Offset kMaxSmallBox = 4096;               // tkhd, mdhd, hdlr, elst, stsd head, tref

std::string small_payload(BoxWalk& walk, const Box& b, const char* what)
{
    if (b.payload_size() > kMaxSmallBox) {
        refuse_malformed(std::string(what) + " box is too large");
    }
    return walk.payload(b);
}

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
    t.tkhd_v1 = r.u8(0) == 1;
    t.id = r.u32(t.tkhd_v1 ? 20 : 12);
    r.be_at(t.tkhd_v1 ? 28 : 20, t.tkhd_v1 ? 8 : 4);  // the duration is there to rewrite
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
    t.has_edit = true;
    t.edit_duration = duration;
    t.edit_media_time = media_time;
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
    t.mdhd_v1 = r.u8(0) == 1;
    t.timescale = r.u32(t.mdhd_v1 ? 20 : 12);
    r.be_at(t.mdhd_v1 ? 24 : 16, t.mdhd_v1 ? 8 : 4);
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
    t.stsc.reserve(n);
    for (std::uint32_t i = 0; i < n; ++i) {
        const std::size_t at = 8 + std::size_t{12} * i;
        const std::uint32_t first = r.u32(at);
        const Stsc e{first - 1, r.u32(at + 4), r.u32(at + 8)};
        const bool ordered = i == 0 ? first == 1 : first > t.stsc.back().first_chunk + 1;
        if (!ordered || e.first_chunk >= t.chunks.size() || e.per_chunk == 0 || e.description == 0 ||
            e.description > descriptions) {
            refuse_malformed("stsc entries are out of order or out of range");
        }
        t.stsc.push_back(e);
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
    t.chunks.resize(n);
    for (std::uint32_t i = 0; i < n; ++i) {
        t.chunks[i] = r.be_at(8 + w * i, w);
    }
}

void read_stsz(BoxWalk& walk, Track& t, const Box& b)
{
    Byte h[12];
    if (b.payload_size() < sizeof h || !walk.src().read(b.payload, h, sizeof h)) {
        refuse_malformed("stsz is too short");
    }
    t.sample_size = be32(h + 4);
    t.samples = be32(h + 8);
    t.sizes_at = b.payload + 12;
    if (t.sample_size == 0 && t.samples > (b.payload_size() - 12) / 4) {
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
            t.has_ctts = t.has_ctts || is(b, "ctts");
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
    std::uint64_t stsc_samples = 0;
    for (std::size_t i = 0; i < t.stsc.size(); ++i) {
        const std::uint64_t next = i + 1 < t.stsc.size() ? t.stsc[i + 1].first_chunk : t.chunks.size();
        stsc_samples += (next - t.stsc[i].first_chunk) * t.stsc[i].per_chunk;
    }
    if (!t.chunks.empty() && (t.stsc.empty() || t.stsc[0].first_chunk != 0)) {
        refuse_malformed("stsc does not describe the first chunk");
    }
    if (samples != t.samples || stsc_samples != t.samples) {
        refuse_malformed("stts, stsc and stsz disagree on the number of samples");
    }
    t.ticks = ticks;
    if (sgpd_roll && t.has_roll_group) {
        t.roll = roll_of(walk, *sgpd_roll);
    }
}

}  // namespace

RunsAt runs_at(const Runs& r, std::uint64_t k)
{
    RunsAt at;
    std::uint64_t seen = 0;
    for (; at.entry < r.entries; ++at.entry) {
        const std::uint32_t n = r.count(at.entry);
        if (k < seen + n) {
            at.left = static_cast<std::uint32_t>(seen + n - k);
            at.before += (k - seen) * r.value(at.entry);
            return at;
        }
        seen += n;
        at.before += std::uint64_t{n} * r.value(at.entry);
    }
    return at;
}

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

Offset SampleSizes::sum(std::uint64_t first, std::uint64_t count)
{
    if (t_.sample_size != 0) {
        return count * t_.sample_size;
    }
    Offset total = 0;
    for (std::uint64_t i = first; i < first + count; ++i) {
        const std::uint64_t in = i - window_first_;
        if (i < window_first_ || in >= window_.size() / 4) {
            const std::uint64_t n = std::min<std::uint64_t>(kSizesWindow, t_.samples - i);
            window_.resize(static_cast<std::size_t>(n * 4));
            if (!src_.read(t_.sizes_at + i * 4, window_.data(), window_.size())) {
                refuse_malformed("read error in stsz");
            }
            window_first_ = i;
        }
        total += be32(reinterpret_cast<const Byte*>(window_.data()) + (i - window_first_) * 4);
    }
    return total;
}

std::uint64_t rescale(std::uint64_t ticks, std::uint32_t from, std::uint32_t to)
{
    if (from == 0) {
        return 0;
    }
    const unsigned __int128 v = (static_cast<unsigned __int128>(ticks) * to + from / 2) / from;
    constexpr auto kMax = std::numeric_limits<std::uint64_t>::max();
    return v > kMax ? kMax : static_cast<std::uint64_t>(v);
}

namespace {

// The chunk that holds sample k and the samples of it before k; the first sample of each chunk
// run, walked once.
struct ChunkOf {
    std::uint64_t chunk;
    std::uint64_t first_sample;  // of the chunk
};

ChunkOf chunk_of(const Track& t, std::uint64_t k)
{
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < t.stsc.size(); ++i) {
        const std::uint64_t next = i + 1 < t.stsc.size() ? t.stsc[i + 1].first_chunk : t.chunks.size();
        const std::uint64_t per = t.stsc[i].per_chunk;
        const std::uint64_t in_run = (next - t.stsc[i].first_chunk) * per;
        if (k < seen + in_run) {
            const std::uint64_t c = (k - seen) / per;
            return {t.stsc[i].first_chunk + c, seen + c * per};
        }
        seen += in_run;
    }
    refuse_malformed("a sample past the chunks");  // read_stbl checked the counts agree
}

std::uint32_t per_chunk(const Track& t, std::size_t& run, std::uint64_t chunk)
{
    while (run + 1 < t.stsc.size() && t.stsc[run + 1].first_chunk <= chunk) {
        ++run;
    }
    return t.stsc[run].per_chunk;
}

}  // namespace

std::optional<TrackCut> cut_track(ByteSource& src, const Track& t, std::uint32_t movie_timescale, Micros at)
{
    const std::uint64_t media0 = t.has_edit ? t.edit_media_time : 0;
    if (media0 >= t.ticks) {
        refuse_malformed("the edit starts past the end of the media");
    }
    std::uint64_t presented = t.ticks - media0;
    if (t.has_edit && t.edit_duration != 0) {
        presented = std::min(presented, rescale(t.edit_duration, movie_timescale, t.timescale));
    }
    TrackCut c;
    c.start_ticks = sample_at(at, t.timescale);
    if (c.start_ticks >= presented) {
        return std::nullopt;
    }
    const std::uint64_t m = media0 + c.start_ticks;
    // The sample presented at m: the first whose end passes m.
    std::uint64_t sample = 0;
    std::uint64_t ticks = 0;
    for (std::uint32_t i = 0; i < t.stts.entries; ++i) {
        const std::uint64_t n = t.stts.count(i);
        const std::uint64_t d = t.stts.value(i);
        if (d != 0 && m < ticks + n * d) {
            sample += (m - ticks) / d;
            break;
        }
        sample += n;
        ticks += n * d;
    }
    c.first = sample - std::min<std::uint64_t>(sample, t.roll);
    c.skipped = runs_at(t.stts, c.first).before;
    c.media_time = m - c.skipped;
    c.presented = presented - c.start_ticks;

    const ChunkOf where = chunk_of(t, c.first);
    c.chunk = where.chunk;
    c.dropped_in_chunk = static_cast<std::uint32_t>(c.first - where.first_sample);
    SampleSizes sizes(src, t);
    std::size_t run = 0;
    std::uint64_t next_sample = where.first_sample;
    c.data_start = std::numeric_limits<Offset>::max();
    for (std::uint64_t chunk = where.chunk; chunk < t.chunks.size(); ++chunk) {
        const std::uint32_t per = per_chunk(t, run, chunk);
        const std::uint32_t skip = chunk == where.chunk ? c.dropped_in_chunk : 0;
        const Offset before = skip ? sizes.sum(next_sample, skip) : 0;
        const Offset bytes = sizes.sum(next_sample + skip, per - skip);
        next_sample += per;
        const Offset offset = t.chunks[chunk] + before;
        if (offset < t.chunks[chunk] || offset > src.size() || bytes > src.size() - offset) {
            refuse_malformed("a chunk runs past the end of the file");
        }
        c.offsets.push_back(offset);
        c.data_start = std::min(c.data_start, offset);
        c.data_end = std::max(c.data_end, offset + bytes);
    }
    return c;
}

std::vector<ChapterSample> cut_chapters(ByteSource& src, const Track& t, Micros at)
{
    if (t.samples > kMaxChapters) {
        refuse_malformed("more than " + std::to_string(kMaxChapters) + " chapters (the cap)");
    }
    if (t.has_edit && t.edit_media_time != 0) {
        refuse_unsupported("a chapter track with an edit");
    }
    const std::uint64_t from = sample_at(at, t.timescale);
    std::vector<ChapterSample> out;
    SampleSizes sizes(src, t);
    std::size_t run = 0;
    std::uint64_t sample = 0;
    std::uint64_t start = 0;
    // The stts run of `sample` and how many samples of it came before: walked forward once, so
    // runs of no samples (which a table may hold by the million) are passed once, not per sample.
    std::uint32_t entry = 0;
    std::uint64_t used = 0;
    for (std::uint64_t chunk = 0; chunk < t.chunks.size(); ++chunk) {
        const std::uint32_t per = per_chunk(t, run, chunk);
        Offset offset = t.chunks[chunk];
        for (std::uint32_t i = 0; i < per; ++i, ++sample) {
            const Offset size = sizes.size(sample);
            for (; entry < t.stts.entries && used == t.stts.count(entry); used = 0) {
                ++entry;
            }
            const std::uint64_t ticks = entry < t.stts.entries ? t.stts.value(entry) : 0;
            ++used;
            if (start + ticks > from) {
                if (size > kMaxChapterSample) {
                    refuse_malformed("a chapter title of more than 4 KiB");
                }
                ChapterSample c{std::string(static_cast<std::size_t>(size), '\0'), start + ticks - std::max(start, from)};
                if (!src.read(offset, c.bytes.data(), c.bytes.size())) {
                    refuse_malformed("a chapter sample past the end of the file");
                }
                out.push_back(std::move(c));
            }
            start += ticks;
            offset += size;
        }
    }
    return out;
}

}  // namespace audio_stream::mp4
