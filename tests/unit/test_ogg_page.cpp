// The page layer of Ogg cuts and clips (page.h): malformed and damaged pages give a status and a
// detail, never a crash, a hang or a negative duration; hostile granule positions keep the
// arithmetic in range, and hostile runs of pages the work within the cut's.
#include <gtest/gtest.h>

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
// Malformed and hostile input: a status and a detail, never a crash or a hang.

struct BadCase {
    const char* name;
    std::function<std::string(const std::string&)> damage;  // applied to a valid Opus file
    std::optional<Cut::Status> status;                      // nullopt: any, as long as it holds
};

// The file with bits `mask` of byte `at` flipped.
std::function<std::string(const std::string&)> flipping(std::size_t at, char mask)
{
    return [at, mask](const std::string& f) {
        std::string s = f;
        s[at] = static_cast<char>(s[at] ^ mask);
        return s;
    };
}

std::string random_bytes(const std::string&)
{
    std::mt19937 random(3);
    std::string s(100000, '\0');
    for (char& c : s) {
        c = static_cast<char>(random());
    }
    return s;
}

std::string headers_only(const std::string& f)
{
    std::string error;
    auto pages = parse_pages(f, error);
    pages.resize(2);
    return serialise(pages);
}

// The first audio page's packets appended to the tags page.
std::string audio_on_the_tags_page(const std::string& f)
{
    std::string error;
    auto pages = parse_pages(f, error);
    pages[1].lacing.insert(pages[1].lacing.end(), pages[2].lacing.begin(), pages[2].lacing.end());
    pages[1].body += pages[2].body;
    pages.erase(pages.begin() + 2);
    return serialise(pages);
}

// After the first audio page, copies of it whose CRCs never match, 40 MB of them.
std::string capture_pattern_flood(const std::string& f)
{
    std::string error;
    auto pages = parse_pages(f, error);
    pages.resize(3);
    std::string s = serialise(pages);
    std::string fake = s.substr(s.size() - pages[2].body.size() - 27 - pages[2].lacing.size());
    fake[22] ^= 1;
    while (s.size() < (40u << 20)) {
        s += fake;
    }
    return s;
}

std::vector<BadCase> bad_cases()
{
    return {
        {"Empty", [](const std::string&) { return std::string(); }, Cut::Status::Malformed},
        {"CapturePatternOnly", [](const std::string&) { return std::string("OggS"); }, Cut::Status::Malformed},
        {"RandomBytes", random_bytes, Cut::Status::Malformed},
        {"Rfc3533_FirstPageMustBeBos", flipping(5, 2), Cut::Status::Malformed},
        {"Rfc3533_BadCrcOnFirstPage", flipping(22, 1), Cut::Status::Malformed},
        {"Rfc3533_VersionMustBeZero", flipping(4, 1), Cut::Status::Malformed},
        {"LacingPastTheEnd", [](const std::string& f) { return f.substr(0, 40); }, Cut::Status::Malformed},
        {"HeadersTruncated", [](const std::string& f) { return f.substr(0, 100); }, Cut::Status::Malformed},
        {"HeadersOnlyHaveNoAudio", headers_only, Cut::Status::PastEnd},
        {"Rfc7845_AudioSharingTheTagsPageIsRejected", audio_on_the_tags_page, Cut::Status::Malformed},
        {"CapturePatternFloodIsBounded", capture_pattern_flood, std::nullopt},
    };
}

class OggMalformed : public ::testing::TestWithParam<BadCase> {};

TEST_P(OggMalformed, IsRejectedWithADetail)
{
    ASSERT_TRUE(have_tools());
    const std::string bytes = GetParam().damage(source(kSources[4]).bytes);
    for (const Micros t : {Micros{0}, Micros{15000000}, Micros{-5}}) {
        MemorySource in(bytes);
        const Cut cut = cut_served(in, t);
        expect_ogg_invariants(cut, bytes.size(), t);
        if (GetParam().status == Cut::Status::Malformed) {
            EXPECT_EQ(cut.status, Cut::Status::Malformed);
            EXPECT_FALSE(cut.detail.empty());
        }
        else if (GetParam().status && t > 0) {
            EXPECT_EQ(cut.status, *GetParam().status);
        }
    }
}

INSTANTIATE_TEST_SUITE_P(Inputs, OggMalformed, ::testing::ValuesIn(bad_cases()),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(OggHostile, TruncatedFilesCutWithinWhatIsThere)
{
    ASSERT_TRUE(have_tools());
    for (const std::size_t which : {std::size_t{0}, std::size_t{4}}) {
        const std::string& file = source(kSources[which]).bytes;
        for (std::size_t len = 0; len < file.size(); len += 1499) {
            const std::string part = file.substr(0, len);
            for (const Span t : {Span{0}, Span{3000000}, Span{15000000}, Span{3000000, 3500000}, Span{0, 1000}}) {
                MemorySource in(part);
                const Cut cut = test_tools::served_cut("audio/ogg", in, t);
                expect_ogg_invariants(cut, part.size(), t);
                if (cut.status == Cut::Status::Ok) {
                    // A truncated stream still ends with an EOS page, its CRCs all valid.
                    std::string error;
                    const auto pages = parse_pages(materialise(part, cut.rep), error);
                    EXPECT_EQ(error, "");
                    ASSERT_FALSE(pages.empty());
                    EXPECT_TRUE(pages.back().type & 4);
                }
            }
        }
    }
}

TEST(OggHostile, RandomlyDamagedFilesNeverBreakTheInvariants)
{
    ASSERT_TRUE(have_tools());
    std::mt19937 random(13);
    for (const std::size_t which : {std::size_t{1}, std::size_t{5}}) {
        const std::string& file = source(kSources[which]).bytes;
        for (int round = 0; round < 300; ++round) {
            std::string damaged = file;
            const int flips = 1 + static_cast<int>(random() % 16);
            for (int i = 0; i < flips; ++i) {
                // Half the damage in the first pages, where the headers are.
                const std::size_t at = (random() % 2) ? random() % 4096 : random() % damaged.size();
                damaged[at] = static_cast<char>(random());
            }
            // Every other round a clip, up to 3 s long.
            const Micros start = static_cast<Micros>(random() % 21000000);
            const Span t = round % 2 ? Span{start} : Span{start, start + 1 + static_cast<Micros>(random() % 3000000)};
            MemorySource in(damaged);
            const Cut cut = test_tools::served_cut("audio/ogg", in, t);
            expect_ogg_invariants(cut, damaged.size(), t);
        }
    }
}

// A last page whose granule position is near 2^63 gives a long cut, never a negative duration
// (the microseconds overflowed 64 bits). Found by tests/fuzz/fuzz_ogg.
TEST(OggHostile, HugeLastGranuleSaturatesTheDuration)
{
    ASSERT_TRUE(have_tools());
    for (const std::size_t which : {std::size_t{0}, std::size_t{4}}) {
        std::string file = source(kSources[which]).bytes;
        const std::size_t last = file.rfind("OggS");
        ASSERT_NE(last, std::string::npos);
        for (int i = 0; i < 8; ++i) {  // granule position: bytes 6-13, little-endian
            file[last + 6 + i] = static_cast<char>(i == 7 ? 0x7f : 0xf0);
        }
        MemorySource in(file);
        const Cut cut = cut_served(in, 3000000);
        expect_ogg_invariants(cut, file.size(), 3000000);
        ASSERT_EQ(cut.status, Cut::Status::Ok) << cut.detail;
        EXPECT_EQ(cut.duration, std::numeric_limits<Micros>::max());
    }
}

// `file` with page k's granule position set to `granule`.
std::string with_granule(const std::string& file, std::size_t k, std::int64_t granule)
{
    std::string error;
    auto pages = parse_pages(file, error);
    EXPECT_EQ(error, "");
    pages.at(k).granule = granule;
    return serialise(pages);
}

// Granule positions near 2^63 anywhere (the first audio page's, a middle one's, the last two's)
// give cuts and clips that keep the invariants, or Malformed: sums of them with sample counts
// overflowed (undefined behaviour; the sanitizer builds trap on it). An Opus stream whose first
// audio page is there would start at no time: Malformed.
TEST(OggHostile, GranulesNear2To63KeepTheArithmeticInRange)
{
    ASSERT_TRUE(have_tools());
    const Span spans[] = {Span{0}, Span{3000000}, Span{3000000, 3050000}, Span{0, 5000000}, Span{7000000, 19990000},
                          Span{19990000, 19995000}};
    for (const std::size_t which : {std::size_t{1}, std::size_t{4}}) {
        const std::string& file = source(kSources[which]).bytes;
        std::string error;
        const std::size_t count = parse_pages(file, error).size();
        for (const std::size_t k : {std::size_t{2}, count / 2, count - 2, count - 1}) {
            for (const std::int64_t huge : {std::numeric_limits<std::int64_t>::max(), std::int64_t{0x7ff0f0f0f0f0f0f0}}) {
                const std::string hostile = with_granule(file, k, huge);
                for (const Span& span : spans) {
                    const Cut cut = test_tools::served_cut("audio/ogg", hostile, span);
                    expect_ogg_invariants(cut, hostile.size(), span);
                    if (k == 2 && kSources[which].codec == Codec::Opus) {
                        EXPECT_EQ(cut.detail, "Ogg granule position out of range");
                    }
                }
            }
        }
    }
}

// `file` (Vorbis) with its first audio packet alone on a page of its own, at granule position 0
// (Vorbis I §A.2: that packet yields no audio; ogginfo calls such a page a buggy encoder's).
std::string with_first_packet_paged_alone(const std::string& file)
{
    std::string error;
    auto pages = parse_pages(file, error);
    EXPECT_EQ(error, "");
    TestPage& audio = pages.at(2);
    std::size_t segments = 0;
    std::size_t bytes = 0;
    do {
        bytes += audio.lacing.at(segments);
    } while (audio.lacing.at(segments++) == 255);
    TestPage first = audio;
    first.granule = 0;
    first.lacing.resize(segments);
    first.body.resize(bytes);
    audio.lacing.erase(audio.lacing.begin(), audio.lacing.begin() + static_cast<long>(segments));
    audio.body.erase(0, bytes);
    pages.insert(pages.begin() + 2, first);
    for (std::size_t i = 0; i < pages.size(); ++i) {
        pages[i].sequence = static_cast<std::uint32_t>(i);
    }
    return serialise(pages);
}

// A Vorbis stream whose first audio page ends at 0: the cut from 0 (or from a START within half a
// long block of it) is the file, its duration the file's. The base went one sample before 0: the
// duration counted a sample more than decoders play, and with a last granule position near 2^63
// it overflowed.
TEST(OggHostile, VorbisFirstPageAtZeroIsCutFromZero)
{
    ASSERT_TRUE(have_tools());
    const std::string file = with_first_packet_paged_alone(source(kSources[1]).bytes);
    for (const Micros t : {Micros{0}, Micros{10000}}) {
        const Cut cut = test_tools::served_cut("audio/ogg", file, t);
        expect_ogg_invariants(cut, file.size(), t);
        ASSERT_EQ(cut.status, Cut::Status::Ok) << cut.detail;
        EXPECT_EQ(cut.start, 0);
        EXPECT_EQ(cut.duration, 20000000);
        EXPECT_EQ(cut.rep.extents, (Extents{FileExtent{0, file.size()}}));
    }
    const Cut clip = test_tools::served_cut("audio/ogg", file, Span{0, 5000000});
    EXPECT_EQ(clip.duration, 5000000);
    std::string error;
    const std::string huge = with_granule(file, parse_pages(file, error).size() - 1, std::int64_t{0x7ff0f0f0f0f0f0f0});
    const Cut cut = test_tools::served_cut("audio/ogg", huge, 0);
    expect_ogg_invariants(cut, huge.size(), 0);
    ASSERT_EQ(cut.status, Cut::Status::Ok) << cut.detail;
    EXPECT_EQ(cut.duration, std::numeric_limits<Micros>::max());
}

// The pages of `file` before page k, then `filler` n times, then the rest of the pages.
std::string with_pages_inserted(const std::string& file, std::size_t k, const std::string& filler, std::size_t n)
{
    std::string error;
    const auto pages = parse_pages(file, error);
    EXPECT_EQ(error, "");
    const std::string head = serialise({pages.begin(), pages.begin() + static_cast<long>(k)});
    std::string out = head;
    out.reserve(file.size() + filler.size() * n);
    for (std::size_t i = 0; i < n; ++i) {
        out += filler;
    }
    return out + file.substr(head.size());
}

// An Opus clip of 120 ms or less walks from its first page to END's before writing: a stream
// whose pages after that first page carry no granule position (or, CRC damaged, a small one
// no bisection takes) made that walk read every page header of the file. It stops where
// writing does, past 2^18 pages: the clip reads no more than the cut from its START.
TEST(OggHostile, ShortOpusClipWalksNoFurtherThanTheCut)
{
    ASSERT_TRUE(have_tools());
    constexpr Offset kMaxPage = 27 + 255 + 255 * 255;
    constexpr std::size_t kPages = (std::size_t{1} << 18) + 100;
    const std::string& file = source(kSources[4]).bytes;
    std::string error;
    const auto pages = parse_pages(file, error);
    ASSERT_EQ(error, "");
    // START 1000 samples before page 4 ends, so that the cut's first page is page 4 and ends
    // before END (START + 50 ms): the walk to END's page goes on through what follows.
    const std::size_t k = 4;
    const std::int64_t start_sample = pages[k].granule - 1000 - pre_skip(file);
    const Micros start = samples_to_micros(static_cast<std::uint64_t>(start_sample), 48000);
    for (const std::int64_t granule : {std::int64_t{-1}, std::int64_t{1}}) {
        TestPage empty;
        empty.granule = granule;
        empty.serial = pages[0].serial;
        std::string filler = serialise({empty});
        if (granule >= 0) {
            filler[22] ^= 1;
        }
        const std::string hostile = with_pages_inserted(file, k + 1, filler, kPages);
        test_tools::CountingSource clip_in(hostile);
        test_tools::CountingSource cut_in(hostile);
        const Cut clip = test_tools::served_cut("audio/ogg", clip_in, Span{start, start + 50000});
        const Cut cut = test_tools::served_cut("audio/ogg", cut_in, start);
        // Page headers are read through a window (kHeaderWindow): the walk's own cap of 2^18
        // pages, a cost refusal as the request's budget is, comes before that budget.
        EXPECT_EQ(cut.status, Cut::Status::OverBudget) << granule;
        EXPECT_EQ(cut.detail, "an Ogg cut of more than 262144 pages (the cap)") << granule;
        EXPECT_LT(cut_in.spent().reads, kRequestBudget.reads / 4) << granule;
        EXPECT_EQ(clip.status, cut.status) << granule;
        EXPECT_EQ(clip.detail, cut.detail) << granule;
        EXPECT_LE(clip_in.bytes_read, cut_in.bytes_read + kMaxPage) << granule;
    }
}

}  // namespace
}  // namespace audio_stream
