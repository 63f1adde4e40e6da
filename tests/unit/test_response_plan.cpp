// plan_response: status, Content-Range, Content-Type, Content-Length and body extents
// (RFC 9110 §14.2-14.6, §15.3.7, §15.5.17).
#include "src/response_plan.h"

#include <gtest/gtest.h>

#include <string>
#include <variant>
#include <vector>

#include "tests/unit/printers.h"

namespace audio_stream {
namespace {

constexpr Offset kMiB = 1048576;
constexpr Offset kTrack = 50 * kMiB;
const PiecePolicy kNoPiece{0, PieceScope::Media};
const PiecePolicy kMediaPiece{kMiB, PieceScope::Media};
const PiecePolicy kAllPiece{kMiB, PieceScope::All};
constexpr std::string_view kMultipartPrefix = "multipart/byteranges; boundary=";

// What must hold of every plan: the length we announce is the length we send, and every file
// extent lies inside the file.
void expect_plan_invariants(const Plan& p, Offset file_length)
{
    EXPECT_EQ(p.content_length, extents_length(p.body));
    for (const auto& e : p.body) {
        if (const auto* f = std::get_if<FileExtent>(&e)) {
            EXPECT_GT(f->length, 0u) << "empty extent";
            EXPECT_LT(f->offset, file_length);
            EXPECT_LE(f->length, file_length - f->offset);
        }
    }
}

PlanRequest request(const Representation& rep, std::string_view range, bool media = false,
                    PiecePolicy piece = kNoPiece, unsigned max_ranges = 0,
                    std::string_view content_type = "audio/mpeg",
                    std::string_view seed = "\"5f3a-3200000\"")
{
    return PlanRequest{&rep, range, media, piece, max_ranges, content_type, seed, nullptr};
}

// ---------------------------------------------------------------------------------------------
// Single-part and non-206 answers: every field exact.

struct PlanCase {
    const char* name;
    Offset file_length;
    const char* range;
    bool media;
    PiecePolicy piece;
    unsigned max_ranges;
    int status;
    const char* content_range;
    Offset content_length;
    Extents body;
    const char* note;
    friend void PrintTo(const PlanCase& c, std::ostream* os) { *os << c.name; }
};

std::vector<PlanCase> plan_cases()
{
    return {
        // §14.2: no Range, or one we ignore, is a 200 of the whole representation.
        {"Rfc9110_14_2_NoRangeSends200Whole", 1000, "", false, kNoPiece, 0, 200, "", 1000,
         {FileExtent{0, 1000}}, "no range"},
        {"Rfc9110_14_2_NoRangeOnEmptyFileSends200Empty", 0, "", false, kNoPiece, 0, 200, "", 0,
         {}, "no range"},
        {"Rfc9110_14_2_InvalidRangeIgnored", 1000, "bytes=5-1", false, kNoPiece, 0, 200, "", 1000,
         {FileExtent{0, 1000}}, "invalid range ignored"},
        {"Rfc9110_14_2_UnknownRangeUnitIgnored", 1000, "items=0-1", false, kNoPiece, 0, 200, "",
         1000, {FileExtent{0, 1000}}, "invalid range ignored"},
        {"Rfc9110_14_2_MoreRangesThanAllowedIgnored", 1000, "bytes=0-1,3-4,6-7", false, kNoPiece,
         2, 200, "", 1000, {FileExtent{0, 1000}}, "more ranges than AudioStreamMaxRanges"},
        // §15.5.17: 416 with "bytes */length" and no body.
        {"Rfc9110_15_5_17_FirstPosAtEndSends416", 1000, "bytes=1000-", false, kNoPiece, 0, 416,
         "bytes */1000", 0, {}, "unsatisfiable"},
        {"Rfc9110_15_5_17_ZeroSuffixSends416", 1000, "bytes=-0", false, kNoPiece, 0, 416,
         "bytes */1000", 0, {}, "unsatisfiable"},
        {"Rfc9110_15_5_17_EmptyFileAnyRangeSends416", 0, "bytes=0-", false, kNoPiece, 0, 416,
         "bytes */0", 0, {}, "unsatisfiable"},
        {"Rfc9110_15_5_17_HugeFirstPosSends416", 1000,
         "bytes=99999999999999999999999999999999999999-", false, kNoPiece, 0, 416, "bytes */1000",
         0, {}, "unsatisfiable"},
        {"Rfc9110_15_5_17_AllRangesUnsatisfiableSends416", 1000, "bytes=1000-1001,2000-,-0",
         false, kNoPiece, 0, 416, "bytes */1000", 0, {}, "unsatisfiable"},
        // §15.3.7.1: a single part is a 206 with Content-Range and exactly those bytes.
        {"Rfc9110_15_3_7_1_SingleRangeSends206", 1000, "bytes=100-199", false, kNoPiece, 0, 206,
         "bytes 100-199/1000", 100, {FileExtent{100, 100}}, "exact"},
        {"Rfc9110_15_3_7_1_FirstByteOnly", 1000, "bytes=0-0", false, kNoPiece, 0, 206,
         "bytes 0-0/1000", 1, {FileExtent{0, 1}}, "exact"},
        {"Rfc9110_14_1_2_LastPosPastEndClipped", 1000, "bytes=900-5000", false, kNoPiece, 0, 206,
         "bytes 900-999/1000", 100, {FileExtent{900, 100}}, "exact"},
        {"Rfc9110_14_1_2_SuffixSelectsLastBytes", 1000, "bytes=-10", false, kNoPiece, 0, 206,
         "bytes 990-999/1000", 10, {FileExtent{990, 10}}, "exact"},
        {"Rfc9110_14_1_2_SuffixLongerThanFileSelectsAll", 1000, "bytes=-5000", false, kNoPiece, 0,
         206, "bytes 0-999/1000", 1000, {FileExtent{0, 1000}}, "exact"},
        {"Rfc9110_14_1_2_UnsatisfiableSpecDroppedFromSet", 1000, "bytes=2000-,10-19", false,
         kNoPiece, 0, 206, "bytes 10-19/1000", 10, {FileExtent{10, 10}}, "exact"},
        {"Rfc9110_14_2_ExactlyMaxRangesHonoured", 1000, "bytes=10-19", false, kNoPiece, 1, 206,
         "bytes 10-19/1000", 10, {FileExtent{10, 10}}, "exact"},
        // Content-Range is formatted by hand: every field at its widest (20 digits) is exact.
        {"Rfc9110_14_4_ContentRangeOfTwentyDigitOffsets", 10000000000000000000ull,
         "bytes=9999999999999999990-", false, kNoPiece, 0, 206,
         "bytes 9999999999999999990-9999999999999999999/10000000000000000000", 10,
         {FileExtent{9999999999999999990ull, 10}}, "exact"},
        // §14.3: ranges that coalesce into one are a plain single-part 206.
        {"Rfc9110_14_3_AdjacentRangesCoalesceToPlain206", 1000, "bytes=0-9,10-19", false,
         kNoPiece, 0, 206, "bytes 0-19/1000", 20, {FileExtent{0, 20}}, "exact"},
        {"Rfc9110_14_3_OverlappingRangesCoalesceToPlain206", 1000, "bytes=50-99,0-60", false,
         kNoPiece, 0, 206, "bytes 0-99/1000", 100, {FileExtent{0, 100}}, "exact"},
        // Piece window (AudioStreamPieceSize / AudioStreamPieceScope).
        {"Rfc9110_14_1_2_OpenEndedMediaGetsOnePiece", kTrack, "bytes=0-", true, kMediaPiece, 0,
         206, "bytes 0-1048575/52428800", kMiB, {FileExtent{0, kMiB}}, "piece"},
        {"Rfc9110_14_1_2_OpenEndedMediaMidFileGetsOnePiece", kTrack, "bytes=10485760-", true,
         kMediaPiece, 0, 206, "bytes 10485760-11534335/52428800", kMiB,
         {FileExtent{10485760, kMiB}}, "piece"},
        {"Rfc9110_14_1_2_OpenEndedMediaTailShorterThanPieceExact", kTrack, "bytes=52000000-",
         true, kMediaPiece, 0, 206, "bytes 52000000-52428799/52428800", 428800,
         {FileExtent{52000000, 428800}}, "exact"},
        {"Rfc9110_14_1_2_ClosedRangeFromMediaNeverCapped", kTrack, "bytes=0-52428799", true,
         kMediaPiece, 0, 206, "bytes 0-52428799/52428800", kTrack, {FileExtent{0, kTrack}},
         "exact"},
        {"Rfc9110_14_1_2_OpenEndedDownloadNotCappedInMediaScope", kTrack, "bytes=0-", false,
         kMediaPiece, 0, 206, "bytes 0-52428799/52428800", kTrack, {FileExtent{0, kTrack}},
         "exact"},
        {"Rfc9110_14_1_2_OpenEndedInASetIsNotOpenEnded", kTrack, "bytes=0-,0-10", true,
         kMediaPiece, 0, 206, "bytes 0-52428799/52428800", kTrack, {FileExtent{0, kTrack}},
         "exact"},
        {"Rfc9110_14_1_2_NoPieceSizeNoCap", kTrack, "bytes=0-", true, kNoPiece, 0, 206,
         "bytes 0-52428799/52428800", kTrack, {FileExtent{0, kTrack}}, "exact"},
        {"Piece_AllScopeCapsClosedDownload", kTrack, "bytes=0-52428799", false, kAllPiece, 0,
         206, "bytes 0-1048575/52428800", kMiB, {FileExtent{0, kMiB}}, "piece"},
        {"Piece_AllScopeCapsSuffix", kTrack, "bytes=-2097152", false, kAllPiece, 0, 206,
         "bytes 50331648-51380223/52428800", kMiB, {FileExtent{50331648, kMiB}}, "piece"},
        // §14.3: a multipart answer bigger than twice the file is replaced by the whole file.
        {"Rfc9110_14_3_MultipartOverTwiceFileSends200Whole", 10, "bytes=0-0,2-2,4-4", false,
         kNoPiece, 0, 200, "", 10, {FileExtent{0, 10}}, "multipart larger than twice the file"},
    };
}

class PlanResponseTest : public ::testing::TestWithParam<PlanCase> {};

TEST_P(PlanResponseTest, PlansExactly)
{
    const PlanCase& c = GetParam();
    const Representation rep = whole_file(c.file_length);
    const Plan p = plan_response(request(rep, c.range, c.media, c.piece, c.max_ranges));
    EXPECT_EQ(p.status, c.status);
    EXPECT_EQ(p.content_range, c.content_range);
    EXPECT_EQ(p.content_type, "");
    EXPECT_EQ(p.content_length, c.content_length);
    EXPECT_EQ(p.body, c.body);
    EXPECT_EQ(p.note, c.note);
    // Capped exactly when the piece window made the answer shorter than asked.
    EXPECT_EQ(p.capped, std::string(c.note) == "piece");
    expect_plan_invariants(p, c.file_length);
}

INSTANTIATE_TEST_SUITE_P(ResponsePlan, PlanResponseTest, ::testing::ValuesIn(plan_cases()),
                         [](const auto& info) { return std::string(info.param.name); });

// ---------------------------------------------------------------------------------------------
// multipart/byteranges (§14.6): the boundary is computed, so the expected body is built from it.

std::string boundary_of(const Plan& p)
{
    const std::string_view type = p.content_type;
    if (type.substr(0, kMultipartPrefix.size()) != kMultipartPrefix) {
        ADD_FAILURE() << "not multipart/byteranges: " << p.content_type;
        return {};
    }
    return std::string(type.substr(kMultipartPrefix.size()));
}

MemoryBlock part_head(const std::string& boundary, std::string_view type, std::string_view range)
{
    std::string head = "\r\n--" + boundary + "\r\n";
    if (!type.empty()) {
        head += "Content-Type: " + std::string(type) + "\r\n";
    }
    return MemoryBlock{head + "Content-Range: " + std::string(range) + "\r\n\r\n"};
}

MemoryBlock closing(const std::string& boundary) { return MemoryBlock{"\r\n--" + boundary + "--\r\n"}; }

// RFC 2046 §5.1.1: 1 to 70 bchars, not ending in a space.
void expect_valid_boundary(const std::string& boundary)
{
    ASSERT_FALSE(boundary.empty());
    EXPECT_LE(boundary.size(), 70u);
    EXPECT_NE(boundary.back(), ' ');
    const std::string_view bchars =
        "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'()+_,-./:=? ";
    for (char c : boundary) {
        EXPECT_NE(bchars.find(c), std::string_view::npos) << "bad boundary char '" << c << "'";
    }
}

TEST(Multipart, Rfc9110_14_6_TwoRangesMakeTwoPartsWithTypeAndRange)
{
    const Representation rep = whole_file(1000);
    const Plan p = plan_response(request(rep, "bytes=0-9,100-109"));
    const std::string b = boundary_of(p);
    expect_valid_boundary(b);
    EXPECT_EQ(p.status, 206);
    EXPECT_EQ(p.content_range, "");
    const Extents expected{
        part_head(b, "audio/mpeg", "bytes 0-9/1000"),     FileExtent{0, 10},
        part_head(b, "audio/mpeg", "bytes 100-109/1000"), FileExtent{100, 10},
        closing(b),
    };
    EXPECT_EQ(p.body, expected);
    EXPECT_EQ(p.content_length, extents_length(expected));
    EXPECT_EQ(p.note, "2 parts");
    expect_plan_invariants(p, rep.length);
}

TEST(Multipart, Rfc9110_14_6_PartHeadersSpelledOut)
{
    // The exact bytes once, so that a change in the part framing cannot slip past unnoticed.
    const Representation rep = whole_file(1000);
    const Plan p = plan_response(request(rep, "bytes=0-9,100-109"));
    const std::string b = boundary_of(p);
    ASSERT_EQ(p.body.size(), 5u);
    EXPECT_EQ(std::get<MemoryBlock>(p.body[0]).bytes,
              "\r\n--" + b + "\r\nContent-Type: audio/mpeg\r\nContent-Range: bytes 0-9/1000\r\n\r\n");
    EXPECT_EQ(std::get<MemoryBlock>(p.body[4]).bytes, "\r\n--" + b + "--\r\n");
    // Each head: CRLF "--" boundary CRLF (4+b+2), the Content-Type line (26), "Content-Range: "
    // (15) and its value (14, then 18), CRLF CRLF (4); 20 file bytes; tail CRLF "--" b "--" CRLF.
    const Offset head0 = 4 + b.size() + 2 + 26 + 15 + 14 + 4;
    const Offset head1 = 4 + b.size() + 2 + 26 + 15 + 18 + 4;
    EXPECT_EQ(p.content_length, head0 + 10 + head1 + 10 + (4 + b.size() + 4));
    expect_plan_invariants(p, rep.length);
}

TEST(Multipart, Rfc9110_14_6_NoContentTypeLineWhenRepresentationHasNone)
{
    const Representation rep = whole_file(1000);
    const Plan p = plan_response(request(rep, "bytes=0-9,100-109", false, kNoPiece, 0, ""));
    const std::string b = boundary_of(p);
    EXPECT_EQ(p.status, 206);
    const Extents expected{
        part_head(b, "", "bytes 0-9/1000"),     FileExtent{0, 10},
        part_head(b, "", "bytes 100-109/1000"), FileExtent{100, 10},
        closing(b),
    };
    EXPECT_EQ(p.body, expected);
    EXPECT_EQ(p.content_length, extents_length(expected));
    expect_plan_invariants(p, rep.length);
}

TEST(Multipart, Rfc9110_14_3_PartsSortedAndCoalescedBeforeFraming)
{
    const Representation rep = whole_file(1000);
    const Plan p = plan_response(request(rep, "bytes=500-509,0-9,5-14,-1"));
    const std::string b = boundary_of(p);
    EXPECT_EQ(p.status, 206);
    const Extents expected{
        part_head(b, "audio/mpeg", "bytes 0-14/1000"),    FileExtent{0, 15},
        part_head(b, "audio/mpeg", "bytes 500-509/1000"), FileExtent{500, 10},
        part_head(b, "audio/mpeg", "bytes 999-999/1000"), FileExtent{999, 1},
        closing(b),
    };
    EXPECT_EQ(p.body, expected);
    EXPECT_EQ(p.content_length, extents_length(expected));
    EXPECT_EQ(p.note, "3 parts");
    expect_plan_invariants(p, rep.length);
}

TEST(Multipart, Rfc9110_14_2_ExactlyMaxRangesHonoured)
{
    const Representation rep = whole_file(1000);
    const Plan p = plan_response(request(rep, "bytes=0-9,100-109", false, kNoPiece, 2));
    const std::string b = boundary_of(p);
    EXPECT_EQ(p.status, 206);
    const Extents expected{
        part_head(b, "audio/mpeg", "bytes 0-9/1000"),     FileExtent{0, 10},
        part_head(b, "audio/mpeg", "bytes 100-109/1000"), FileExtent{100, 10},
        closing(b),
    };
    EXPECT_EQ(p.body, expected);
    expect_plan_invariants(p, rep.length);
}

TEST(Multipart, Piece_PartsOfAMultipartAreNeverCapped)
{
    const Representation rep = whole_file(kTrack);
    const Plan p = plan_response(request(rep, "bytes=0-9,2097152-", true, kAllPiece));
    const std::string b = boundary_of(p);
    EXPECT_EQ(p.status, 206);
    const Extents expected{
        part_head(b, "audio/mpeg", "bytes 0-9/52428800"),              FileExtent{0, 10},
        part_head(b, "audio/mpeg", "bytes 2097152-52428799/52428800"), FileExtent{2097152, kTrack - 2097152},
        closing(b),
    };
    EXPECT_EQ(p.body, expected);
    EXPECT_EQ(p.content_length, extents_length(expected));
    expect_plan_invariants(p, rep.length);
}

TEST(Multipart, Rfc9110_14_6_IdenticalRequestsGiveIdenticalPlans)
{
    const Representation rep = whole_file(1000);
    const Plan a = plan_response(request(rep, "bytes=0-9,100-109"));
    const Plan b = plan_response(request(rep, "bytes=0-9,100-109"));
    EXPECT_EQ(a.status, 206);
    EXPECT_EQ(a.status, b.status);
    EXPECT_EQ(a.content_type, b.content_type);
    EXPECT_EQ(a.content_length, b.content_length);
    EXPECT_EQ(a.body, b.body);
    expect_plan_invariants(a, rep.length);
}

TEST(Multipart, Rfc9110_14_3_ExactlyTwiceTheFileIsStillMultipart)
{
    // For a file of 100..999 bytes the framing has a fixed size, so the multipart length M is
    // the same for every such file. Pick the second range so that M is even, then the file of
    // M/2 bytes sits exactly on the limit ("larger than twice" is refused, equal is not).
    const Offset first_probe = plan_response(request(whole_file(500), "bytes=0-0,2-2")).content_length;
    const char* range = first_probe % 2 == 0 ? "bytes=0-0,2-2" : "bytes=0-0,2-3";
    const Plan probe = plan_response(request(whole_file(500), range));
    ASSERT_EQ(probe.status, 206);
    ASSERT_EQ(probe.content_length % 2, 0u);
    const Offset len = probe.content_length / 2;
    ASSERT_GE(len, 100u);
    ASSERT_LE(len, 999u);

    const Plan at_limit = plan_response(request(whole_file(len), range));
    EXPECT_EQ(at_limit.status, 206);
    EXPECT_EQ(at_limit.content_length, 2 * len);
    EXPECT_EQ(at_limit.body.size(), 5u);
    expect_plan_invariants(at_limit, len);

    const Plan over = plan_response(request(whole_file(len - 1), range));
    EXPECT_EQ(over.status, 200);
    EXPECT_EQ(over.content_length, len - 1);
    EXPECT_EQ(over.body, (Extents{FileExtent{0, len - 1}}));
    EXPECT_EQ(over.note, "multipart larger than twice the file");
    expect_plan_invariants(over, len - 1);
}

// A derived representation (a rewritten header in memory, then the file): the plan slices it.
TEST(PlanDerivedRepresentation, Rfc9110_14_1_2_OffsetsCountAcrossTheRepresentation)
{
    Representation rep;
    rep.extents = {MemoryBlock{"HEAD"}, FileExtent{100, 10}};
    rep.length = extents_length(rep.extents);
    const Plan p = plan_response(request(rep, "bytes=2-5"));
    EXPECT_EQ(p.status, 206);
    EXPECT_EQ(p.content_range, "bytes 2-5/14");
    EXPECT_EQ(p.content_length, 4u);
    EXPECT_EQ(p.body, (Extents{MemoryBlock{"AD"}, FileExtent{100, 2}}));
    EXPECT_EQ(p.content_length, extents_length(p.body));
}

}  // namespace
}  // namespace audio_stream

namespace audio_stream {
namespace {

// ---------------------------------------------------------------------------------------------
// Plan.parts and Plan.total: which ranges of the representation the body carries and where
// each one's bytes start in it (what the log and download counting read after the send).

// Each part's bytes are in the body at its body_offset: the representation's bytes there.
void expect_parts_in_body(const Plan& p, const Representation& rep)
{
    for (const Part& part : p.parts) {
        ASSERT_LE(part.body_offset + part.range.length(), p.content_length);
        EXPECT_EQ(slice_extents(p.body_extents(), part.body_offset, part.range.length()),
                  slice_extents(rep.extents, part.range.first, part.range.length()))
            << "part " << part.range.first << "-" << part.range.last;
    }
}

TEST(PlanParts, AWholeAnswerIsOnePartFromZero)
{
    const Representation rep = whole_file(1000);
    for (const char* range : {"", "bytes=5-1", "items=0-1"}) {
        const Plan p = plan_response(request(rep, range));
        ASSERT_EQ(p.status, 200) << range;
        ASSERT_EQ(p.parts.size(), 1u);
        EXPECT_EQ(p.parts[0].range, (ByteRange{0, 999}));
        EXPECT_EQ(p.parts[0].body_offset, 0u);
        EXPECT_EQ(p.total, 1000u);
    }
}

TEST(PlanParts, AnEmptyRepresentationHasNoPart)
{
    const Representation rep = whole_file(0);
    const Plan p = plan_response(request(rep, ""));
    EXPECT_TRUE(p.parts.empty());
    EXPECT_EQ(p.total, 0u);
}

TEST(PlanParts, A416HasNoPartButTheTotal)
{
    const Representation rep = whole_file(1000);
    const Plan p = plan_response(request(rep, "bytes=1000-"));
    ASSERT_EQ(p.status, 416);
    EXPECT_TRUE(p.parts.empty());
    EXPECT_EQ(p.total, 1000u);
}

TEST(PlanParts, ASinglePartIsTheRangeSent)
{
    const Representation rep = whole_file(1000);
    const Plan p = plan_response(request(rep, "bytes=100-199"));
    ASSERT_EQ(p.parts.size(), 1u);
    EXPECT_EQ(p.parts[0].range, (ByteRange{100, 199}));
    EXPECT_EQ(p.parts[0].body_offset, 0u);
    EXPECT_EQ(p.total, 1000u);
    expect_parts_in_body(p, rep);
    // Coalesced ranges are the one part sent.
    const Plan c = plan_response(request(rep, "bytes=50-99,0-60"));
    ASSERT_EQ(c.parts.size(), 1u);
    EXPECT_EQ(c.parts[0].range, (ByteRange{0, 99}));
}

// The piece window caps what is sent: the part is the capped window, not the range asked.
TEST(PlanParts, APieceIsTheCappedWindow)
{
    const Representation rep = whole_file(kTrack);
    const Plan p = plan_response(request(rep, "bytes=0-", true, kMediaPiece));
    ASSERT_EQ(p.note, "piece");
    ASSERT_EQ(p.parts.size(), 1u);
    EXPECT_EQ(p.parts[0].range, (ByteRange{0, kMiB - 1}));
    EXPECT_EQ(p.total, kTrack);
}

TEST(PlanParts, MultipartPartsStartAfterTheirHeads)
{
    const Representation rep = whole_file(1000);
    const Plan p = plan_response(request(rep, "bytes=500-509,0-9,-1"));
    ASSERT_EQ(p.status, 206);
    ASSERT_EQ(p.parts.size(), 3u);
    EXPECT_EQ(p.parts[0].range, (ByteRange{0, 9}));
    EXPECT_EQ(p.parts[1].range, (ByteRange{500, 509}));
    EXPECT_EQ(p.parts[2].range, (ByteRange{999, 999}));
    // Body order: each part after the head before it.
    const Offset head0 = extent_length(p.body[0]);
    EXPECT_EQ(p.parts[0].body_offset, head0);
    EXPECT_EQ(p.parts[1].body_offset, head0 + 10 + extent_length(p.body[2]));
    EXPECT_LT(p.parts[1].body_offset, p.parts[2].body_offset);
    EXPECT_EQ(p.total, 1000u);
    expect_parts_in_body(p, rep);
    // The closing boundary follows the last part.
    EXPECT_EQ(p.parts[2].body_offset + 1 + extent_length(p.body.back()), p.content_length);
}

TEST(PlanParts, AMultipartReplacedByTheWholeIsOnePart)
{
    const Representation rep = whole_file(10);
    const Plan p = plan_response(request(rep, "bytes=0-0,2-2,4-4"));
    ASSERT_EQ(p.status, 200);
    ASSERT_EQ(p.parts.size(), 1u);
    EXPECT_EQ(p.parts[0].range, (ByteRange{0, 9}));
    EXPECT_EQ(p.total, 10u);
}

// A derived representation (a cut): parts and total are in its own offsets.
TEST(PlanParts, ACutsPartsAreInTheCutsOffsets)
{
    Representation rep;
    rep.extents = {MemoryBlock{"HEAD"}, FileExtent{100, 1000}, MemoryBlock{"TAIL"}};
    rep.length = extents_length(rep.extents);
    const Plan single = plan_response(request(rep, "bytes=2-5"));
    ASSERT_EQ(single.parts.size(), 1u);
    EXPECT_EQ(single.parts[0].range, (ByteRange{2, 5}));
    EXPECT_EQ(single.total, 1008u);
    expect_parts_in_body(single, rep);
    const Plan multi = plan_response(request(rep, "bytes=0-1,6-7,1003-1007"));
    ASSERT_EQ(multi.status, 206);
    ASSERT_EQ(multi.parts.size(), 3u);
    EXPECT_EQ(multi.parts[2].range, (ByteRange{1003, 1007}));  // the last file byte, then "TAIL"
    expect_parts_in_body(multi, rep);
    EXPECT_EQ(multi.total, 1008u);
}

// A cached cut's extents are shared by an answer of all of it (a 200, or bytes=0-), not copied:
// a cut may hold a million extents, and every request for it would copy them. Any other slice
// is its own.
TEST(PlanParts, AnAnswerOfTheWholeCutSharesItsExtents)
{
    auto rep = std::make_shared<Representation>();
    rep->extents = {MemoryBlock{"HEAD"}, FileExtent{100, 1000}, MemoryBlock{"TAIL"}};
    rep->length = extents_length(rep->extents);
    const std::shared_ptr<const Extents> shared(rep, &rep->extents);
    for (const char* range : {"", "bytes=0-", "bytes=0-1007", "bytes=-2000"}) {
        PlanRequest req = request(*rep, range);
        req.shared_extents = shared;
        const Plan p = plan_response(req);
        EXPECT_EQ(p.shared_body, shared) << range;
        EXPECT_TRUE(p.body.empty()) << range;
        EXPECT_EQ(&p.body_extents(), &rep->extents) << range;
        expect_parts_in_body(p, *rep);
    }
    for (const char* range : {"bytes=1-", "bytes=0-1006", "bytes=0-1,6-7"}) {
        PlanRequest req = request(*rep, range);
        req.shared_extents = shared;
        const Plan p = plan_response(req);
        EXPECT_EQ(p.shared_body, nullptr) << range;
        EXPECT_EQ(&p.body_extents(), &p.body) << range;
        expect_parts_in_body(p, *rep);
    }
    // Without a sharer (the plain file's one extent), the body is a copy.
    const Plan copied = plan_response(request(*rep, ""));
    EXPECT_EQ(copied.shared_body, nullptr);
    EXPECT_EQ(copied.body, rep->extents);
}

}  // namespace
}  // namespace audio_stream
