// Coverage: the bytes of a file a listener has received today, as disjoint ranges joined on
// overlap or touch, bounded to kMaxRanges (losing the smallest: an undercount, never an
// overcount), and its text encoding, which refuses anything encode would not write.
#include "src/stats/coverage.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "tests/unit/printers.h"

namespace audio_stream::stats {
namespace {

using Ranges = std::vector<FileRange>;

Coverage of(const Ranges& ranges)
{
    Coverage c;
    for (const FileRange& r : ranges) {
        c.add(r);
    }
    return c;
}

// Sorted, disjoint, not touching, none empty.
void expect_canonical(const Coverage& c)
{
    const Ranges& r = c.ranges();
    EXPECT_LE(r.size(), Coverage::kMaxRanges);
    for (std::size_t i = 0; i < r.size(); ++i) {
        EXPECT_LT(r[i].first, r[i].end) << i;
        if (i > 0) {
            EXPECT_LT(r[i - 1].end, r[i].first) << i;
        }
    }
}

TEST(Coverage, EmptyCoversNothing)
{
    const Coverage c;
    EXPECT_TRUE(c.ranges().empty());
    EXPECT_EQ(c.covered(), 0u);
    EXPECT_EQ(c.encode(), "");
}

TEST(Coverage, EmptyAndInvertedRangesAreIgnored)
{
    Coverage c;
    c.add({10, 10});
    c.add({20, 5});
    EXPECT_TRUE(c.ranges().empty());
    c.add({0, 4});
    c.add({4, 4});  // empty, touching: still nothing added
    EXPECT_EQ(c.ranges(), (Ranges{{0, 4}}));
}

TEST(Coverage, DisjointRangesAreKeptSorted)
{
    const Coverage c = of({{500, 600}, {0, 100}, {200, 300}});
    EXPECT_EQ(c.ranges(), (Ranges{{0, 100}, {200, 300}, {500, 600}}));
    EXPECT_EQ(c.covered(), 300u);
}

TEST(Coverage, OverlappingRangesJoin)
{
    EXPECT_EQ(of({{0, 100}, {50, 150}}).ranges(), (Ranges{{0, 150}}));
    EXPECT_EQ(of({{50, 150}, {0, 100}}).ranges(), (Ranges{{0, 150}}));
    EXPECT_EQ(of({{0, 1000}, {10, 20}}).ranges(), (Ranges{{0, 1000}}));  // contained
    EXPECT_EQ(of({{10, 20}, {0, 1000}}).ranges(), (Ranges{{0, 1000}}));  // containing
    EXPECT_EQ(of({{0, 100}, {0, 100}}).ranges(), (Ranges{{0, 100}}));    // the same twice
    EXPECT_EQ(of({{0, 100}, {50, 150}}).covered(), 150u);
}

TEST(Coverage, TouchingRangesJoin)
{
    EXPECT_EQ(of({{0, 100}, {100, 200}}).ranges(), (Ranges{{0, 200}}));
    EXPECT_EQ(of({{100, 200}, {0, 100}}).ranges(), (Ranges{{0, 200}}));
    // One byte apart: two ranges.
    EXPECT_EQ(of({{0, 100}, {101, 200}}).ranges(), (Ranges{{0, 100}, {101, 200}}));
}

TEST(Coverage, OneRangeCanBridgeSeveral)
{
    const Coverage c = of({{0, 10}, {20, 30}, {40, 50}, {60, 70}, {35, 45}, {5, 62}});
    EXPECT_EQ(c.ranges(), (Ranges{{0, 70}}));
    EXPECT_EQ(c.covered(), 70u);
    const Coverage d = of({{0, 10}, {20, 30}, {40, 50}, {60, 70}, {25, 45}});
    EXPECT_EQ(d.ranges(), (Ranges{{0, 10}, {20, 50}, {60, 70}}));
}

TEST(Coverage, ResumedDownloadCoversTheWholeFile)
{
    // Ranges of a player that seeks forward, back, and fills the gaps.
    const Coverage c = of({{0, 65536}, {5000000, 5065536}, {65536, 1000000}, {1000000, 5000000},
                           {5065536, 6000000}});
    EXPECT_EQ(c.ranges(), (Ranges{{0, 6000000}}));
    EXPECT_EQ(c.covered(), 6000000u);
}

// More than kMaxRanges disjoint ranges: the smallest are dropped; what is left never covers
// more than was received.
TEST(Coverage, MoreThanMaxRangesKeepsTheLargestAndUndercounts)
{
    Coverage c;
    Offset received = 0;
    // 40 disjoint ranges of growing size: range i is i+1 bytes at 1000 * i.
    for (Offset i = 0; i < 40; ++i) {
        c.add({1000 * i, 1000 * i + i + 1});
        received += i + 1;
        expect_canonical(c);
        EXPECT_LE(c.covered(), received);
    }
    ASSERT_EQ(c.ranges().size(), Coverage::kMaxRanges);
    // The 8 smallest (1..8 bytes) are gone; 9..40 are left.
    EXPECT_EQ(c.ranges().front(), (FileRange{8000, 8009}));
    EXPECT_EQ(c.ranges().back(), (FileRange{39000, 39040}));
    Offset expected = 0;
    for (Offset n = 9; n <= 40; ++n) {
        expected += n;
    }
    EXPECT_EQ(c.covered(), expected);
    EXPECT_LT(c.covered(), received);
}

TEST(Coverage, ThirtyThirdRangeDropsTheSmallestEvenWhenItIsTheNewOne)
{
    Coverage c;
    for (Offset i = 0; i < Coverage::kMaxRanges; ++i) {
        c.add({1000 * i, 1000 * i + 100});
    }
    ASSERT_EQ(c.ranges().size(), 32u);
    EXPECT_EQ(c.covered(), 3200u);
    c.add({50000, 50001});  // one byte: the smallest, dropped at once
    EXPECT_EQ(c.ranges().size(), 32u);
    EXPECT_EQ(c.covered(), 3200u);
    EXPECT_EQ(c.ranges().back(), (FileRange{31000, 31100}));
    c.add({60000, 70000});  // large: one of the 100-byte ranges goes
    EXPECT_EQ(c.ranges().size(), 32u);
    EXPECT_EQ(c.covered(), 3100u + 10000u);
    EXPECT_EQ(c.ranges().back(), (FileRange{60000, 70000}));
    // A range that joins two existing ones makes room instead of dropping any.
    c.add({1100, 2000});
    EXPECT_EQ(c.ranges().size(), 31u);
    expect_canonical(c);
}

// Random adds against a byte map: joins are exact while under the bound, never over it.
TEST(Coverage, RandomAddsMatchABitmapAndNeverOvercount)
{
    std::mt19937 rng(11);
    for (int round = 0; round < 200; ++round) {
        Coverage c;
        std::vector<bool> bytes(4096, false);
        bool dropped = false;
        for (int k = 0; k < 60; ++k) {
            const Offset a = rng() % 4096;
            const Offset b = rng() % 4096;
            const FileRange r{std::min(a, b), std::max(a, b)};
            c.add(r);
            std::fill(bytes.begin() + static_cast<std::ptrdiff_t>(r.first),
                      bytes.begin() + static_cast<std::ptrdiff_t>(r.end), true);
            expect_canonical(c);
            const auto truth = static_cast<Offset>(std::count(bytes.begin(), bytes.end(), true));
            for (const FileRange& kept : c.ranges()) {
                for (Offset x = kept.first; x < kept.end; ++x) {
                    ASSERT_TRUE(bytes[x]) << "byte " << x << " covered but never added";
                }
            }
            dropped = dropped || c.ranges().size() == Coverage::kMaxRanges;
            if (!dropped) {
                EXPECT_EQ(c.covered(), truth);
            }
            EXPECT_LE(c.covered(), truth);
        }
    }
}

TEST(Coverage, LargeOffsetsDoNotOverflow)
{
    const Offset big = Offset{1} << 62;
    const Coverage c = of({{big, big + 10}, {0, 10}});
    EXPECT_EQ(c.covered(), 20u);
    EXPECT_EQ(c.encode(), "0-10," + std::to_string(big) + "-" + std::to_string(big + 10));
    const auto back = Coverage::decode(c.encode());
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(back->ranges(), c.ranges());
}

// ---- the encoding ----------------------------------------------------------------------------

TEST(CoverageText, EncodesFirstDashEndCommaSeparated)
{
    EXPECT_EQ(of({{0, 100}}).encode(), "0-100");
    EXPECT_EQ(of({{200, 300}, {0, 100}}).encode(), "0-100,200-300");
}

TEST(CoverageText, DecodeGivesBackWhatEncodeWrote)
{
    for (const Ranges& ranges : {Ranges{}, Ranges{{0, 1}}, Ranges{{0, 100}, {200, 300}},
                                 Ranges{{5, 6}, {8, 9}, {11, 12345678901234567ull}}}) {
        const Coverage c = of(ranges);
        const auto back = Coverage::decode(c.encode());
        ASSERT_TRUE(back.has_value()) << c.encode();
        EXPECT_EQ(back->ranges(), c.ranges());
        EXPECT_EQ(back->covered(), c.covered());
        EXPECT_EQ(back->encode(), c.encode());
    }
}

TEST(CoverageText, ThirtyTwoRangesDecodeAndThirtyThreeDoNot)
{
    Coverage c;
    for (Offset i = 0; i < Coverage::kMaxRanges; ++i) {
        c.add({10 * i, 10 * i + 5});
    }
    const std::string text = c.encode();
    const auto back = Coverage::decode(text);
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(back->ranges().size(), 32u);
    EXPECT_FALSE(Coverage::decode(text + ",1000-1005").has_value());
    // The longest entry decode takes: 32 ranges of 19-digit numbers (the glue reads entries into
    // a 2 KiB buffer); for files under 10 GB (10 digits), under 1 KiB.
    Coverage widest;
    Coverage realistic;
    for (Offset i = 0; i < Coverage::kMaxRanges; ++i) {
        widest.add({1000000000000000000ull + 10 * i, 1000000000000000000ull + 10 * i + 5});
        realistic.add({9000000000ull + 10 * i, 9000000000ull + 10 * i + 5});
    }
    EXPECT_EQ(widest.encode().size(), 32u * 40u - 1u);
    EXPECT_TRUE(Coverage::decode(widest.encode()).has_value());
    EXPECT_LT(realistic.encode().size(), 1024u);
}

// A damaged or hostile cache entry is refused whole (the caller treats it as absent).
TEST(CoverageText, DecodeRefusesAnythingEncodeWouldNotWrite)
{
    for (const char* text : {
             "c",              // the counted mark is not a coverage
             "-",
             "0",
             "0-",
             "-5",
             "5-5",            // empty
             "6-5",            // inverted
             "0-10,",          // trailing comma
             ",0-10",
             "0-10,,20-30",
             "0-10;20-30",
             "0-10 ",
             " 0-10",
             "0 -10",
             "+0-10",
             "0--10",
             "0-10-20",
             "0-10,10-20",     // touching: encode joins them
             "0-10,5-20",      // overlapping
             "20-30,0-10",     // unsorted
             "0x10-0x20",
             "1e3-2e3",
             "12345678901234567890-12345678901234567891",  // 20 digits: past any file
             "0-99999999999999999999",
         }) {
        EXPECT_FALSE(Coverage::decode(text).has_value()) << text;
    }
    EXPECT_FALSE(Coverage::decode(std::string("0-10\0", 5)).has_value());
    EXPECT_FALSE(Coverage::decode(std::string("0-1\x80", 4)).has_value());
}

TEST(CoverageText, NineteenDigitsAreTheLimit)
{
    const auto ok = Coverage::decode("0-9999999999999999999");
    ASSERT_TRUE(ok.has_value());
    EXPECT_EQ(ok->covered(), 9999999999999999999ull);
}

TEST(CoverageText, EmptyTextIsAnEmptyCoverage)
{
    const auto c = Coverage::decode("");
    ASSERT_TRUE(c.has_value());
    EXPECT_TRUE(c->ranges().empty());
}

// Random bytes never decode into a coverage that is not canonical, and never crash.
TEST(CoverageText, RandomTextNeverDecodesToANonCanonicalCoverage)
{
    std::mt19937 rng(5);
    const std::string alphabet = "0123456789-,c ";
    int decoded = 0;
    for (int i = 0; i < 20000; ++i) {
        std::string text(rng() % 24, '\0');
        for (char& ch : text) {
            ch = alphabet[rng() % alphabet.size()];
        }
        if (const auto c = Coverage::decode(text)) {
            ++decoded;
            expect_canonical(*c);
            EXPECT_LE(c->encode().size(), text.size()) << text;
        }
    }
    EXPECT_GT(decoded, 0);
}

}  // namespace
}  // namespace audio_stream::stats
