// What a response delivered: the file ranges among the body bytes sent (sent_file_ranges, for
// coverage), the representation's ranges (sent_text, AUDIO_SENT) and the seconds of audio
// (seconds_text, AUDIO_SECONDS), for whole, ranged, multipart and cut answers, and for a
// client that left early.
#include "src/stats/sent.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/unit/printers.h"

namespace audio_stream::stats {
namespace {

using Ranges = std::vector<FileRange>;

PlanRequest request(const Representation& rep, std::string_view range)
{
    return PlanRequest{&rep, range, false, PiecePolicy{0, PieceScope::Media}, 0, "audio/mpeg", "\"etag\"", nullptr};
}

// ---- sent_file_ranges ------------------------------------------------------------------------

TEST(SentFileRanges, AWholeFileSentIsOneRange)
{
    const Plan p = plan_response(request(whole_file(1000), ""));
    EXPECT_EQ(sent_file_ranges(p.body, p.parts, 1000), (Ranges{{0, 1000}}));
}

TEST(SentFileRanges, AnEarlyAbortIsThePrefixSent)
{
    const Plan p = plan_response(request(whole_file(1000), ""));
    EXPECT_EQ(sent_file_ranges(p.body, p.parts, 0), Ranges{});
    EXPECT_EQ(sent_file_ranges(p.body, p.parts, 1), (Ranges{{0, 1}}));
    EXPECT_EQ(sent_file_ranges(p.body, p.parts, 999), (Ranges{{0, 999}}));
    // More than the body (never reported, but harmless): the body.
    EXPECT_EQ(sent_file_ranges(p.body, p.parts, 5000), (Ranges{{0, 1000}}));
}

TEST(SentFileRanges, ARangeIsItsFileBytes)
{
    const Plan p = plan_response(request(whole_file(1000), "bytes=100-199"));
    EXPECT_EQ(sent_file_ranges(p.body, p.parts, 100), (Ranges{{100, 200}}));
    EXPECT_EQ(sent_file_ranges(p.body, p.parts, 10), (Ranges{{100, 110}}));
}

// Memory blocks (a cut's header, multipart framing) are not file bytes.
TEST(SentFileRanges, MemoryBlocksAreNotFileBytes)
{
    const Extents body{MemoryBlock{"HEADER"}, FileExtent{100, 10}, MemoryBlock{"TAIL"}};
    EXPECT_EQ(sent_file_ranges(body, {}, 3), Ranges{});
    EXPECT_EQ(sent_file_ranges(body, {}, 6), Ranges{});
    EXPECT_EQ(sent_file_ranges(body, {}, 7), (Ranges{{100, 101}}));
    EXPECT_EQ(sent_file_ranges(body, {}, 20), (Ranges{{100, 110}}));
    EXPECT_EQ(sent_file_ranges({MemoryBlock{"only"}}, {}, 4), Ranges{});
    EXPECT_EQ(sent_file_ranges({}, {}, 100), Ranges{});
}

// A cut's rewritten headers sit between the file extents of the bodies: file ranges up to
// kJoinGap apart are one range (the header bytes were sent, rewritten).
TEST(SentFileRanges, RangesUpToTheJoinGapApartAreJoined)
{
    const Extents body{MemoryBlock{"h0"}, FileExtent{0, 100}, MemoryBlock{"h1"}, FileExtent{100 + kJoinGap, 100},
                       MemoryBlock{"h2"}, FileExtent{200 + 2 * kJoinGap + 1, 100}};
    const Offset all = extents_length(body);
    EXPECT_EQ(sent_file_ranges(body, {}, all),
              (Ranges{{0, 200 + kJoinGap}, {200 + 2 * kJoinGap + 1, 300 + 2 * kJoinGap + 1}}));
    // Touching extents are one range; a gap of 0 joins only those.
    EXPECT_EQ(sent_file_ranges({FileExtent{0, 10}, FileExtent{10, 10}}, {}, 20), (Ranges{{0, 20}}));
    EXPECT_EQ(sent_file_ranges({FileExtent{0, 10}, FileExtent{11, 10}}, {}, 21, 0), (Ranges{{0, 10}, {11, 21}}));
    EXPECT_EQ(sent_file_ranges({FileExtent{0, 10}, FileExtent{11, 10}}, {}, 21), (Ranges{{0, 21}}));
}

// Only forward: a body that goes back in the file keeps its ranges apart, in body order.
TEST(SentFileRanges, ABackwardJumpIsNotJoined)
{
    EXPECT_EQ(sent_file_ranges({FileExtent{500, 100}, FileExtent{0, 100}}, {}, 200), (Ranges{{500, 600}, {0, 100}}));
    EXPECT_EQ(sent_file_ranges({FileExtent{500, 100}, FileExtent{550, 100}}, {}, 200),
              (Ranges{{500, 600}, {550, 650}}));
}

TEST(SentFileRanges, EmptyExtentsAreSkipped)
{
    EXPECT_EQ(sent_file_ranges({FileExtent{0, 0}, MemoryBlock{""}, FileExtent{7, 3}, FileExtent{50, 0}}, {}, 3),
              (Ranges{{7, 10}}));
}

// The file bytes between two parts of a multipart answer were not sent: never joined, however
// close (the fix of an overcount: bytes=0-99,600-699 once counted as 0-699).
TEST(SentFileRanges, PartsOfAMultipartAreNeverJoined)
{
    const Representation rep = whole_file(100000);
    const Plan m = plan_response(request(rep, "bytes=0-99,600-699,1200-1299"));
    ASSERT_EQ(m.status, 206);
    ASSERT_EQ(m.parts.size(), 3u);
    EXPECT_EQ(sent_file_ranges(m.body, m.parts, m.content_length), (Ranges{{0, 100}, {600, 700}, {1200, 1300}}));
    // One byte every kJoinGap + 1: each byte on its own.
    std::string many = "bytes=";
    for (Offset i = 0; i < 50; ++i) {
        many += (i ? "," : "") + std::to_string(i * (kJoinGap + 1)) + "-" + std::to_string(i * (kJoinGap + 1));
    }
    const Plan q = plan_response(request(rep, many));
    ASSERT_EQ(q.status, 206);
    const Ranges r = sent_file_ranges(q.body, q.parts, q.content_length);
    ASSERT_EQ(r.size(), 50u);
    Offset covered = 0;
    for (const FileRange& x : r) {
        covered += x.end - x.first;
    }
    EXPECT_EQ(covered, 50u);
}

TEST(SentFileRanges, AnAbortInsideAMultipartCountsThePartsSent)
{
    const Representation rep = whole_file(1000);
    const Plan p = plan_response(request(rep, "bytes=0-9,100-109"));
    ASSERT_EQ(p.parts.size(), 2u);
    const Offset second = p.parts[1].body_offset;
    EXPECT_EQ(sent_file_ranges(p.body, p.parts, p.parts[0].body_offset), Ranges{});  // in the first head
    EXPECT_EQ(sent_file_ranges(p.body, p.parts, p.parts[0].body_offset + 4), (Ranges{{0, 4}}));
    EXPECT_EQ(sent_file_ranges(p.body, p.parts, second - 1), (Ranges{{0, 10}}));      // in the second head
    EXPECT_EQ(sent_file_ranges(p.body, p.parts, second + 3), (Ranges{{0, 10}, {100, 103}}));
    EXPECT_EQ(sent_file_ranges(p.body, p.parts, p.content_length - 1), (Ranges{{0, 10}, {100, 110}}));
}

// A multipart answer of a cut: inside each part the cut's header gaps are still bridged.
TEST(SentFileRanges, InsideEachPartOfACutGapsAreStillBridged)
{
    Representation cut;
    cut.extents = {MemoryBlock{std::string(50, 'H')}, FileExtent{1000, 400}, MemoryBlock{std::string(20, 'p')},
                   FileExtent{1420, 400}, MemoryBlock{std::string(20, 'p')}, FileExtent{1840, 400}};
    cut.length = extents_length(cut.extents);
    // Part 1: cut bytes 50..869 (file 1000..1399, a header, 1420..1819); part 2: from the
    // last file extent, 20 bytes after the one before it in the file.
    const Plan p = plan_response(request(cut, "bytes=50-869,890-1289"));
    ASSERT_EQ(p.status, 206);
    ASSERT_EQ(p.parts.size(), 2u);
    EXPECT_EQ(sent_file_ranges(p.body, p.parts, p.content_length), (Ranges{{1000, 1820}, {1840, 2240}}));
    // The same cut whole: one part, everything bridged.
    const Plan w = plan_response(request(cut, ""));
    EXPECT_EQ(sent_file_ranges(w.body, w.parts, w.content_length), (Ranges{{1000, 2240}}));
}

// ---- sent_text (AUDIO_SENT) ------------------------------------------------------------------

TEST(SentText, AWholeAnswerIsZeroToLastOverTotal)
{
    const Plan p = plan_response(request(whole_file(1000), ""));
    EXPECT_EQ(sent_text(p.parts, p.total, 1000), "0-999/1000");
    EXPECT_EQ(sent_text(p.parts, p.total, 1), "0-0/1000");
    EXPECT_EQ(sent_text(p.parts, p.total, 0), "-");
}

TEST(SentText, ARangeIsItsBytesSent)
{
    const Plan p = plan_response(request(whole_file(1000), "bytes=100-199"));
    EXPECT_EQ(sent_text(p.parts, p.total, 100), "100-199/1000");
    EXPECT_EQ(sent_text(p.parts, p.total, 50), "100-149/1000");
}

TEST(SentText, AMultipartListsItsParts)
{
    const Plan p = plan_response(request(whole_file(1000), "bytes=0-9,100-109,-5"));
    ASSERT_EQ(p.parts.size(), 3u);
    EXPECT_EQ(sent_text(p.parts, p.total, p.content_length), "0-9,100-109,995-999/1000");
}

// A client that left early: the parts it received, the last one cut where it stopped.
TEST(SentText, AnEarlyAbortOfAMultipartStopsWhereTheClientLeft)
{
    const Plan p = plan_response(request(whole_file(1000), "bytes=0-9,100-109,-5"));
    ASSERT_EQ(p.parts.size(), 3u);
    EXPECT_EQ(sent_text(p.parts, p.total, 0), "-");
    EXPECT_EQ(sent_text(p.parts, p.total, p.parts[0].body_offset), "-");  // the first head only
    EXPECT_EQ(sent_text(p.parts, p.total, p.parts[0].body_offset + 1), "0-0/1000");
    EXPECT_EQ(sent_text(p.parts, p.total, p.parts[1].body_offset), "0-9/1000");  // the second head
    EXPECT_EQ(sent_text(p.parts, p.total, p.parts[1].body_offset + 3), "0-9,100-102/1000");
    EXPECT_EQ(sent_text(p.parts, p.total, p.parts[2].body_offset + 5), "0-9,100-109,995-999/1000");
    // The closing boundary is not a part.
    EXPECT_EQ(sent_text(p.parts, p.total, p.content_length - 1), "0-9,100-109,995-999/1000");
}

TEST(SentText, NoPartsIsADash)
{
    const Plan unsatisfiable = plan_response(request(whole_file(1000), "bytes=5000-"));
    ASSERT_EQ(unsatisfiable.status, 416);
    EXPECT_EQ(sent_text(unsatisfiable.parts, unsatisfiable.total, 0), "-");
    const Plan empty = plan_response(request(whole_file(0), ""));
    EXPECT_EQ(sent_text(empty.parts, empty.total, 0), "-");
}

// A cut's ranges are of the cut (the representation), not of the file.
TEST(SentText, ACutIsInTheCutsOffsets)
{
    Representation cut;
    cut.extents = {MemoryBlock{"HEADER"}, FileExtent{5000, 994}};
    cut.length = 1000;
    const Plan p = plan_response(request(cut, "bytes=2-"));
    EXPECT_EQ(sent_text(p.parts, p.total, p.content_length), "2-999/1000");
    EXPECT_EQ(sent_file_ranges(p.body, p.parts, p.content_length), (Ranges{{5000, 5994}}));
}

// ---- seconds_text (AUDIO_SECONDS) ------------------------------------------------------------

// 180 s at 16000 B/s after a 4096-byte header.
const AudioLayout kCbr{4096 + 180 * 16000, 4096, 4096 + 180 * 16000, 180'000'000};

TEST(SecondsText, IsTheTimesOfTheFirstAndTheEndByte)
{
    EXPECT_EQ(seconds_text(kCbr, {{0, kCbr.size}}), "0.000-180.000");
    EXPECT_EQ(seconds_text(kCbr, {{4096, 4096 + 16000}}), "0.000-1.000");
    EXPECT_EQ(seconds_text(kCbr, {{4096 + 60 * 16000, 4096 + 90 * 16000}}), "60.000-90.000");
    // Header bytes alone are no audio; with audio, the header does not pull the start to 0
    // (a cut keeps the ID3v2 tag first, then sends the audio from t on).
    EXPECT_EQ(seconds_text(kCbr, {{0, 100}}), "-");
    EXPECT_EQ(seconds_text(kCbr, {{0, 4096}}), "-");
    EXPECT_EQ(seconds_text(kCbr, {{0, 4096}, {4096 + 60 * 16000, 4096 + 61 * 16000}}), "60.000-61.000");
}

TEST(SecondsText, SeveralRangesSpanFromTheFirstToTheLast)
{
    EXPECT_EQ(seconds_text(kCbr, {{4096 + 120 * 16000, 4096 + 121 * 16000}, {4096 + 16000, 4096 + 2 * 16000}}),
              "1.000-121.000");
}

TEST(SecondsText, RoundsToTheNearestMillisecond)
{
    // 16 bytes a millisecond: byte 8 of a millisecond is its half.
    EXPECT_EQ(seconds_text(kCbr, {{4096, 4096 + 16007}}), "0.000-1.000");  // 1.0004375 s
    EXPECT_EQ(seconds_text(kCbr, {{4096, 4096 + 16008}}), "0.000-1.001");  // 1.0005 s
    EXPECT_EQ(seconds_text(kCbr, {{4096 + 7, 4096 + 16}}), "0.000-0.001");
    EXPECT_EQ(seconds_text(kCbr, {{4096 + 8, 4096 + 16}}), "0.001-0.001");
    EXPECT_EQ(seconds_text(kCbr, {{4096 + 15999 * 16 / 10, kCbr.size}}), "1.600-180.000");
}

// Bytes after the audio (an ID3v1 tag) play at the end.
TEST(SecondsText, BytesPastTheAudioAreClampedToTheDuration)
{
    const AudioLayout tagged{1000 + 128, 0, 1000, 1'000'000};
    EXPECT_EQ(seconds_text(tagged, {{500, 1128}}), "0.500-1.000");
}

TEST(SecondsText, NothingSentOrUnknownDurationIsADash)
{
    EXPECT_EQ(seconds_text(kCbr, {}), "-");
    const AudioLayout unknown{1000, 0, 1000, 0};
    EXPECT_EQ(seconds_text(unknown, {{0, 1000}}), "-");
    const AudioLayout no_audio{1000, 1000, 1000, 5'000'000};
    EXPECT_EQ(seconds_text(no_audio, {{0, 1000}}), "-");
}

TEST(SecondsText, LongFilesKeepTheirSeconds)
{
    const AudioLayout ten_hours{Offset{1} << 40, 0, Offset{1} << 40, Micros{36000} * 1'000'000};
    EXPECT_EQ(seconds_text(ten_hours, {{0, Offset{1} << 40}}), "0.000-36000.000");
    EXPECT_EQ(seconds_text(ten_hours, {{Offset{1} << 39, Offset{1} << 40}}), "18000.000-36000.000");
}

// ---- source_file_ranges (a segment built in memory: MPEG-TS) --------------------------------

TEST(SourceFileRanges, AllOfItSentIsAllOfItsSource)
{
    Representation ts;
    append_memory(ts.extents, std::string(2000, 'G'));
    ts.length = 2000;
    ts.source = {FileExtent{100, 900}, FileExtent{1200, 900}};
    const Plan p = plan_response(request(ts, ""));
    EXPECT_EQ(source_file_ranges(ts.source, p.total, p.parts, 2000), (Ranges{{100, 1000}, {1200, 2100}}));
    EXPECT_EQ(source_file_ranges(ts.source, p.total, p.parts, 0), Ranges{});
    // Half of it sent: half of the source, in proportion.
    EXPECT_EQ(source_file_ranges(ts.source, p.total, p.parts, 1000), (Ranges{{100, 1000}}));
    const Plan tail = plan_response(request(ts, "bytes=1000-"));
    EXPECT_EQ(source_file_ranges(ts.source, tail.total, tail.parts, 1000), (Ranges{{1200, 2100}}));
}

}  // namespace
}  // namespace audio_stream::stats
