// cut_mp4: a cut is a faststart MP4 (ftyp, moov, mdat) that plays from t. Files are made at
// test time with ffmpeg (AAC with the moov at the end and first, ALAC, an .m4b with chapters,
// two audio tracks, co64 offsets), cut in memory, written out, and judged by the box reader of
// mp4_tools.h, ffprobe, ffmpeg and the decoded audio.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "src/formats/toolbox.h"
#include "tests/unit/mp4_tools.h"
#include "tests/unit/printers.h"

namespace audio_stream {
namespace {

using namespace mp4_test;
using test_tools::TimeCase;

constexpr std::uint64_t kPacket = 1024;  // AAC samples per packet

const TimeCase kTimes[] = {
    {"AtZero", 0, Cut::Status::Ok},
    {"At50ms", 50000, Cut::Status::Ok},
    {"At1_5s", 1500000, Cut::Status::Ok},
    {"At7s", 7000000, Cut::Status::Ok},
    {"At12_345678s", 12345678, Cut::Status::Ok},
    {"At19_9s", 19900000, Cut::Status::Ok},
    {"AtEnd", 20000000, Cut::Status::PastEnd},
    {"At1000s", 1000000000, Cut::Status::PastEnd},
};

class Mp4Cut : public test_tools::FormatCut<Mp4Format> {};

// ISO/IEC 14496-12 §6.2: ftyp first; the cut always puts moov before mdat (a faststart file),
// and every sample of every track lies inside the mdat's payload.
TEST_P(Mp4Cut, FtypMoovMdatAndEverySampleInsideTheMdat)
{
    if (!ok()) {
        return;
    }
    const auto top = top_boxes(bytes_);
    std::vector<std::string> order;
    for (const Box& b : top) {
        order.push_back(b.type);
    }
    ASSERT_EQ(order, (std::vector<std::string>{"ftyp", "moov", "mdat"}));
    ASSERT_EQ(top.back().end, bytes_.size());
    const Box& mdat = top[2];
    std::size_t samples = 0;
    for (const Box& trak : tracks(bytes_)) {
        const Tables t = tables(bytes_, trak);
        ASSERT_EQ(t.deltas.size(), t.sizes.size()) << t.handler;
        const auto spans = sample_spans(t);
        ASSERT_EQ(spans.size(), t.sizes.size()) << "stsc covers every sample exactly";
        std::uint32_t in_chunks = 0;
        for (const std::uint32_t n : t.per_chunk) {
            in_chunks += n;
        }
        EXPECT_EQ(in_chunks, t.sizes.size());
        for (const auto& [at, size] : spans) {
            ASSERT_GE(at, mdat.payload);
            ASSERT_LE(at + size, mdat.end);
        }
        EXPECT_FALSE(t.co64) << "offsets below 2^32 stay in stco";
        samples += spans.size();
    }
    EXPECT_GT(samples, 0u);
}

// Each audio track's samples are the original's from the one playing at t, less at most the
// codec's pre-roll, byte for byte; the new edit list hides the pre-roll, to the sample.
TEST_P(Mp4Cut, SamplesAreTheOriginalsFromThePreRollBeforeT)
{
    if (!ok()) {
        return;
    }
    const std::string& original = file().bytes;
    const auto before = audio_tables(original);
    const auto after = audio_tables(bytes_);
    ASSERT_EQ(after.size(), before.size());
    for (std::size_t i = 0; i < after.size(); ++i) {
        const Tables& a = before[i];
        const Tables& b = after[i];
        ASSERT_EQ(b.timescale, a.timescale);
        ASSERT_LE(b.sizes.size(), a.sizes.size());
        const std::size_t first = a.sizes.size() - b.sizes.size();
        const auto from = sample_spans(a);
        const auto to = sample_spans(b);
        for (std::size_t k = 0; k < to.size(); ++k) {
            ASSERT_EQ(to[k].second, from[first + k].second);
            ASSERT_EQ(bytes_.compare(to[k].first, to[k].second, original, from[first + k].first, from[first + k].second),
                      0)
                << "sample " << k;
        }
        // The original's edit skips its priming; the cut's skips that plus what lies between
        // the first sample kept and t.
        ASSERT_EQ(a.edits.size(), 1u);
        ASSERT_EQ(b.edits.size(), 1u);
        const std::uint64_t t_media = a.edits[0].second + sample_at(time_.t, a.timescale);
        std::uint64_t first_tick = 0;
        for (std::size_t k = 0; k < first; ++k) {
            first_tick += a.deltas[k];
        }
        EXPECT_EQ(static_cast<std::uint64_t>(b.edits[0].second), t_media - first_tick);
        const bool aac = std::string(src_.codec) == "aac";
        const std::uint64_t pre_roll = aac && t_media >= kPacket ? kPacket : 0;
        // The sample holding t, and the one before it for AAC (a roll distance of -1).
        EXPECT_GE(t_media - first_tick, pre_roll);
        EXPECT_LT(t_media - first_tick, pre_roll + a.deltas[first]);
        if (aac) {
            EXPECT_EQ(b.roll, std::optional<std::int16_t>(-1));
            EXPECT_EQ(b.roll_samples, b.sizes.size());
        }
        // Durations: elst (movie timescale) and tkhd agree, mdhd counts the samples kept.
        EXPECT_EQ(b.track_duration, b.edits[0].first);
        std::uint64_t ticks = 0;
        for (const auto d : b.deltas) {
            ticks += d;
        }
        EXPECT_EQ(b.media_duration, ticks);
    }
}

// The cut starts at t's sample; ffprobe gives it the original's duration less the start.
TEST_P(Mp4Cut, StartsAtTAndLastsTheRest)
{
    if (!ok()) {
        return;
    }
    const std::uint64_t first = sample_at(time_.t, src_.rate);
    EXPECT_EQ(cut_.start, samples_to_micros(first, src_.rate));
    const double expected = file().duration - static_cast<double>(first) / src_.rate;
    EXPECT_NEAR(probe_duration(path_), expected, double(kPacket) / src_.rate);
    EXPECT_NEAR(static_cast<double>(cut_.duration) / 1e6, expected, double(kPacket) / src_.rate);
}

// What ffmpeg decodes from the cut is the original's audio from t's sample (Apple's priming
// and the pre-roll hidden by the edit list): identical for ALAC, correlated above 0.99 for
// AAC (a lossy decoder converged by its pre-roll), and as long within a packet.
TEST_P(Mp4Cut, DecodesToTheOriginalFromTsSample)
{
    if (!ok()) {
        return;
    }
    const auto audio = audio_tables(file().bytes);
    for (int i = 0; i < static_cast<int>(audio.size()); ++i) {
        const unsigned channels = channels_of(path_, i);
        ASSERT_GT(channels, 0u);
        const std::uint64_t first = sample_at(time_.t, audio[static_cast<std::size_t>(i)].timescale) * channels;
        std::string messages;
        const auto a = decode(file().path, i);
        const auto b = decode(path_, i, &messages);
        EXPECT_EQ(messages, "") << "ffmpeg decodes the cut without a word";
        ASSERT_LE(first, a.size());
        const std::size_t rest = a.size() - first;
        EXPECT_NEAR(static_cast<double>(b.size()), static_cast<double>(rest), double(kPacket * channels)) << i;
        const std::size_t n = std::min<std::size_t>({b.size(), rest, std::size_t{44100} * channels});
        ASSERT_GT(n, 0u);
        if (src_.exact) {
            ASSERT_EQ(b.size(), rest);
            EXPECT_TRUE(std::equal(b.begin(), b.end(), a.begin() + static_cast<std::ptrdiff_t>(first)));
        }
        else {
            EXPECT_GT(correlation(a.data() + first, b.data(), n), 0.99) << "stream " << i;
        }
    }
}

// Chapters that end after t stay, the first shortened to start at 0, the rest rebased: as
// ffprobe reads them, in the chapter track and in Nero's chpl.
TEST_P(Mp4Cut, ChaptersAreRebased)
{
    if (!ok() || std::string(src_.name) != "BookWithChapters") {
        return;
    }
    const std::uint64_t t_ms = static_cast<std::uint64_t>(cut_.start) / 1000;
    std::vector<std::pair<std::uint64_t, std::string>> expected;  // start ms, title
    for (const Chapter& c : kChapters) {
        if (c.end * 1000 > static_cast<std::uint64_t>(cut_.start)) {
            expected.emplace_back(c.start * 1000 > static_cast<std::uint64_t>(cut_.start) ? c.start - t_ms : 0, c.title);
        }
    }
    ASSERT_FALSE(expected.empty());
    // ffprobe.
    const Command c = run("ffprobe -v error -show_chapters -of csv=p=0 '" + path_ + "'");
    ASSERT_EQ(c.status, 0) << c.output;
    std::vector<std::pair<std::uint64_t, std::string>> probed;
    std::istringstream lines(c.output);
    for (std::string line; std::getline(lines, line);) {
        // id,time_base,start,start_time,end,end_time,title
        std::vector<std::string> f;
        std::istringstream fields(line);
        for (std::string x; std::getline(fields, x, ',');) {
            f.push_back(x);
        }
        ASSERT_EQ(f.size(), 7u) << line;
        probed.emplace_back(std::stoull(f[2]), f[6]);
    }
    ASSERT_EQ(probed.size(), expected.size()) << c.output;
    for (std::size_t i = 0; i < expected.size(); ++i) {
        EXPECT_NEAR(double(probed[i].first), double(expected[i].first), 1.0) << i;
        EXPECT_EQ(probed[i].second, expected[i].second);
    }
    // The chapter track: titles and durations, summing to the cut's length.
    const auto track = chapter_track(bytes_);
    ASSERT_EQ(track.size(), expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) {
        EXPECT_EQ(track[i].second, expected[i].second);
        const std::uint64_t end = i + 1 < expected.size() ? expected[i + 1].first : 20000 - t_ms;
        EXPECT_NEAR(double(track[i].first), double(end - expected[i].first), 1.0) << i;
    }
    // The chapter track is referenced by the audio track's tref 'chap'.
    const auto audio = audio_tables(bytes_);
    ASSERT_EQ(audio.size(), 1u);
    EXPECT_EQ(audio[0].chap_refs.size(), 1u);
    // Nero's chpl, in 100 ns units.
    const auto nero = chpl(bytes_);
    ASSERT_EQ(nero.size(), expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) {
        EXPECT_NEAR(double(nero[i].first) / 10000, double(expected[i].first), 1.0) << i;
        EXPECT_EQ(nero[i].second, expected[i].second);
    }
}

INSTANTIATE_TEST_SUITE_P(Sources, Mp4Cut, ::testing::ValuesIn(test_tools::all_cuts(kSources, kTimes)),
                         test_tools::CutCaseName());

// ---- the shape of a cut -------------------------------------------------------------------------

Cut cut_bytes(const std::string& bytes, Micros t) { return test_tools::served_cut("audio/mp4", bytes, t); }

// ?t=0 of a file whose moov is at the end is its faststart copy: the same samples in the same
// order, the moov first, and the audio one file extent.
TEST_F(Mp4Files, CutAtZeroIsAFaststartCopy)
{
    ASSERT_EQ(errors(), "");
    const std::string& original = fixture("AacMoovAtEnd").bytes;
    ASSERT_EQ(top_boxes(original)[2].type, "mdat") << "ffmpeg writes ftyp, free, mdat, moov";
    const Cut cut = cut_bytes(original, 0);
    ASSERT_EQ(cut.status, Cut::Status::Ok) << cut.detail;
    const std::string bytes = materialise(cut, original);
    const Box mdat_in = *find_box(original, {"mdat"});
    const Box mdat_out = *find_box(bytes, {"mdat"});
    EXPECT_EQ(bytes.substr(mdat_out.payload), original.substr(mdat_in.payload, mdat_in.end - mdat_in.payload));
    ASSERT_GE(cut.rep.extents.size(), 2u);
    const auto* audio = std::get_if<FileExtent>(&cut.rep.extents.back());
    ASSERT_NE(audio, nullptr);
    EXPECT_EQ(audio->offset, mdat_in.payload);
    EXPECT_EQ(audio->length, mdat_in.end - mdat_in.payload);
    EXPECT_EQ(fixture("AacFaststart").bytes.size(), bytes.size() + 8) << "the same file as +faststart, less its free box";
}

// The memory a cut holds grows with the chunks it keeps, not its samples: the tail of stsz (4
// bytes a sample) is a file extent of the original's table, as is the audio.
TEST_F(Mp4Files, SampleSizesAfterTheCutAreAFileExtent)
{
    ASSERT_TRUE(have_tools());
    const TempDir dir("mp4long");
    const std::string path = dir.path() + "/long.m4a";
    const Command c = run("ffmpeg -nostdin -v error -y -f lavfi -i 'sine=frequency=500:sample_rate=44100:duration=600' "
                          "-c:a aac -b:a 32k '" + path + "'");
    ASSERT_EQ(c.status, 0) << c.output;
    const std::string original = slurp(path);
    const Tables t = audio_tables(original).at(0);
    ASSERT_GT(t.sizes.size(), 25000u);
    const Box stsz = *find_box(original, {"moov", "trak", "mdia", "minf", "stbl", "stsz"});
    const Cut cut = cut_bytes(original, 60000000);
    ASSERT_EQ(cut.status, Cut::Status::Ok) << cut.detail;
    std::size_t memory = 0;
    bool sizes_by_extent = false;
    for (const auto& e : cut.rep.extents) {
        if (const auto* m = std::get_if<MemoryBlock>(&e)) {
            memory += m->bytes.size();
        }
        else {
            const auto& f = std::get<FileExtent>(e);
            sizes_by_extent = sizes_by_extent || (f.offset > stsz.payload && f.offset + f.length == stsz.end);
        }
    }
    EXPECT_TRUE(sizes_by_extent);
    EXPECT_LT(memory, 4096u) << "headers only; the 4 bytes of each of " << t.sizes.size() << " samples stay in the file";
    const std::string bytes = materialise(cut, original);
    EXPECT_EQ(audio_tables(bytes).at(0).sizes,
              std::vector<std::uint64_t>(t.sizes.end() - static_cast<std::ptrdiff_t>(audio_tables(bytes).at(0).sizes.size()),
                                         t.sizes.end()));
}

// Without a roll group in the file, the cut of an AAC track adds one (sgpd 'roll' -1 for every
// sample), so players that read it know the first packet only primes the decoder.
TEST_F(Mp4Files, AacWithoutARollGroupGetsOne)
{
    ASSERT_EQ(errors(), "");
    const std::string original = without_roll_group(fixture("AacMoovAtEnd").bytes);
    ASSERT_FALSE(audio_tables(original).at(0).roll.has_value());
    const Cut cut = cut_bytes(original, 7000000);
    ASSERT_EQ(cut.status, Cut::Status::Ok) << cut.detail;
    const std::string bytes = materialise(cut, original);
    const Tables t = audio_tables(bytes).at(0);
    EXPECT_EQ(t.roll, std::optional<std::int16_t>(-1));
    EXPECT_EQ(t.roll_samples, t.sizes.size());
    const TempDir dir("mp4roll");
    spit(dir.path() + "/cut.m4a", bytes);
    std::string messages;
    EXPECT_FALSE(decode(dir.path() + "/cut.m4a", 0, &messages).empty());
    EXPECT_EQ(messages, "");
}

// iTunSMPB (iTunes' gapless info: priming, padding and length of the whole file) would be wrong
// for a cut: it is dropped, the other tags are kept.
TEST_F(Mp4Files, ItunSmpbIsDroppedOtherTagsKept)
{
    ASSERT_EQ(errors(), "");
    const std::string original = with_itunsmpb(fixture("AacMoovAtEnd").bytes);
    ASSERT_NE(original.find("iTunSMPB"), std::string::npos);
    ASSERT_NE(original.find("\xa9too"), std::string::npos) << "ffmpeg's encoder tag";
    const Cut cut = cut_bytes(original, 3000000);
    ASSERT_EQ(cut.status, Cut::Status::Ok) << cut.detail;
    const std::string bytes = materialise(cut, original);
    EXPECT_EQ(bytes.find("iTunSMPB"), std::string::npos);
    EXPECT_NE(bytes.find("\xa9too"), std::string::npos);
    const auto ilst = find_box(bytes, {"moov", "udta", "meta", "ilst"});
    ASSERT_TRUE(ilst.has_value());
    EXPECT_EQ(kids(bytes, *ilst).back().end, ilst->end) << "ilst's size covers its items exactly";
}

TEST_F(Mp4Files, SameInputSameCutAndACutOfTheCutStartsWhereOneCutWould)
{
    ASSERT_EQ(errors(), "");
    const std::string& original = fixture("Alac").bytes;
    const Cut a = cut_bytes(original, 5000000);
    const Cut b = cut_bytes(original, 5000000);
    ASSERT_EQ(a.status, Cut::Status::Ok);
    EXPECT_EQ(a.rep.extents, b.rep.extents);
    EXPECT_EQ(a.rep.etag_suffix, "-t5000000");
    // The cut at 5 s cut again at 3 s plays from 8 s of the original.
    const std::string once = materialise(a, original);
    const Cut again = cut_bytes(once, 3000000);
    ASSERT_EQ(again.status, Cut::Status::Ok) << again.detail;
    const std::string twice = materialise(again, once);
    const TempDir dir("mp4twice");
    spit(dir.path() + "/twice.m4a", twice);
    const auto a8 = decode(fixture("Alac").path, 0);
    const auto b8 = decode(dir.path() + "/twice.m4a", 0);
    const std::size_t first = std::size_t{8} * 44100 * 2;
    ASSERT_EQ(b8.size(), a8.size() - first);
    EXPECT_TRUE(std::equal(b8.begin(), b8.end(), a8.begin() + static_cast<std::ptrdiff_t>(first)));
}

// ---- refused ---------------------------------------------------------------------------------

// Well-formed files of a kind the cutter does not cut: Unsupported (501), with the reason.
TEST_F(Mp4Files, FragmentedAndVideoFilesAreUnsupported)
{
    ASSERT_TRUE(have_tools());
    const TempDir dir("mp4refused");
    const std::string frag = dir.path() + "/frag.m4a", video = dir.path() + "/video.mp4";
    ASSERT_EQ(run("ffmpeg -nostdin -v error -y -f lavfi -i '" MP4_CHIRP "' -c:a aac -movflags frag_keyframe+empty_moov '" +
                  frag + "'").status, 0);
    ASSERT_EQ(run("ffmpeg -nostdin -v error -y -f lavfi -i testsrc=duration=3:size=64x64 -f lavfi -i '" MP4_CHIRP
                  "' -t 3 -c:v mpeg4 -c:a aac '" + video + "'").status, 0);
    for (const auto& [path, why] : {std::pair{frag, "fragmented"}, std::pair{video, "video"}}) {
        const Cut cut = cut_bytes(slurp(path), 1000000);
        EXPECT_EQ(cut.status, Cut::Status::Unsupported) << path;
        EXPECT_NE(cut.detail.find(why), std::string::npos) << cut.detail;
        EXPECT_TRUE(cut.rep.extents.empty());
    }
}

// Boxes and tables that do not fit or disagree: Malformed (500) with the reason.
TEST_F(Mp4Files, InconsistentTablesAreMalformed)
{
    ASSERT_EQ(errors(), "");
    const std::string& good = fixture("AacMoovAtEnd").bytes;
    const Box stbl = *find_box(good, {"moov", "trak", "mdia", "minf", "stbl"});
    const auto in_stbl = [&](const char* type) { return *find_box(good, {type}, stbl); };
    const Box stsz = in_stbl("stsz"), stsc = in_stbl("stsc"), stco = in_stbl("stco"), stts = in_stbl("stts");
    const Box moov = *find_box(good, {"moov"});
    auto patched = [&](std::size_t at, std::uint64_t value, int n) {
        std::string s = good;
        s.replace(at, static_cast<std::size_t>(n), bes(value, n));
        return s;
    };
    const struct {
        const char* name;
        std::string bytes;
        const char* detail;
    } cases[] = {
        {"stsz count off by one", patched(stsz.payload + 8, be(good, stsz.payload + 8, 4) - 1, 4), "disagree"},
        {"stts count off by one", patched(stts.payload + 8, be(good, stts.payload + 8, 4) + 1, 4), "disagree"},
        {"stsc first chunk 0", patched(stsc.payload + 8, 0, 4), "stsc"},
        {"stsc first chunk 2", patched(stsc.payload + 8, 2, 4), "stsc"},
        {"chunk past the file", patched(stco.payload + 8, good.size() - 10, 4), "past the end"},
        {"stsz entries past its box", patched(stsz.payload + 8, 0x10000000, 4), "stsz"},
        {"two moov boxes", good + good.substr(moov.offset, moov.end - moov.offset), "two moov"},
        {"no moov", good.substr(0, moov.offset), "no moov"},
        {"moov past the file", patched(moov.offset, good.size(), 4), "past the end"},
        {"track timescale 0", patched(find_box(good, {"moov", "trak", "mdia", "mdhd"})->payload + 12, 0, 4), "timescale"},
    };
    for (const auto& c : cases) {
        const Cut cut = cut_bytes(c.bytes, 5000000);
        EXPECT_EQ(cut.status, Cut::Status::Malformed) << c.name;
        EXPECT_NE(cut.detail.find(c.detail), std::string::npos) << c.name << ": " << cut.detail;
    }
}

// `s` with `extra` appended to the children of the box `inside` (it and its parents grown).
std::string with_kids_appended(const std::string& s, const Box& inside, const std::string& extra)
{
    std::string grown = s.substr(inside.offset, inside.end - inside.offset) + extra;
    grown.replace(0, 4, bes(grown.size(), 4));
    return replace_box(s, inside, grown);
}

// The track of `s` whose handler is `handler`.
Box track_of(const std::string& s, const char* handler)
{
    for (const Box& trak : tracks(s)) {
        if (tables(s, trak).handler == handler) {
            return trak;
        }
    }
    ADD_FAILURE() << "no " << handler << " track";
    return {};
}

// A box that the cut reads once and rewrites where it stands, given twice, is Malformed: each
// copy was rewritten from the one table read, so a moov of thousands of empty mdia or stts
// boxes made a cut thousands of times the work, and a chapter track with two stbl boxes made
// it read past its list of chapter tables. ctts and sbgp boxes, matched to their tables box by
// box, are capped; so are chapter references, each looked for among the tracks.
TEST_F(Mp4Files, RepeatedBoxesAndTooManyGroupsAreMalformed)
{
    ASSERT_EQ(errors(), "");
    const std::string& aac = fixture("AacMoovAtEnd").bytes;
    const std::string& book = fixture("BookWithChapters").bytes;
    const Box trak = track_of(aac, "soun");
    const Box stbl = *find_box(aac, {"mdia", "minf", "stbl"}, trak);
    const Box stts = *find_box(aac, {"stts"}, stbl);
    const Box text = track_of(book, "text");
    const Box text_minf = *find_box(book, {"mdia", "minf"}, text);
    const Box text_stbl = *find_box(book, {"stbl"}, text_minf);
    const Box tref = *find_box(book, {"tref"}, track_of(book, "soun"));
    std::string groups;
    for (int i = 0; i < 17; ++i) {
        groups += full_box("sbgp", 0, "roll" + bes(0, 4));
    }
    std::string refs;
    for (int i = 0; i < 17; ++i) {
        refs += bes(2, 4);
    }
    const struct {
        const char* name;
        std::string bytes;
        const char* detail;
    } cases[] = {
        {"1000 empty mdia boxes", with_kids_appended(aac, trak, [] {
             std::string many;
             for (int i = 0; i < 1000; ++i) {
                 many += box("mdia", "");
             }
             return many;
         }()), "two mdia boxes in a trak"},
        {"two stts", with_kids_appended(aac, stbl, aac.substr(stts.offset, stts.end - stts.offset)),
         "two stts boxes in a stbl"},
        {"a chapter track with two stbl", with_kids_appended(book, text_minf, book.substr(text_stbl.offset, text_stbl.end - text_stbl.offset)),
         "two stbl boxes in a minf"},
        {"two tref", with_kids_appended(book, track_of(book, "soun"), book.substr(tref.offset, tref.end - tref.offset)),
         "two tref boxes in a trak"},
        {"17 more sbgp", with_kids_appended(aac, stbl, groups), "ctts and sbgp boxes (the cap)"},
        {"17 chapter references", replace_box(book, tref, box("tref", box("chap", refs))), "more chapter references than tracks"},
    };
    for (const auto& c : cases) {
        const Cut cut = cut_bytes(c.bytes, 5000000);
        EXPECT_EQ(cut.status, Cut::Status::Malformed) << c.name;
        EXPECT_NE(cut.detail.find(c.detail), std::string::npos) << c.name << ": " << cut.detail;
    }
}

// stts runs of no samples in a chapter track are passed over: the chapters come out as they do
// without them (the runs are walked once, not once per chapter).
TEST_F(Mp4Files, ChapterTimesSkipRunsOfNoSamples)
{
    ASSERT_EQ(errors(), "");
    const std::string& book = fixture("BookWithChapters").bytes;
    const Box stts = *find_box(book, {"mdia", "minf", "stbl", "stts"}, track_of(book, "text"));
    const std::uint64_t n = be(book, stts.payload + 4, 4);
    std::string runs;
    for (std::uint64_t i = 0; i < n; ++i) {
        runs += bes(0, 4) + bes(12345, 4) + book.substr(stts.payload + 8 + 8 * i, 8);
    }
    runs += bes(0, 4) + bes(777, 4);
    const std::string padded = replace_box(book, stts, full_box("stts", 0, bes(2 * n + 1, 4) + runs));
    const Cut plain = cut_bytes(book, 7000000);
    const Cut cut = cut_bytes(padded, 7000000);
    ASSERT_EQ(plain.status, Cut::Status::Ok) << plain.detail;
    ASSERT_EQ(cut.status, Cut::Status::Ok) << cut.detail;
    const auto want = chapter_track(materialise(plain, book));
    ASSERT_EQ(want.size(), 3u);
    EXPECT_EQ(chapter_track(materialise(cut, padded)), want);
}

// A chapter track of 1024 chapters whose stts begins with four million runs of no samples:
// each chapter's time was found by walking stts from its start, 4 billion steps in all.
TEST_F(Mp4Files, ChapterTimesOfAHostileSttsAreFoundInOnePass)
{
    ASSERT_EQ(errors(), "");
    const std::string& book = fixture("BookWithChapters").bytes;
    const Box text = track_of(book, "text");
    const Box stbl = *find_box(book, {"mdia", "minf", "stbl"}, text);
    const Box stsd = *find_box(book, {"stsd"}, stbl);
    const Box mdat = *find_box(book, {"mdat"});
    const std::uint64_t timescale = tables(book, text).timescale;
    const std::uint64_t n = 1024, zero_runs = 4000000, delta = timescale * 19 / n;
    std::string stts = bes(zero_runs + 1, 4);
    stts.reserve(8 * zero_runs + 16);
    for (std::uint64_t i = 0; i < zero_runs; ++i) {
        stts += bes(0, 4) + bes(1, 4);
    }
    stts += bes(n, 4) + bes(delta, 4);
    // Every chapter a 2-byte sample, all in one chunk at the start of the audio.
    const std::string table = box("stbl", book.substr(stsd.offset, stsd.end - stsd.offset) + full_box("stts", 0, stts) +
                                              full_box("stsc", 0, bes(1, 4) + bes(1, 4) + bes(n, 4) + bes(1, 4)) +
                                              full_box("stsz", 0, bes(2, 4) + bes(n, 4)) +
                                              full_box("stco", 0, bes(1, 4) + bes(mdat.payload, 4)));
    const std::string hostile = replace_box(book, stbl, table);
    const auto started = std::chrono::steady_clock::now();
    const Cut cut = cut_bytes(hostile, 7000000);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    ASSERT_EQ(cut.status, Cut::Status::Ok) << cut.detail;
    std::uint64_t kept = 0;
    for (std::uint64_t i = 0; i < n; ++i) {
        kept += (i + 1) * delta > 7 * timescale;
    }
    const std::string out = materialise(cut, hostile);
    EXPECT_EQ(tables(out, track_of(out, "text")).sizes.size(), kept);
    EXPECT_LT(seconds, 5.0) << "the chapter stts was walked more than once";  // 27 s when it was
}

// A file of any size can be probed without being held: bytes a MemorySource never has.
class SparseSource final : public ByteSource {
public:
    SparseSource(Offset size, std::vector<std::pair<Offset, std::string>> pieces)
        : size_(size), pieces_(std::move(pieces))
    {
    }
    Offset size() const override { return size_; }
    bool read(Offset offset, void* buf, std::size_t len) override
    {
        if (offset > size_ || len > size_ - offset) {
            return false;
        }
        auto* out = static_cast<char*>(buf);
        std::fill(out, out + len, '\0');
        for (const auto& [at, bytes] : pieces_) {
            const Offset from = std::max(at, offset), to = std::min(at + bytes.size(), offset + len);
            if (from < to) {
                std::memcpy(out + (from - offset), bytes.data() + (from - at), to - from);
            }
        }
        return true;
    }

private:
    Offset size_;
    std::vector<std::pair<Offset, std::string>> pieces_;
};

// The caps: a moov over 64 MiB is refused before it is read.
TEST(Mp4Caps, MoovOverTheCapIsMalformedUnread)
{
    const std::string ftyp = box("ftyp", "M4A \0\0\0\0M4A mp42" + std::string(1, '\0'));
    const Offset moov_size = mp4::kMaxMoov + 1;
    SparseSource src(ftyp.size() + moov_size, {{0, ftyp}, {ftyp.size(), bes(moov_size, 4) + "moov"}});
    const Cut cut = cut_mp4(src, 0);
    EXPECT_EQ(cut.status, Cut::Status::Malformed);
    EXPECT_NE(cut.detail.find("cap"), std::string::npos) << cut.detail;
}

// Audio past 4 GiB: the cut's chunk offsets need 64 bits, so stco becomes co64 and the mdat a
// 64-bit box. Made from a real file: its samples split into two chunks, the second moved 5 GiB
// on, in a sparse file of which only the boxes and the samples exist.
TEST_F(Mp4Files, AudioPast4GiBGetsCo64AndA64BitMdat)
{
    ASSERT_EQ(errors(), "");
    const std::string small = fixture("AacCo64").bytes;  // co64 already, moov at the end
    const Box trak = tracks(small).at(0);
    const Tables t = tables(small, trak);
    ASSERT_EQ(t.chunks.size(), 1u) << "ffmpeg writes one chunk for an audio-only file";
    const auto spans = sample_spans(t);
    const std::size_t half = spans.size() / 2;
    const std::uint64_t first_bytes = spans[half].first - spans[0].first;
    const std::string a = small.substr(spans[0].first, first_bytes);
    const std::string b = small.substr(spans[half].first, spans.back().first + spans.back().second - spans[half].first);
    // The big file: ftyp, a 64-bit mdat of [a, zeros, b], then the moov with two chunks.
    const std::string ftyp = small.substr(0, top_boxes(small)[0].end);
    const Offset a_at = ftyp.size() + 16, b_at = Offset{5} << 30;
    const Offset moov_at = b_at + b.size();
    const std::string mdat_header = bes(1, 4) + "mdat" + bes(moov_at - ftyp.size(), 8);
    std::string moov = small.substr(find_box(small, {"moov"})->offset, find_box(small, {"moov"})->end - find_box(small, {"moov"})->offset);
    const Box stbl = *find_box(moov, {"moov", "trak", "mdia", "minf", "stbl"});
    moov = replace_box(moov, *find_box(moov, {"co64"}, stbl), full_box("co64", 0, bes(2, 4) + bes(a_at, 8) + bes(b_at, 8)));
    const Box stbl2 = *find_box(moov, {"moov", "trak", "mdia", "minf", "stbl"});
    moov = replace_box(moov, *find_box(moov, {"stsc"}, stbl2),
                       full_box("stsc", 0, bes(2, 4) + bes(1, 4) + bes(half, 4) + bes(1, 4) + bes(2, 4) +
                                               bes(spans.size() - half, 4) + bes(1, 4)));
    SparseSource src(moov_at + moov.size(), {{0, ftyp + mdat_header}, {a_at, a}, {b_at, b}, {moov_at, moov}});
    const Cut cut = cut_mp4(src, 0);
    ASSERT_EQ(cut.status, Cut::Status::Ok) << cut.detail;
    ASSERT_EQ(cut.rep.length, extents_length(cut.rep.extents));
    // The headers: everything before the first file extent.
    std::string head;
    for (const auto& e : cut.rep.extents) {
        if (const auto* m = std::get_if<MemoryBlock>(&e)) {
            head += m->bytes;
        }
        else {
            break;
        }
    }
    const auto top = boxes(head, 0, head.size());
    ASSERT_EQ(top.size(), 2u) << "ftyp and moov whole; the mdat header follows";
    const Tables out = tables(head, tracks(head).at(0));
    ASSERT_TRUE(out.co64);
    ASSERT_EQ(out.chunks.size(), 2u);
    const std::string rest = head.substr(top[1].end);
    ASSERT_EQ(rest.size(), 16u) << "a 64-bit mdat header";
    EXPECT_EQ(be(rest, 0, 4), 1u);
    EXPECT_EQ(rest.substr(4, 4), "mdat");
    EXPECT_EQ(be(rest, 8, 8), cut.rep.length - top[1].end);
    // Both chunks are where the cut puts the original's bytes.
    EXPECT_EQ(out.chunks[0], head.size());
    EXPECT_EQ(out.chunks[1], head.size() + (b_at - a_at));
    EXPECT_GT(out.chunks[1], Offset{1} << 32);
    EXPECT_EQ(cut.rep.length, head.size() + (moov_at - a_at));
}

// Truncated and mutated files never break the invariants (fuzz_mp4 does this at scale).
TEST_F(Mp4Files, TruncatedAndMutatedFilesNeverBreakTheInvariants)
{
    ASSERT_EQ(errors(), "");
    for (const char* name : {"BookWithChapters", "AacFaststart"}) {
        const std::string& good = fixture(name).bytes;
        for (std::size_t n = 0; n < good.size(); n += 997) {
            const std::string part = good.substr(0, n);
            test_tools::expect_invariants(cut_bytes(part, 2000000), part.size(), 2000000);
        }
        const Box moov = *find_box(good, {"moov"});
        for (std::size_t at = moov.offset; at < moov.end; at += 7) {
            std::string bad = good;
            bad[at] = static_cast<char>(bad[at] ^ 0x5A);
            const Cut cut = cut_bytes(bad, 2000000);
            test_tools::expect_invariants(cut, bad.size(), 2000000);
            EXPECT_TRUE(cut.status != Cut::Status::Malformed || !cut.detail.empty());
        }
    }
}

}  // namespace
}  // namespace audio_stream
