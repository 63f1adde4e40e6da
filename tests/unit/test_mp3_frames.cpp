// The MP3 cutter's frame-level pieces, each through the smallest entry that shows it (moved
// from test_mp3.cpp): the Layer III header parse (frame.h) and the silent lead frame carrying a
// bit reservoir (new_frames.h). Which ID3v2 tags a cut keeps: test_mp3_id3.cpp.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "src/formats/mp3/frame.h"
#include "src/formats/mp3/new_frames.h"
#include "tests/unit/mp3_tools.h"
#include "tests/unit/printers.h"

namespace audio_stream {
namespace {

using namespace test_tools;
using namespace mp3_test;

// ---- parse_mp3_header -----------------------------------------------------------------------

struct HeaderCase {
    const char* name;
    std::uint32_t raw;
    bool valid;
    unsigned size;         // bytes, when valid
    unsigned sample_rate;
    unsigned samples;
    unsigned side_info;
};

const HeaderCase kHeaders[] = {
    // ISO 11172-3: MPEG-1 Layer III size = 144 * bitrate / rate + padding; side info 32/17.
    {"Mpeg1_128k44100Stereo", 0xFFFB9044, true, 417, 44100, 1152, 32},
    {"Mpeg1_PaddingAddsAByte", 0xFFFB9244, true, 418, 44100, 1152, 32},
    {"Mpeg1_320k32000Mono", 0xFFFBE8C4, true, 1440, 32000, 1152, 17},
    {"Mpeg1_CrcProtectedStillParses", 0xFFFA9044, true, 417, 44100, 1152, 32},
    // ISO 13818-3: MPEG-2 halves the frame (72 * bitrate / rate), 576 samples, side info 17/9.
    {"Mpeg2_64k22050Stereo", 0xFFF38044, true, 208, 22050, 576, 17},
    {"Mpeg2_32k22050Mono", 0xFFF340C4, true, 104, 22050, 576, 9},
    // MPEG-2.5 (not ISO, universally decoded): rates 11025/12000/8000.
    {"Mpeg25_16k8000Mono", 0xFFE328C4, true, 144, 8000, 576, 9},
    {"NoSyncIsRefused", 0xFF7B9044, false, 0, 0, 0, 0},
    {"ReservedVersionIsRefused", 0xFFEB9044, false, 0, 0, 0, 0},
    {"LayerTwoIsRefused", 0xFFFD9044, false, 0, 0, 0, 0},
    {"LayerOneIsRefused", 0xFFFF9044, false, 0, 0, 0, 0},
    {"ReservedLayerIsRefused", 0xFFF99044, false, 0, 0, 0, 0},
    {"FreeFormatIsRefused", 0xFFFB0044, false, 0, 0, 0, 0},
    {"BadBitrateIsRefused", 0xFFFBF044, false, 0, 0, 0, 0},
    {"ReservedRateIsRefused", 0xFFFB9C44, false, 0, 0, 0, 0},
};

class Mp3HeaderParse : public ::testing::TestWithParam<HeaderCase> {};

TEST_P(Mp3HeaderParse, ParsesAsTheStandardSays)
{
    const HeaderCase& c = GetParam();
    const auto h = parse_mp3_header(c.raw);
    ASSERT_EQ(h.has_value(), c.valid);
    if (h) {
        EXPECT_EQ(h->size, c.size);
        EXPECT_EQ(h->sample_rate, c.sample_rate);
        EXPECT_EQ(h->samples, c.samples);
        EXPECT_EQ(h->side_info, c.side_info);
    }
}

INSTANTIATE_TEST_SUITE_P(Headers, Mp3HeaderParse, ::testing::ValuesIn(kHeaders),
                         [](const auto& info) { return std::string(info.param.name); });

// ---- the lead frame -----------------------------------------------------------------------

// The reservoir frame that leads a cut's audio: a frame of the stream (version, rate, mode),
// without CRC, with silent side information (main_data_begin 0, no granule data), whose main
// data ends with the bytes the next frame borrows: at the audio's bitrate when it holds them,
// else the smallest that does.
TEST(Mp3ReservoirFrame, IsSilentAndEndsWithTheBorrowedBytes)
{
    const std::uint32_t audio = 0xFFFB9064;  // MPEG-1 Layer III, 128 kbit/s, 44.1 kHz, joint stereo
    for (const std::size_t n : {std::size_t{1}, std::size_t{300}, std::size_t{381}, std::size_t{400}, std::size_t{511}}) {
        std::string tail(n, '\0');
        for (std::size_t i = 0; i < n; ++i) {
            tail[i] = static_cast<char>(1 + i % 250);
        }
        const auto frame = mp3::reservoir_frame(audio, tail);
        ASSERT_TRUE(frame) << n;
        const auto h = parse_mp3_header(be32(*frame, 0));
        ASSERT_TRUE(h) << n;
        EXPECT_EQ(frame->size(), h->size);
        EXPECT_FALSE(h->crc);
        EXPECT_EQ(h->sample_rate, 44100u);
        EXPECT_FALSE(h->mono);
        // 417-byte frames (128 kbit/s) hold 381 bytes, 522-byte ones (160) 486.
        EXPECT_EQ(h->bitrate, n <= 381 ? 128u : n <= 486 ? 160u : 192u) << n;
        EXPECT_EQ(frame->substr(4, 32), std::string(32, '\0')) << "silent side information";
        EXPECT_EQ(frame->substr(frame->size() - n), tail);
    }
    EXPECT_FALSE(mp3::reservoir_frame(audio, std::string(2000, 'x'))) << "no frame holds 2000 bytes";
}

}  // namespace
}  // namespace audio_stream
