// cut_mp4 on files it must refuse or survive: kinds it does not cut (Unsupported), tables that
// do not agree or repeat (Malformed), hostile chapter tables, truncated and mutated files.
// Moved from test_mp4.cpp (split for length), each test saying so.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "src/formats/mp4/writer.h"
#include "src/formats/toolbox.h"
#include "tests/unit/mp4_tools.h"
#include "tests/unit/printers.h"

namespace audio_stream {
namespace {

using namespace mp4_test;

// A file the cut must refuse as Malformed, and what the reason says.
struct MalformedCase {
    const char* name;
    std::string bytes;
    const char* detail;
};

void expect_malformed(const std::vector<MalformedCase>& cases)
{
    for (const MalformedCase& c : cases) {
        const Cut cut = cut_bytes(c.bytes, 5000000);
        EXPECT_EQ(cut.status, Cut::Status::Malformed) << c.name;
        EXPECT_NE(cut.detail.find(c.detail), std::string::npos) << c.name << ": " << cut.detail;
    }
}

// ---- refused ---------------------------------------------------------------------------------

// Well-formed files of a kind the cutter does not cut: Unsupported (501), with the reason.
// (Moved from test_mp4.cpp.)
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
// (Moved from test_mp4.cpp.)
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
    const std::vector<MalformedCase> cases = {
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
    expect_malformed(cases);
}

// A box that the cut reads once and rewrites where it stands, given twice, is Malformed: each
// copy was rewritten from the one table read, so a moov of thousands of empty mdia or stts
// boxes made a cut thousands of times the work, and a chapter track with two stbl boxes made
// it read past its list of chapter tables. ctts and sbgp boxes, matched to their tables box by
// box, are capped; so are chapter references, each looked for among the tracks.
// (Moved from test_mp4.cpp.)
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
    const std::vector<MalformedCase> cases = {
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
    expect_malformed(cases);
}

// stts runs of no samples in a chapter track are passed over: the chapters come out as they do
// without them (the runs are walked once, not once per chapter).
// (Moved from test_mp4.cpp.)
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

// A chapter track of 1024 chapters whose stts begins with a million and a half runs of no
// samples: each chapter's time was found by walking stts from its start, 1.5 billion steps in
// all. Four million runs (27 s when walked per chapter) are past the request's budget of steps
// now: OverBudget, without the walk. (Moved from test_mp4.cpp.)
std::string with_chapter_stts_of_zero_runs(const std::string& book, std::uint64_t zero_runs, std::uint64_t n)
{
    const Box text = track_of(book, "text");
    const Box stbl = *find_box(book, {"mdia", "minf", "stbl"}, text);
    const Box stsd = *find_box(book, {"stsd"}, stbl);
    const Box mdat = *find_box(book, {"mdat"});
    const std::uint64_t delta = tables(book, text).timescale * 19 / n;
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
    return replace_box(book, stbl, table);
}

TEST_F(Mp4Files, ChapterTimesOfAHostileSttsAreFoundInOnePass)
{
    ASSERT_EQ(errors(), "");
    const std::string& book = fixture("BookWithChapters").bytes;
    const std::uint64_t n = 1024, timescale = tables(book, track_of(book, "text")).timescale, delta = timescale * 19 / n;
    const std::string hostile = with_chapter_stts_of_zero_runs(book, 1500000, n);
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
    EXPECT_LT(seconds, 5.0) << "the chapter stts was walked more than once";  // 10 s when it was

    const Cut over = cut_bytes(with_chapter_stts_of_zero_runs(book, 4000000, n), 7000000);
    EXPECT_EQ(over.status, Cut::Status::OverBudget);
    EXPECT_EQ(over.detail, "over the request's budget of " + std::to_string(kRequestBudget.steps) + " steps");
    EXPECT_TRUE(over.whole_file);  // its tables cost the same from any START
}

// Boxes the cut copies unchanged are read into memory only while the cut's copies stay within
// kMaxCopiedBytes; the rest are file extents. 4,090 unknown boxes of 16 KiB less a byte in a
// udta made every cut hold 64 MiB (each box under kCopyByExtent).
TEST_F(Mp4Files, CopiedBoxesPastTheMemoryCapAreFileExtents)
{
    ASSERT_EQ(errors(), "");
    const std::string& aac = fixture("AacMoovAtEnd").bytes;
    const Box moov = *find_box(aac, {"moov"});
    ASSERT_EQ(moov.end, aac.size()) << "the moov last: growing it moves no sample";
    const Box udta = *find_box(aac, {"moov", "udta"});
    const auto with_boxes = [&](int n) {
        std::string kids;
        for (int i = 0; i < n; ++i) {
            kids += box("zzzz", std::string(16383 - 8, static_cast<char>('a' + i % 26)));
        }
        std::string grown = aac.substr(0, udta.end) + kids + aac.substr(udta.end);
        grown.replace(udta.offset, 4, bes(udta.end - udta.offset + kids.size(), 4));
        grown.replace(moov.offset, 4, bes(moov.end - moov.offset + kids.size(), 4));
        return grown;
    };
    const auto memory = [](const Cut& cut) {
        Offset n = 0;
        for (const auto& e : cut.rep.extents) {
            if (const auto* m = std::get_if<MemoryBlock>(&e)) {
                n += m->bytes.size();
            }
        }
        return n;
    };
    const Offset baseline = memory(cut_bytes(aac, 5000000));
    for (const int n : {10, 300}) {
        const std::string file = with_boxes(n);
        const Cut cut = cut_bytes(file, 5000000);
        ASSERT_EQ(cut.status, Cut::Status::Ok) << cut.detail;
        const std::string out = materialise(cut, file);
        const auto zzzz_of = [](const std::string& in) {
            std::string all;
            for (const Box& b : kids(in, *find_box(in, {"moov", "udta"}))) {
                all += b.type == "zzzz" ? in.substr(b.offset, b.end - b.offset) : "";
            }
            return all;
        };
        const std::string zzzz = zzzz_of(out), original = zzzz_of(file);
        EXPECT_EQ(zzzz.size(), std::size_t{16383} * n) << "every box kept";
        EXPECT_TRUE(zzzz == original) << "byte for byte";
        if (n == 10) {
            EXPECT_GE(memory(cut), baseline + 16383 * 10) << "a few small boxes are copied";
        }
        else {
            EXPECT_LE(memory(cut), baseline + mp4::kMaxCopiedBytes) << "the rest are the file's";
            EXPECT_LT(memory(cut), baseline + Offset{16383} * n / 4) << "most of them stay in the file";
        }
    }
}

// The invariants of a cut over `span` of a truncated or mutated file; a clip also lasts no more
// than it says it spans (to the microsecond its times are rounded to).
void expect_survived(const std::string& bytes, const Span& span)
{
    const Cut cut = cut_bytes(bytes, span);
    test_tools::expect_invariants(cut, bytes.size(), span);
    EXPECT_TRUE(cut.status != Cut::Status::Malformed || !cut.detail.empty());
    if (cut.status == Cut::Status::Ok && cut.end != Span::kToTheEnd) {
        EXPECT_LE(cut.duration, cut.end - cut.start + 1);
    }
}

// Truncated and mutated files never break the invariants (fuzz_mp4 does this at scale), for the
// cut from 2 s and for a clip of it to 2.5 s: the clip's own paths (the last stts and sbgp run
// kept in part, the last stsc entry, stss's upper bound, the chapters clipped at END, the finer
// movie timescale) meet the same hostile bytes. (Moved from test_mp4.cpp, which cut from 2 s
// only.)
TEST_F(Mp4Files, TruncatedAndMutatedFilesNeverBreakTheInvariants)
{
    ASSERT_EQ(errors(), "");
    for (const char* name : {"BookWithChapters", "AacFaststart"}) {
        const std::string& good = fixture(name).bytes;
        for (const Span& span : {Span{2000000}, Span{2000000, 2500000}}) {
            for (std::size_t n = 0; n < good.size(); n += 997) {
                expect_survived(good.substr(0, n), span);
            }
            const Box moov = *find_box(good, {"moov"});
            for (std::size_t at = moov.offset; at < moov.end; at += 7) {
                std::string bad = good;
                bad[at] = static_cast<char>(bad[at] ^ 0x5A);
                expect_survived(bad, span);
            }
        }
    }
}

}  // namespace
}  // namespace audio_stream
