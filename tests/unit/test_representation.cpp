// Representations as extents: whole_file, extent(s)_length, slice_extents, file_bytes, file_end
// and next_slice.
// RFC 9110 §14.1.2: range offsets count bytes of the selected representation from 0, so a
// derived representation (a header in memory, then file bytes) is sliced across its extents.
#include "src/representation.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "tests/unit/printers.h"

namespace audio_stream {
namespace {

TEST(WholeFile, Rfc9110_14_1_2_EmptyFileHasNoExtents)
{
    const Representation rep = whole_file(0);
    EXPECT_EQ(rep.length, 0u);
    EXPECT_EQ(rep.extents, Extents{});
    EXPECT_EQ(rep.etag_suffix, "");
    EXPECT_EQ(extents_length(rep.extents), 0u);
}

TEST(WholeFile, Rfc9110_14_1_2_FileIsOneExtentFromZero)
{
    const Representation rep = whole_file(52428800);
    EXPECT_EQ(rep.length, 52428800u);
    EXPECT_EQ(rep.extents, (Extents{FileExtent{0, 52428800}}));
    EXPECT_EQ(rep.etag_suffix, "");
    EXPECT_EQ(extents_length(rep.extents), rep.length);
}

TEST(ExtentLength, Rfc9110_8_6_LengthCountsEveryByte)
{
    EXPECT_EQ(extent_length(FileExtent{100, 10}), 10u);
    EXPECT_EQ(extent_length(FileExtent{100, 0}), 0u);
    EXPECT_EQ(extent_length(MemoryBlock{"HEAD"}), 4u);
    EXPECT_EQ(extent_length(MemoryBlock{std::string("\0\r\n", 3)}), 3u);
    EXPECT_EQ(extent_length(MemoryBlock{""}), 0u);
    EXPECT_EQ(extents_length({}), 0u);
    EXPECT_EQ(extents_length({MemoryBlock{"HEAD"}, FileExtent{100, 10}, MemoryBlock{"TAIL"}}),
              18u);
    // Offsets far beyond 4 GiB: 64-bit all the way.
    EXPECT_EQ(extents_length({FileExtent{0, Offset{1} << 40}, FileExtent{0, Offset{1} << 40}}),
              Offset{1} << 41);
}

// HEAD = bytes 0..3, file bytes 100..109 = bytes 4..13, TAIL = bytes 14..17.
const Extents kMixed{MemoryBlock{"HEAD"}, FileExtent{100, 10}, MemoryBlock{"TAIL"}};

struct SliceCase {
    const char* name;
    Extents extents;
    Offset first;
    Offset length;
    Extents expected;
    friend void PrintTo(const SliceCase& c, std::ostream* os) { *os << c.name; }
};

std::vector<SliceCase> slice_cases()
{
    return {
        {"Slice_EverythingIsTheSameExtents", kMixed, 0, 18, kMixed},
        {"Slice_ZeroLengthIsEmpty", kMixed, 0, 0, {}},
        {"Slice_ZeroLengthAtEndIsEmpty", kMixed, 18, 0, {}},
        {"Slice_ZeroLengthInsideIsEmpty", kMixed, 7, 0, {}},
        {"Slice_ExactlyFirstBlock", kMixed, 0, 4, {MemoryBlock{"HEAD"}}},
        {"Slice_InsideFirstBlock", kMixed, 1, 2, {MemoryBlock{"EA"}}},
        {"Slice_StartsInsideBlockEndsInsideFile", kMixed, 2, 5,
         {MemoryBlock{"AD"}, FileExtent{100, 3}}},
        {"Slice_ExactlyTheFileExtent", kMixed, 4, 10, {FileExtent{100, 10}}},
        {"Slice_InsideTheFileExtent", kMixed, 5, 3, {FileExtent{101, 3}}},
        {"Slice_LastFileByteOnly", kMixed, 13, 1, {FileExtent{109, 1}}},
        {"Slice_StartsInsideFileEndsInsideLastBlock", kMixed, 6, 10,
         {FileExtent{102, 8}, MemoryBlock{"TA"}}},
        {"Slice_StartsAndEndsInsideBlocksSpanningFile", kMixed, 3, 12,
         {MemoryBlock{"D"}, FileExtent{100, 10}, MemoryBlock{"T"}}},
        {"Slice_FromFileStartToEnd", kMixed, 4, 14, {FileExtent{100, 10}, MemoryBlock{"TAIL"}}},
        {"Slice_ExactlyLastBlock", kMixed, 14, 4, {MemoryBlock{"TAIL"}}},
        {"Slice_LastByteOnly", kMixed, 17, 1, {MemoryBlock{"L"}}},
        {"Slice_WholeFileOneByteAtEnd", whole_file(1000).extents, 999, 1, {FileExtent{999, 1}}},
        {"Slice_WholeFileMiddle", whole_file(1000).extents, 100, 100, {FileExtent{100, 100}}},
        // Empty extents are skipped, never emitted.
        {"Slice_EmptyExtentsNeverEmitted",
         {MemoryBlock{""}, FileExtent{0, 5}, FileExtent{7, 0}, MemoryBlock{""}, MemoryBlock{"X"}},
         0, 6, {FileExtent{0, 5}, MemoryBlock{"X"}}},
        {"Slice_EmptyExtentAtStartOfSliceSkipped",
         {FileExtent{0, 5}, MemoryBlock{""}, FileExtent{20, 5}}, 5, 2, {FileExtent{20, 2}}},
        // Adjacent extents are kept apart: slicing does not merge.
        {"Slice_AdjacentFileExtentsKeptApart", {FileExtent{0, 5}, FileExtent{5, 5}}, 3, 4,
         {FileExtent{3, 2}, FileExtent{5, 2}}},
    };
}

class SliceExtentsTest : public ::testing::TestWithParam<SliceCase> {};

TEST_P(SliceExtentsTest, SlicesExactly)
{
    const SliceCase& c = GetParam();
    const Extents out = slice_extents(c.extents, c.first, c.length);
    EXPECT_EQ(out, c.expected);
    EXPECT_EQ(extents_length(out), c.length);
    // The same slice found by the extents' ends (multipart parts).
    EXPECT_EQ(ExtentStarts(c.extents).slice(c.extents, c.first, c.length), c.expected);
}

// Every slice of a body of many short extents (a cut of one per frame, empty blocks among
// them) is the same whether its start is found by a binary search or a walk from the first.
TEST(ExtentStarts, EverySliceOfManyExtentsIsTheWalksSlice)
{
    std::mt19937 rng(31);
    Extents body;
    for (int i = 0; i < 2000; ++i) {
        const Offset n = rng() % 7;
        if (rng() % 2) {
            body.push_back(MemoryBlock{std::string(static_cast<std::size_t>(n), static_cast<char>('a' + i % 26))});
        }
        else {
            body.push_back(FileExtent{Offset{1000} * i, n + 1});
        }
    }
    const Offset total = extents_length(body);
    const ExtentStarts starts(body);
    for (int i = 0; i < 3000; ++i) {
        const Offset first = rng() % total;
        const Offset length = rng() % (total - first + 1);
        ASSERT_EQ(starts.slice(body, first, length), slice_extents(body, first, length)) << first << "+" << length;
    }
    EXPECT_EQ(starts.slice(body, total, 0), Extents{});
}

INSTANTIATE_TEST_SUITE_P(Representation, SliceExtentsTest, ::testing::ValuesIn(slice_cases()),
                         [](const auto& info) { return std::string(info.param.name); });

// The file bytes of a body (small_window.h reads them into memory, the glue checks the file
// still holds them).
TEST(SmallWindow, FileBytesSumsFileExtentsOnly)
{
    EXPECT_EQ(file_bytes({MemoryBlock{"abcd"}, FileExtent{5, 10}, MemoryBlock{"x"}, FileExtent{0, 3}}),
              Offset{13});
    EXPECT_EQ(file_bytes({}), Offset{0});
}

TEST(SmallWindow, FileEndIsOnePastTheLastFileByteInAnyOrder)
{
    // Multipart parts may come in any order; memory blocks need no file byte.
    EXPECT_EQ(file_end({MemoryBlock{"abcd"}, FileExtent{5, 10}, MemoryBlock{"x"}, FileExtent{0, 3}}),
              Offset{15});
    EXPECT_EQ(file_end({FileExtent{Offset{5} << 30, 1}}), (Offset{5} << 30) + 1);
    EXPECT_EQ(file_end({MemoryBlock{"only memory"}}), Offset{0});
    EXPECT_EQ(file_end({}), Offset{0});
}

}  // namespace
}  // namespace audio_stream

namespace audio_stream {
namespace {

struct EtagCase {
    const char* name;
    const char* etag;
    const char* suffix;
    const char* expected;
};

class SuffixedEtagTest : public ::testing::TestWithParam<EtagCase> {};

TEST_P(SuffixedEtagTest, PutsTheSuffixInsideTheQuotes)
{
    EXPECT_EQ(suffixed_etag(GetParam().etag, GetParam().suffix), GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(
    Representation, SuffixedEtagTest,
    ::testing::Values(
        EtagCase{"Rfc9110_8_8_3_StrongStaysStrong", "\"2800-5f1\"", "-t30", "\"2800-5f1-t30\""},
        EtagCase{"Rfc9110_8_8_3_WeakStaysWeak", "W/\"2800-5f1\"", "-t30", "W/\"2800-5f1-t30\""},
        EtagCase{"EmptySuffixIsTheFileEtag", "\"abc\"", "", "\"abc\""},
        EtagCase{"UnquotedIsLeftAlone", "abc", "-t30", "abc"},
        EtagCase{"EmptyIsLeftAlone", "", "-t30", ""}),
    [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace audio_stream

namespace audio_stream {
namespace {

TEST(AppendExtents, TouchingFileRangesGrowOneExtent)
{
    Extents out;
    append_file(out, 10, 5);
    append_file(out, 15, 5);  // touches: one extent 10..19
    append_file(out, 30, 0);  // empty: nothing
    append_file(out, 30, 2);  // a gap: a new extent
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(std::get<FileExtent>(out[0]).offset, Offset{10});
    EXPECT_EQ(std::get<FileExtent>(out[0]).length, Offset{10});
    EXPECT_EQ(std::get<FileExtent>(out[1]).offset, Offset{30});
    EXPECT_EQ(extents_length(out), Offset{12});
}

TEST(AppendExtents, MemoryJoinsMemoryButNeverBridgesAFileExtent)
{
    Extents out;
    append_memory(out, "ab");
    append_memory(out, "");
    append_memory(out, "cd");
    append_file(out, 0, 4);
    append_memory(out, "ef");
    append_file(out, 4, 1);  // does not touch the file extent before the memory block
    ASSERT_EQ(out.size(), 4u);
    EXPECT_EQ(std::get<MemoryBlock>(out[0]).bytes, "abcd");
    EXPECT_EQ(std::get<MemoryBlock>(out[2]).bytes, "ef");
    EXPECT_EQ(std::get<FileExtent>(out[3]).offset, Offset{4});
}

}  // namespace
}  // namespace audio_stream

namespace audio_stream {
namespace {

// The bytes of a body over a file whose byte i is i % 251 (memory blocks as they are).
std::string bytes_of(const Extents& body)
{
    std::string out;
    for (const auto& e : body) {
        if (const auto* f = std::get_if<FileExtent>(&e)) {
            for (Offset i = 0; i < f->length; ++i) {
                out.push_back(static_cast<char>((f->offset + i) % 251));
            }
        }
        else {
            out += std::get<MemoryBlock>(e).bytes;
        }
    }
    return out;
}

// Every slice until the cursor is done.
std::vector<Extents> all_slices(const Extents& body, std::size_t max_extents, Offset max_bytes)
{
    std::vector<Extents> out;
    for (SliceCursor at; !at.done(body);) {
        out.push_back(next_slice(body, at, max_extents, max_bytes));
    }
    return out;
}

TEST(NextSlice, WithoutLimitsIsTheWholeBodyAtOnce)
{
    SliceCursor at;
    EXPECT_EQ(next_slice(kMixed, at, 100, 0), kMixed);
    EXPECT_TRUE(at.done(kMixed));
    EXPECT_EQ(next_slice(kMixed, at, 100, 0), Extents{});  // nothing after the end
}

TEST(NextSlice, AtMostMaxExtentsASlice)
{
    const Extents body{FileExtent{0, 1}, MemoryBlock{"a"}, FileExtent{10, 2}, MemoryBlock{"b"}, FileExtent{20, 3}};
    EXPECT_EQ(all_slices(body, 2, 0),
              (std::vector<Extents>{{FileExtent{0, 1}, MemoryBlock{"a"}},
                                    {FileExtent{10, 2}, MemoryBlock{"b"}},
                                    {FileExtent{20, 3}}}));
    EXPECT_EQ(all_slices(body, 1, 0).size(), 5u);
}

// AudioStreamWindow-sized slices: an extent is split where the byte limit falls.
TEST(NextSlice, AtMostMaxBytesASliceSplittingExtents)
{
    EXPECT_EQ(all_slices({FileExtent{100, 10}}, 8, 4),
              (std::vector<Extents>{{FileExtent{100, 4}}, {FileExtent{104, 4}}, {FileExtent{108, 2}}}));
    EXPECT_EQ(all_slices({MemoryBlock{"abcdefgh"}}, 8, 3),
              (std::vector<Extents>{{MemoryBlock{"abc"}}, {MemoryBlock{"def"}}, {MemoryBlock{"gh"}}}));
    // Both limits: the first reached ends the slice.
    EXPECT_EQ(all_slices(kMixed, 2, 6),
              (std::vector<Extents>{{MemoryBlock{"HEAD"}, FileExtent{100, 2}},
                                    {FileExtent{102, 6}},
                                    {FileExtent{108, 2}, MemoryBlock{"TAIL"}}}));
}

TEST(NextSlice, TheCursorGoesOnWhereTheLastSliceStopped)
{
    SliceCursor at;
    EXPECT_EQ(next_slice(kMixed, at, 8, 6), (Extents{MemoryBlock{"HEAD"}, FileExtent{100, 2}}));
    EXPECT_EQ(at.index, 1u);
    EXPECT_EQ(at.into, 2u);
    EXPECT_FALSE(at.done(kMixed));
    EXPECT_EQ(next_slice(kMixed, at, 8, 0), (Extents{FileExtent{102, 8}, MemoryBlock{"TAIL"}}));
    EXPECT_TRUE(at.done(kMixed));
}

TEST(NextSlice, EmptyExtentsAreSkippedNeverEmitted)
{
    const Extents body{MemoryBlock{""}, FileExtent{0, 0}, FileExtent{5, 3}, MemoryBlock{""}, FileExtent{9, 0}};
    const std::vector<Extents> slices = all_slices(body, 1, 0);
    ASSERT_FALSE(slices.empty());
    EXPECT_EQ(slices.front(), (Extents{FileExtent{5, 3}}));
    for (std::size_t i = 1; i < slices.size(); ++i) {
        EXPECT_EQ(slices[i], Extents{});  // only the empty extents were left
    }
    EXPECT_TRUE(all_slices({}, 4, 10).empty());
}

// Random bodies and limits: the slices put together are the body, byte for byte, and each
// keeps to both limits and holds no empty extent.
TEST(NextSlice, SlicesPutTogetherAreTheBody)
{
    std::mt19937 rng(17);
    for (int round = 0; round < 500; ++round) {
        Extents body;
        const int n = static_cast<int>(rng() % 8);
        for (int i = 0; i < n; ++i) {
            if (rng() % 2) {
                body.push_back(FileExtent{rng() % 1000, rng() % 50});
            }
            else {
                body.push_back(MemoryBlock{std::string(rng() % 20, static_cast<char>('a' + rng() % 26))});
            }
        }
        const std::size_t max_extents = 1 + rng() % 4;
        const Offset max_bytes = rng() % 3 == 0 ? 0 : 1 + rng() % 40;
        std::string joined;
        for (const Extents& s : all_slices(body, max_extents, max_bytes)) {
            EXPECT_LE(s.size(), max_extents);
            if (max_bytes) {
                EXPECT_LE(extents_length(s), max_bytes);
            }
            for (const auto& e : s) {
                EXPECT_GT(extent_length(e), 0u);
            }
            joined += bytes_of(s);
        }
        EXPECT_EQ(joined, bytes_of(body)) << "round " << round;
    }
}

TEST(SingleFileRange, OnlyABodyOfOneFileExtent)
{
    const Extents one{FileExtent{7, 100}};
    ASSERT_NE(single_file_range(one), nullptr);
    EXPECT_EQ(*single_file_range(one), (FileExtent{7, 100}));
    EXPECT_EQ(single_file_range(Extents{}), nullptr);
    EXPECT_EQ(single_file_range(Extents{MemoryBlock{"head"}}), nullptr);
    EXPECT_EQ(single_file_range(Extents{FileExtent{0, 1}, FileExtent{5, 1}}), nullptr);
    EXPECT_EQ(single_file_range(Extents{MemoryBlock{"head"}, FileExtent{0, 10}}), nullptr);
}

}  // namespace
}  // namespace audio_stream
