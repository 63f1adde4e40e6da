// The frames after a FLAC cut (renumber.cpp): renumbered from 0 whatever follows them, damaged
// frames and trailing bytes copied as they are, and the limit on how many a cut or clip renumbers.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "tests/unit/flac_tools.h"
#include "tests/unit/printers.h"

namespace audio_stream {
namespace {

using namespace flac_test;

// ---------------------------------------------------------------------------------------------
// Frames after the cut: each one renumbered, its CRC-16 following from the old one.

TEST(FlacFrames, TrailingBytesAfterTheLastFrameAreCopiedUnchanged)
{
    ASSERT_TRUE(have_tools());
    // An ID3v1 tag after the audio: the last frame's CRC-16 must be recomputed where the frame
    // ends, not at the end of the file.
    const std::string tag = "TAG" + std::string(125, 'x');
    const std::string file = source(kSources[0]).bytes + tag;
    MemorySource in(file);
    const Cut cut = cut_served(in, 7000000);
    expect_invariants(cut, file.size(), 7000000);
    ASSERT_EQ(cut.status, Cut::Status::Ok) << cut.detail;
    const std::string out = materialise(file, cut.rep);
    ASSERT_GT(out.size(), tag.size());
    EXPECT_EQ(out.substr(out.size() - tag.size()), tag);
    const Walk w = walk_frames(out.substr(0, out.size() - tag.size()));
    EXPECT_TRUE(w.complete);
    ASSERT_FALSE(w.frames.empty());
    EXPECT_EQ(w.frames.front().number, 0u);
    EXPECT_EQ(w.frames.back().number, w.frames.size() - 1);
}

TEST(FlacFrames, ADamagedFrameStaysDamagedAndTheFramesAfterItAreRenumbered)
{
    ASSERT_TRUE(have_tools());
    const std::string& file = source(kSources[2]).bytes;  // the flac CLI: 4096-sample frames
    const Walk original = walk_frames(file);
    ASSERT_GT(original.frames.size(), 150u);
    std::string damaged = file;
    const WalkedFrame& hit = original.frames[100];  // at 9.3 s
    damaged[hit.offset + hit.header_length + 50] ^= 0x55;
    MemorySource in(damaged);
    const Cut cut = cut_served(in, 7000000);
    expect_invariants(cut, damaged.size(), 7000000);
    ASSERT_EQ(cut.status, Cut::Status::Ok) << cut.detail;
    const std::string out = materialise(damaged, cut.rep);
    const std::size_t first = static_cast<std::size_t>(7000000ull * 44100 / 1000000 / 4096);
    // Headers in sequence, found without the CRC-16 (which the damaged frame fails).
    std::vector<std::size_t> starts;
    WalkedFrame h{};
    for (std::size_t x = audio_start_of(out); x < out.size(); ++x) {
        if (walked_header(out, x, h) && h.number == starts.size()) {
            starts.push_back(x);
        }
    }
    ASSERT_EQ(starts.size(), original.frames.size() - first);
    starts.push_back(out.size());
    for (std::size_t i = 0; i + 1 < starts.size(); ++i) {
        unsigned crc = 0;
        for (std::size_t x = starts[i]; x < starts[i + 1]; ++x) {
            crc = slow_crc16_byte(crc, static_cast<unsigned char>(out[x]));
        }
        EXPECT_EQ(crc == 0, i != 100 - first) << "frame " << i;
    }
}

// 265000 frames of 16 samples (8 kHz, 530 s of silence, ~4 MB), made once; empty if ffmpeg fails.
const std::string& many_frames()
{
    static const std::string file = [] {
        const std::string path = temp_dir() + "/many_frames.flac";
        const Output made = run("ffmpeg -v error -f lavfi -i anullsrc=r=8000:cl=mono -t 530 -c:a flac "
                                "-frame_size 16 '" + path + "'");
        return made.status == 0 ? slurp(path) : std::string();
    }();
    return file;
}

TEST(FlacLimits, CutRenumberingMoreThanTwoToThe18FramesIsRefusedWithADetail)
{
    ASSERT_TRUE(have_tools());
    const std::string& file = many_frames();
    ASSERT_FALSE(file.empty());
    MemorySource in(file);
    const Cut refused = cut_served(in, 1000000);
    expect_invariants(refused, file.size(), 1000000);
    EXPECT_EQ(refused.status, Cut::Status::OverBudget);
    EXPECT_EQ(refused.detail, "a FLAC cut of more than 262144 frames renumbered (the cap)");
    // 215000 frames remain after 100 s: under the cap.
    const Cut cut = cut_served(in, 100000000);
    expect_invariants(cut, file.size(), 100000000);
    ASSERT_EQ(cut.status, Cut::Status::Ok) << cut.detail;
    const std::string out = materialise(file, cut.rep);
    const Walk w = walk_frames(out);
    EXPECT_TRUE(w.complete);
    EXPECT_EQ(w.frames.size(), 215000u);
    EXPECT_EQ(w.frames.back().number, 214999u);
}

TEST(FlacLimits, AClipRenumbersOnlyItsOwnFrames)
{
    ASSERT_TRUE(have_tools());
    const std::string& file = many_frames();
    ASSERT_FALSE(file.empty());
    // From 1 s the cut is refused (264500 frames); a clip to 100 s renumbers 49500.
    MemorySource in(file);
    const Span span{1000000, 100000000};
    const Cut clip = cut_served(in, span);
    expect_invariants(clip, file.size(), span);
    ASSERT_EQ(clip.status, Cut::Status::Ok) << clip.detail;
    EXPECT_EQ(clip.end, 100000000);
    EXPECT_EQ(clip.duration, 99000000);
    EXPECT_LE(clip.rep.extents.size(), 2u * 49500 + 6);
    const Walk w = walk_frames(materialise(file, clip.rep));
    EXPECT_TRUE(w.complete);
    EXPECT_EQ(w.frames.size(), 49500u);
    EXPECT_EQ(w.frames.back().number, 49499u);
}

}  // namespace
}  // namespace audio_stream
