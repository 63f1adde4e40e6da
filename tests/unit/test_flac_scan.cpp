// Finding FLAC frames (flac_scan.cpp): a sync code is a frame only when its CRCs hold, and hostile
// input (truncated, damaged, metadata of many SEEKTABLEs) is searched within a budget, in bounded
// memory, and never breaks the invariants.
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

TEST(FlacFrames, FalseSyncCodesInFrameBodiesDoNotSplitFrames)
{
    ASSERT_TRUE(have_tools());
    // Noise compresses badly: its frame bodies hold many 0xFF bytes, some followed by 0xF8.
    const std::string path = temp_dir() + "/noise.flac";
    const Output made = run("ffmpeg -v error -f lavfi -i anoisesrc=d=20:c=white:a=0.9:r=44100 -ac 2 -c:a flac '" + path + "'");
    ASSERT_EQ(made.status, 0) << made.output;
    const std::string file = slurp(path);
    std::size_t false_syncs = 0;
    for (std::size_t i = audio_start_of(file); i + 1 < file.size(); ++i) {
        false_syncs += static_cast<unsigned char>(file[i]) == 0xFF && (static_cast<unsigned char>(file[i + 1]) & 0xFE) == 0xF8;
    }
    MemorySource in(file);
    const Cut cut = cut_served(in, 3000000);
    ASSERT_EQ(cut.status, Cut::Status::Ok) << cut.detail;
    const std::string out = materialise(file, cut.rep);
    const Walk original = walk_frames(file);
    const Walk w = walk_frames(out);
    ASSERT_TRUE(w.complete);
    EXPECT_GT(false_syncs, original.frames.size()) << "the noise should hold sync codes besides the headers";
    // Every frame from the cut's on, none split: as many as the original has from there.
    const std::uint64_t skipped = (static_cast<std::uint64_t>(cut.start) * 44100 + 999999) / 1000000;
    ASSERT_EQ(skipped % original.frames[0].block, 0u);
    EXPECT_EQ(w.frames.size(), original.frames.size() - skipped / original.frames[0].block);
    for (std::size_t i = 0; i < w.frames.size(); ++i) {
        ASSERT_EQ(w.frames[i].number, i);
    }
    spit(temp_dir() + "/noise_cut.flac", out);
    const Output r = run("flac -t -s '" + temp_dir() + "/noise_cut.flac'");
    EXPECT_EQ(r.status, 0) << r.output;
}

TEST(FlacHostile, TruncatedFilesCutWithinWhatIsThere)
{
    ASSERT_TRUE(have_tools());
    const std::string& file = source(kSources[0]).bytes;
    for (std::size_t len = 0; len < file.size(); len += 997) {
        const std::string part = file.substr(0, len);
        for (const Micros t : {Micros{0}, Micros{3000000}, Micros{15000000}}) {
            MemorySource in(part);
            const Cut cut = cut_served(in, t);
            expect_invariants(cut, part.size(), t);
        }
    }
}

TEST(FlacHostile, RandomlyDamagedFilesNeverBreakTheInvariants)
{
    ASSERT_TRUE(have_tools());
    std::mt19937 random(11);
    const std::string& file = source(kSources[3]).bytes;
    for (int round = 0; round < 300; ++round) {
        std::string damaged = file;
        const int flips = 1 + static_cast<int>(random() % 16);
        for (int i = 0; i < flips; ++i) {
            // Half the damage in the metadata, where the lengths and the seek table are.
            const std::size_t at = (random() % 2) ? random() % 256 : random() % damaged.size();
            damaged[at] = static_cast<char>(random());
        }
        const Micros t = static_cast<Micros>(random() % 21000000);
        MemorySource in(damaged);
        const Cut cut = cut_served(in, t);
        expect_invariants(cut, damaged.size(), t);
    }
}

// A metadata block: its header (RFC 9639 §8.1) and body.
std::string block(unsigned type, bool last, const std::string& body)
{
    const std::size_t n = body.size();
    return std::string{static_cast<char>(type | (last ? 0x80 : 0)), static_cast<char>(n >> 16),
                       static_cast<char>(n >> 8), static_cast<char>(n)} + body;
}

// RFC 9639 §8.5 allows one SEEKTABLE (behaviour with more is undefined), the metadata up to 1024
// blocks: a cut keeps and reads the first alone, so that its memory is one table's, not the
// number of blocks (1023 full tables: 89 MB of points), and rebuilt tables do not merge
// into one memory block past the largest one (a table of 64 KiB after STREAMINFO).
TEST(FlacHostile, OnlyTheFirstOfManySeekTablesIsKept)
{
    ASSERT_TRUE(have_tools());
    const std::string& file = source(kSources[2]).bytes;  // the flac CLI: a point every 10 s
    const std::vector<Block> blocks = metadata(file);
    ASSERT_GE(blocks.size(), 2u);
    ASSERT_EQ(blocks[1].type, 3u);
    ASSERT_GE(blocks[1].body.size(), 36u);
    const std::string ten = blocks[1].body.substr(18, 18);  // the point at 10 s, kept by a cut at 3 s
    std::string points;
    for (int p = 0; p < 3640; ++p) {  // 65520 bytes: the largest table a cut reads
        points += ten;
    }
    std::string made = "fLaC" + block(0, false, blocks[0].body);
    for (int table = 0; table < 20; ++table) {
        made += block(3, false, points);
    }
    for (std::size_t b = 2; b < blocks.size(); ++b) {
        made += block(blocks[b].type, blocks[b].last, blocks[b].body);
    }
    made += file.substr(audio_start_of(file));
    MemorySource in(made);
    const Cut cut = cut_served(in, 3000000);
    ASSERT_EQ(cut.status, Cut::Status::Ok) << cut.detail;
    for (const auto& e : cut.rep.extents) {
        if (const auto* m = std::get_if<MemoryBlock>(&e)) {
            EXPECT_LE(m->bytes.size(), 4u + 4 + 34 + 4 + 64 * 1024) << "fLaC, STREAMINFO, one table";
        }
    }
    const std::string out = materialise(made, cut.rep);
    std::vector<std::string> tables;
    for (const Block& b : metadata(out)) {
        if (b.type == 3) {
            tables.push_back(b.body);
        }
    }
    ASSERT_EQ(tables.size(), 1u);
    EXPECT_EQ(tables[0].size(), 3640u * 18) << "the first table's points, rebased";
    EXPECT_TRUE(walk_frames(out).complete);
}

}  // namespace
}  // namespace audio_stream
