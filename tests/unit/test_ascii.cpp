// ASCII case folding: letters only, no locale, both sides folded.
#include "src/ascii.h"

#include <gtest/gtest.h>

namespace audio_stream {
namespace {

TEST(AsciiLower, FoldsUpperCaseLettersOnly)
{
    EXPECT_EQ(ascii_lower('A'), 'a');
    EXPECT_EQ(ascii_lower('Z'), 'z');
    EXPECT_EQ(ascii_lower('a'), 'a');
    EXPECT_EQ(ascii_lower('@'), '@');  // just below 'A'
    EXPECT_EQ(ascii_lower('['), '[');  // just above 'Z'
    EXPECT_EQ(ascii_lower('0'), '0');
    EXPECT_EQ(ascii_lower('\xC4'), '\xC4');  // Latin-1 A-umlaut: not ASCII, left alone
}

TEST(AsciiIequals, SameLettersInAnyCase)
{
    EXPECT_TRUE(ascii_iequals("bytes", "bytes"));
    EXPECT_TRUE(ascii_iequals("BYTES", "bytes"));
    EXPECT_TRUE(ascii_iequals("Audio/MPEG", "audio/mpeg"));
    EXPECT_TRUE(ascii_iequals("audio/mpeg", "AUDIO/mpeg"));  // both sides fold
    EXPECT_TRUE(ascii_iequals("", ""));
}

TEST(AsciiIequals, DifferentLengthsOrBytesDiffer)
{
    EXPECT_FALSE(ascii_iequals("byte", "bytes"));
    EXPECT_FALSE(ascii_iequals("bytes", "byte"));
    EXPECT_FALSE(ascii_iequals("bytes", "bytez"));
    EXPECT_FALSE(ascii_iequals("@", "`"));  // one below 'A', one below 'a': not a case pair
    EXPECT_FALSE(ascii_iequals("\xC4", "\xE4"));  // Latin-1 case pairs are not folded
}

static_assert(ascii_iequals("MP3", "mp3"), "usable at compile time");

}  // namespace
}  // namespace audio_stream
