// cut_ogg: a cut is a complete Ogg Vorbis or Ogg Opus file (RFC 3533, Vorbis I, RFC 7845) that
// starts at or before t. Files are made at test time with ffmpeg, oggenc and opusenc (and
// re-paged here so that packets straddle pages), cut in memory, written out, and judged by
// an independent page walker, ogginfo/opusinfo, ffmpeg, ffprobe and the decoded audio. This
// file: every source at every time and the shape of a cut; pages in test_ogg_page.cpp, codecs
// and streams in test_ogg_codec.cpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "src/formats/toolbox.h"
#include "tests/unit/ogg_tools.h"
#include "tests/unit/printers.h"

namespace audio_stream {
namespace {

using namespace ogg_test;

// ---------------------------------------------------------------------------------------------
// Valid cuts: every source at every time.

using test_tools::TimeCase;

const TimeCase kTimes[] = {
    {"AtZero", 0, Cut::Status::Ok},
    {"At50ms", 50000, Cut::Status::Ok},
    {"At1_5s", 1500000, Cut::Status::Ok},
    {"At7s", 7000000, Cut::Status::Ok},
    {"At12_345678s", 12345678, Cut::Status::Ok},
    {"At19_9s", 19900000, Cut::Status::Ok},
    {"At19_99sInTheLastPage", 19990000, Cut::Status::Ok},
    {"AtEnd", 20000000, Cut::Status::PastEnd},
    {"At1000s", 1000000000, Cut::Status::PastEnd},
};

class OggCut : public test_tools::FormatCut<OggFormat> {};

TEST_P(OggCut, StartsAtOrBeforeT)
{
    if (!ok()) {
        return;
    }
    if (src_.codec == Codec::Opus) {
        // Opus: pre-roll and pre-skip make the start exact to the sample (1/48000 s).
        EXPECT_NEAR(static_cast<double>(cut_.start), static_cast<double>(time_.t), 1e6 / 48000);
    }
    else {
        // Vorbis: t's sample, the first page's granule position trimming what comes before it.
        // But the cut's first packet only primes the decoder, which then yields from up to half
        // a long block (1024 samples here) after the page before: when a page ends that close
        // before t, or t is in the last packet, the cut starts at most that much before t.
        const std::int64_t sample = static_cast<std::int64_t>(sample_at(time_.t, src_.rate));
        const Micros exact = samples_to_micros(static_cast<std::uint64_t>(sample), src_.rate);
        EXPECT_LE(cut_.start, exact);
        EXPECT_LE(exact - cut_.start, static_cast<Micros>(1025) * 1000000 / src_.rate);
        std::string error;
        bool near_a_page_end = time_.t > 19900000;
        for (const auto& p : parse_pages(source(src_).bytes, error)) {
            near_a_page_end = near_a_page_end || (p.granule > sample - 1024 && p.granule <= sample);
        }
        if (!near_a_page_end) {
            EXPECT_EQ(cut_.start, exact);
        }
    }
}

TEST_P(OggCut, Rfc3533_PagesRenumberedRebasedAndCrcChecked)
{
    if (!ok()) {
        return;
    }
    std::string error;
    const auto pages = parse_pages(bytes_, error);
    ASSERT_EQ(error, "");
    ASSERT_GE(pages.size(), 3u);
    expect_one_stream(pages);
    const std::int64_t last_granule = pages.back().granule;
    if (src_.codec == Codec::Opus) {
        // RFC 7845 §4.6: at least 80 ms of pre-roll, unless the cut is at the stream's start.
        if (time_.t >= 80000) {
            EXPECT_GE(pre_skip(bytes_), 3840);
        }
        EXPECT_NEAR(static_cast<double>(last_granule - pre_skip(bytes_)) * 1e6 / 48000,
                    static_cast<double>(cut_.duration), 21.0);
    }
    else {
        EXPECT_NEAR(static_cast<double>(last_granule) * 1e6 / src_.rate, static_cast<double>(cut_.duration), 23.0);
    }
}

// Vorbis I §A.2: the cut's granule positions count from t's sample, so its first audio page's is
// the page's end in the original less t's sample: lower than what the page decodes to (the
// primed decoder yields from the page before's end), which has decoders drop the difference.
TEST_P(OggCut, VorbisGranulesCountFromT)
{
    if (!ok() || src_.codec != Codec::Vorbis || cut_.start == 0) {
        return;
    }
    std::string error;
    const auto pages = parse_pages(bytes_, error);
    const auto originals = parse_pages(source(src_).bytes, error);
    ASSERT_EQ(error, "");
    // The base: what every granule position lost, named by the cut's start.
    const std::int64_t base = originals.back().granule - pages.back().granule;
    EXPECT_EQ(samples_to_micros(static_cast<std::uint64_t>(base), src_.rate), cut_.start);
    std::size_t first = 2;
    while (first < pages.size() && pages[first].granule < 0) {
        ++first;
    }
    ASSERT_LT(first, pages.size());
    EXPECT_GT(pages[first].granule, 0);
    bool found = false;
    for (const auto& o : originals) {
        found = found || o.granule == pages[first].granule + base;
    }
    // (A last page split in two: its first part ends inside the original's last page.)
    EXPECT_TRUE(found || pages[first].granule + base > originals[originals.size() - 2].granule)
        << "granule " << pages[first].granule << " + " << base << " is no page end of the original";
    // Every later page keeps its place: original granule less the same base.
    for (std::size_t i = first + 1; i + 1 < pages.size(); ++i) {
        bool here = false;
        for (const auto& o : originals) {
            here = here || o.granule == pages[i].granule + base;
        }
        EXPECT_TRUE(here || pages[i].granule < 0) << "page " << i;
    }
}

TEST_P(OggCut, InfoToolIsClean)
{
    if (!ok()) {
        return;
    }
    expect_info_clean(src_.codec, path_);
}

TEST_P(OggCut, FfmpegDecodesWithoutErrors)
{
    if (!ok()) {
        return;
    }
    const Output r = run("ffmpeg -v error -i '" + path_ + "' -f null -");
    EXPECT_EQ(r.status, 0);
    EXPECT_EQ(r.output, "");
}

TEST_P(OggCut, DurationIsOriginalLessStart)
{
    if (!ok()) {
        return;
    }
    const double start = static_cast<double>(cut_.start) / 1e6;
    const double probed = probe_duration(path_);
    if (src_.codec == Codec::Opus) {
        // ffprobe counts an Opus stream from granule 0, pre-skip included: compare like with like.
        const double skip_change = static_cast<double>(pre_skip(bytes_) - pre_skip(source(src_).bytes)) / 48000;
        EXPECT_NEAR(probed, source(src_).probed - start + skip_change, 1e-3);
        // opusinfo subtracts the pre-skip: the playback length is exact (printed in ms).
        EXPECT_NEAR(playback_seconds(run("opusinfo '" + path_ + "'").output), 20.0 - start, 1.5e-3);
        EXPECT_NEAR(static_cast<double>(cut_.duration) / 1e6, 20.0 - start, 1e-5);
    }
    else {
        EXPECT_NEAR(probed, source(src_).probed - start, 1e-5);
        EXPECT_NEAR(static_cast<double>(cut_.duration) / 1e6, source(src_).probed - start, 1e-5);
    }
}

TEST_P(OggCut, DecodedAudioMatchesOriginalAtStart)
{
    if (!ok()) {
        return;
    }
    const auto& original = source(src_).pcm;
    const auto cut = src_.codec == Codec::Opus ? decode(path_) : decode_played(path_);
    const auto start = static_cast<std::size_t>((static_cast<std::uint64_t>(cut_.start) * src_.rate + 999999) / 1000000);
    // The window stays inside what both have: near the end, the cut may hold a few samples more.
    ASSERT_LT(start, original.size());
    const std::size_t window = std::min<std::size_t>({4096, cut.size(), original.size() - start});
    ASSERT_GT(window, time_.t > 19900000 ? 100u : 1000u);
    double correlation = 0;
    if (src_.codec == Codec::Opus) {
        // The pre-roll has converged the decoder: the very first samples match.
        const long lag = best_lag(original, start, cut, 0, window, 960, correlation);
        EXPECT_EQ(lag, 0);
        EXPECT_GT(correlation, 0.99);
    }
    else {
        // Vorbis: the first packet only primes the decoder (Vorbis I §1.3.2), and the first
        // page's granule position has the decoder drop what it yields before the start: the
        // first sample played is the start's, and the decoder has converged there.
        // In the last page, ffmpeg (5.1) times the first page's packets from its granule position
        // less each one's duration, reckoned as if the block before it were short: a short
        // block after a long one is timed 448 samples late, which is then played before t.
        const bool last_page = time_.t > 19900000;
        const long lag = best_lag(original, start, cut, 0, window, 64, correlation);
        if (!last_page) {
            EXPECT_EQ(lag, 0);
            EXPECT_GT(correlation, 0.99);
            EXPECT_EQ(cut.size(), original.size() - start) << "and as many samples as are left";
        }
        EXPECT_NEAR(static_cast<double>(cut.size()), static_cast<double>(original.size() - start), 448.0);
    }
    // And the cut plays to the original's end: the sample counts agree (same alignment).
    EXPECT_NEAR(static_cast<double>(cut.size()), static_cast<double>(original.size() - start), 1024.0);
}

INSTANTIATE_TEST_SUITE_P(Sources, OggCut, ::testing::ValuesIn(test_tools::all_cuts(kSources, kTimes)),
                         test_tools::CutCaseName());

TEST(OggSource, StraddlingSourcesReallyStraddleAndAreValid)
{
    ASSERT_TRUE(have_tools());
    for (const Source& s : kSources) {
        if (!s.straddle) {
            continue;
        }
        std::string error;
        const auto pages = parse_pages(source(s).bytes, error);
        ASSERT_EQ(error, "");
        std::size_t continued = 0;
        for (const auto& p : pages) {
            continued += p.type & 1;
        }
        EXPECT_GT(continued * 2, pages.size()) << s.name;
        const Output r = run(info_command(s.codec) + " '" + source(s).path + "'");
        EXPECT_EQ(r.output.find("WARNING"), std::string::npos) << r.output;
    }
}

TEST(OggCutShape, CutAtZeroOfVorbisIsTheWholeFile)
{
    ASSERT_TRUE(have_tools());
    const Cached& c = source(kSources[0]);
    MemorySource in(c.bytes);
    const Cut cut = cut_served(in, 0);
    ASSERT_EQ(cut.status, Cut::Status::Ok);
    EXPECT_EQ(cut.rep.extents, (Extents{FileExtent{0, c.bytes.size()}}));
    EXPECT_EQ(cut.duration, 20000000);
}

TEST(OggCutShape, EachRewrittenPageCostsTwoExtentsAndNoAudioIsCopied)
{
    ASSERT_TRUE(have_tools());
    for (const Source& s : kSources) {
        const Cached& c = source(s);
        MemorySource in(c.bytes);
        const Cut cut = cut_served(in, 7000000);
        ASSERT_EQ(cut.status, Cut::Status::Ok) << s.name;
        std::string error;
        const auto pages = parse_pages(materialise(c.bytes, cut.rep), error);
        std::size_t memory = 0;
        for (const auto& e : cut.rep.extents) {
            if (const auto* m = std::get_if<MemoryBlock>(&e)) {
                memory += m->bytes.size();
            }
        }
        // At most one page rebuilt whole (the cut page, 27 + 255 bytes), 21 bytes a page else.
        EXPECT_LE(memory, 282 + 21 * pages.size()) << s.name;
        EXPECT_LE(cut.rep.extents.size(), 2 * pages.size() + 4) << s.name;
    }
}

TEST(OggCutShape, PagesOfNoPacketsAreLeftOut)
{
    // A thousand pages of no packets and no granule position among the audio pages: the cut is
    // the same bytes as the cut of the file without them (its pages are renumbered anyway), and
    // its memory does not grow with them. An empty end-of-stream page stays.
    ASSERT_TRUE(have_tools());
    for (const Source& s : kSources) {
        const Cached& c = source(s);
        std::string error;
        auto pages = parse_pages(c.bytes, error);
        ASSERT_EQ(error, "") << s.name;
        ASSERT_GT(pages.size(), 12u) << s.name;
        const TestPage empty = empty_like(pages[6]);
        pages.insert(pages.begin() + 7, 1000, empty);
        const std::string padded = serialise(pages);
        MemorySource plain_in(c.bytes);
        MemorySource padded_in(padded);
        const Cut plain = cut_served(plain_in, 1000000);
        const Cut cut = cut_served(padded_in, 1000000);
        ASSERT_EQ(cut.status, Cut::Status::Ok) << s.name << cut.detail;
        EXPECT_EQ(materialise(padded, cut.rep), materialise(c.bytes, plain.rep)) << s.name;
        EXPECT_LE(cut.rep.extents.size(), plain.rep.extents.size() + 4) << s.name;
        EXPECT_EQ(cut.duration, plain.duration) << s.name;
    }
}

TEST(OggCutShape, SameInputSameCut)
{
    ASSERT_TRUE(have_tools());
    const Cached& c = source(kSources[3]);
    MemorySource a(c.bytes);
    MemorySource b(c.bytes);
    const Cut x = cut_served(a, 5000000);
    const Cut y = cut_served(b, 5000000);
    EXPECT_EQ(x.rep.extents, y.rep.extents);
    EXPECT_EQ(x.rep.etag_suffix, y.rep.etag_suffix);
}

TEST(OggCutShape, CutOfTheCutStartsWhereOneCutWould)
{
    ASSERT_TRUE(have_tools());
    const Cached& c = source(kSources[4]);
    MemorySource in(c.bytes);
    const Cut first = cut_served(in, 5000000);
    ASSERT_EQ(first.status, Cut::Status::Ok);
    const std::string once = materialise(c.bytes, first.rep);
    MemorySource again(once);
    const Cut second = cut_served(again, 3000000);
    ASSERT_EQ(second.status, Cut::Status::Ok) << second.detail;
    EXPECT_EQ(second.start, 3000000);
    EXPECT_EQ(second.duration, 12000000);
}

}  // namespace
}  // namespace audio_stream
