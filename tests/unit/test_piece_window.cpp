// apply_piece_window and is_media_destination: how much of one range a 206 carries.
// RFC 9110 §14.1.2 lets a client read an open-ended range (bytes=a-) "without knowing the size";
// a server answering it with a shorter Content-Range (§14.4) is still a valid 206.
#include "src/piece_window.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/unit/printers.h"

namespace audio_stream {
namespace {

constexpr Offset kMiB = 1048576;
constexpr Offset kFile = 50 * kMiB;  // a 50 MiB track
const PiecePolicy kNoPiece{0, PieceScope::Media};
const PiecePolicy kNoPieceAll{0, PieceScope::All};
const PiecePolicy kMediaPiece{kMiB, PieceScope::Media};
const PiecePolicy kAllPiece{kMiB, PieceScope::All};

struct WindowCase {
    const char* name;
    ByteRange asked;
    bool open_ended;
    bool media_request;
    PiecePolicy policy;
    ByteRange expected;
    bool capped;
    friend void PrintTo(const WindowCase& c, std::ostream* os) { *os << c.name; }
};

std::vector<WindowCase> window_cases()
{
    const ByteRange whole{0, kFile - 1};
    const ByteRange first_piece{0, kMiB - 1};
    return {
        // AudioStreamPieceSize 0: §14.1.2 as asked, never capped.
        {"Piece_ZeroSizeNeverCapsMediaScope", whole, true, true, kNoPiece, whole, false},
        {"Piece_ZeroSizeNeverCapsAllScope", whole, false, false, kNoPieceAll, whole, false},
        // A range no longer than the piece is already a piece.
        {"Piece_RangeEqualToPieceUnchanged", first_piece, true, true, kMediaPiece, first_piece,
         false},
        {"Piece_RangeShorterThanPieceUnchangedInAllScope", {100, 199}, false, false, kAllPiece,
         {100, 199}, false},
        {"Piece_OpenEndedTailShorterThanPieceUnchanged", {kFile - 10, kFile - 1}, true, true,
         kMediaPiece, {kFile - 10, kFile - 1}, false},
        // Scope media: an open-ended range from a media element gets exactly one piece.
        {"Rfc9110_14_1_2_OpenEndedMediaCappedToPiece", whole, true, true, kMediaPiece,
         first_piece, true},
        {"Rfc9110_14_1_2_OpenEndedMediaFromMiddleCappedToPiece", {1000000, kFile - 1}, true, true,
         kMediaPiece, {1000000, 1000000 + kMiB - 1}, true},
        {"Rfc9110_14_1_2_OneByteOverPieceCapped", {7, 7 + kMiB}, true, true, kMediaPiece,
         {7, 7 + kMiB - 1}, true},
        // Scope media: a closed range is an exact request, whatever its size or client.
        {"Rfc9110_14_1_2_ClosedRangeFromMediaNeverCappedInMediaScope", whole, false, true,
         kMediaPiece, whole, false},
        {"Rfc9110_14_1_2_ClosedRangeNotMediaNeverCappedInMediaScope", whole, false, false,
         kMediaPiece, whole, false},
        // Scope media: an open-ended range from anything but <audio>/<video> (a download).
        {"Rfc9110_14_1_2_OpenEndedNotMediaNotCappedInMediaScope", whole, true, false,
         kMediaPiece, whole, false},
        // Scope all: every single-range answer is capped.
        {"Piece_AllScopeCapsOpenEndedMedia", whole, true, true, kAllPiece, first_piece, true},
        {"Piece_AllScopeCapsOpenEndedNotMedia", whole, true, false, kAllPiece, first_piece, true},
        {"Piece_AllScopeCapsClosedMedia", whole, false, true, kAllPiece, first_piece, true},
        {"Piece_AllScopeCapsClosedNotMedia", {kMiB, kFile - 1}, false, false, kAllPiece,
         {kMiB, 2 * kMiB - 1}, true},
    };
}

class PieceWindowTest : public ::testing::TestWithParam<WindowCase> {};

TEST_P(PieceWindowTest, WindowIsExact)
{
    const WindowCase& c = GetParam();
    const Window w = apply_piece_window(c.asked, c.open_ended, c.media_request, c.policy);
    EXPECT_EQ(w.range, c.expected);
    EXPECT_EQ(w.capped, c.capped);
    if (w.capped) {
        EXPECT_EQ(w.range.length(), c.policy.piece_size);
    }
}

INSTANTIATE_TEST_SUITE_P(PieceWindow, PieceWindowTest, ::testing::ValuesIn(window_cases()),
                         [](const auto& info) { return std::string(info.param.name); });

struct DestinationCase {
    const char* name;
    const char* sec_fetch_dest;
    bool media;
    friend void PrintTo(const DestinationCase& c, std::ostream* os) { *os << c.name; }
};

// Fetch "destination" values: only the media elements' count as media.
const DestinationCase kDestinations[] = {
    {"Fetch_AudioElementIsMedia", "audio", true},
    {"Fetch_VideoElementIsMedia", "video", true},
    {"Fetch_DocumentIsNotMedia", "document", false},
    {"Fetch_EmptyDestinationIsNotMedia", "empty", false},
    {"Fetch_MissingHeaderIsNotMedia", "", false},
    {"Fetch_AudioWorkletIsNotMedia", "audioworklet", false},
    {"Fetch_TrackIsNotMedia", "track", false},
};

class MediaDestinationTest : public ::testing::TestWithParam<DestinationCase> {};

TEST_P(MediaDestinationTest, ClassifiesExactly)
{
    EXPECT_EQ(is_media_destination(GetParam().sec_fetch_dest), GetParam().media);
}

INSTANTIATE_TEST_SUITE_P(PieceWindow, MediaDestinationTest, ::testing::ValuesIn(kDestinations),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace audio_stream
