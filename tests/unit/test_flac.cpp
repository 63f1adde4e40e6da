// cut_flac: a cut is a complete FLAC file (RFC 9639) that starts at the frame holding t. Files
// are made at test time with ffmpeg and the reference encoder (flac), cut in memory, written
// out, and judged by flac -t, ffmpeg, ffprobe and by comparing decoded samples. This file: every
// source at every time, the metadata of a cut, malformed input. The frame search is tested in
// test_flac_scan.cpp, the renumbering of the frames after the cut in test_flac_renumber.cpp.
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
// Valid cuts: every source at every time.

using test_tools::TimeCase;

const TimeCase kTimes[] = {
    {"AtZero", 0, Cut::Status::Ok},
    {"At1_5s", 1500000, Cut::Status::Ok},
    {"At7s", 7000000, Cut::Status::Ok},
    {"At19_9s", 19900000, Cut::Status::Ok},
    {"AtEnd", 20000000, Cut::Status::PastEnd},
    {"At1000s", 1000000000, Cut::Status::PastEnd},
};

class FlacCut : public test_tools::FormatCut<FlacFormat> {
protected:
    // The first sample of the cut, recovered from the microseconds it is reported in.
    std::uint64_t start_sample() const
    {
        return (static_cast<std::uint64_t>(cut_.start) * src_.rate + 999999) / 1000000;
    }
};

TEST_P(FlacCut, StartsAtTheFrameHoldingT)
{
    if (cut_.status != Cut::Status::Ok) {
        return;
    }
    // A frame is at most 4608 samples for these encoders: the cut starts less than one before t.
    EXPECT_LE(cut_.start, time_.t);
    EXPECT_LT(time_.t - cut_.start, Micros{4608} * 1000000 / static_cast<Micros>(src_.rate));
}

TEST_P(FlacCut, Rfc9639_ReferenceDecoderTestPasses)
{
    if (cut_.status != Cut::Status::Ok) {
        return;
    }
    const Output r = run("flac -t -s '" + path_ + "'");
    EXPECT_EQ(r.status, 0) << r.output;
    EXPECT_EQ(r.output.find("ERROR"), std::string::npos) << r.output;
}

TEST_P(FlacCut, FfmpegDecodesWithoutErrors)
{
    if (cut_.status != Cut::Status::Ok) {
        return;
    }
    const Output r = run("ffmpeg -v error -i '" + path_ + "' -f null -");
    EXPECT_EQ(r.status, 0);
    EXPECT_EQ(r.output, "");
}

TEST_P(FlacCut, DurationIsOriginalLessStart)
{
    if (cut_.status != Cut::Status::Ok) {
        return;
    }
    const double expected = source(src_).probed - static_cast<double>(cut_.start) / 1e6;
    EXPECT_NEAR(probe_duration(path_), expected, 1.0 / src_.rate + 1e-6);
    EXPECT_NEAR(static_cast<double>(cut_.duration) / 1e6, expected, 2e-6);
}

TEST_P(FlacCut, DecodedAudioEqualsOriginalFromStart)
{
    if (cut_.status != Cut::Status::Ok) {
        return;
    }
    const auto& original = source(src_).pcm;
    const auto cut = decode(path_);
    const std::size_t from = start_sample() * src_.channels;
    ASSERT_LE(from, original.size());
    ASSERT_EQ(cut.size(), original.size() - from);
    EXPECT_TRUE(std::equal(cut.begin(), cut.end(), original.begin() + static_cast<std::ptrdiff_t>(from)));
}

TEST_P(FlacCut, CutOfTheCutStartsWhereOneCutWould)
{
    if (cut_.status != Cut::Status::Ok) {
        return;
    }
    // The cut's frames are numbered from 0; cutting it again at 1 s lands on the same frame as
    // cutting the original at start + 1 s.
    const std::string bytes = slurp(path_);
    MemorySource again(bytes);
    const Cut twice = cut_served(again, 1000000);
    expect_invariants(twice, bytes.size(), 1000000);
    MemorySource original(source(src_).bytes);
    const Cut once = cut_served(original, cut_.start + 1000000);
    ASSERT_EQ(twice.status, once.status);
    if (once.status == Cut::Status::Ok) {
        EXPECT_NEAR(static_cast<double>(twice.start + cut_.start), static_cast<double>(once.start), 1.0);
        EXPECT_NEAR(static_cast<double>(twice.duration), static_cast<double>(once.duration), 1.0);
    }
}

INSTANTIATE_TEST_SUITE_P(Sources, FlacCut, ::testing::ValuesIn(test_tools::all_cuts(kSources, kTimes)),
                         test_tools::CutCaseName());

// ---------------------------------------------------------------------------------------------
// Frames of a cut: numbered from 0, so that players time the cut from 0:00.

TEST_P(FlacCut, Rfc9639_9_1_5_FramesNumberedFromZeroConsecutively)
{
    if (cut_.status != Cut::Status::Ok) {
        return;
    }
    const std::string bytes = slurp(path_);
    const Walk w = walk_frames(bytes);
    ASSERT_TRUE(w.complete);
    ASSERT_FALSE(w.frames.empty());
    const bool variable = walk_frames(source(src_).bytes).frames.front().variable;
    std::uint64_t sample = 0;
    for (std::size_t i = 0; i < w.frames.size(); ++i) {
        ASSERT_EQ(w.frames[i].variable, variable) << "frame " << i;
        ASSERT_EQ(w.frames[i].number, variable ? sample : i) << "frame " << i;
        sample += w.frames[i].block;
    }
    EXPECT_EQ(sample, total_samples(metadata(bytes)[0].body));
    // Two extents per frame (its header with the CRC-16 before it, its body), a few for the rest.
    EXPECT_LE(cut_.rep.extents.size(), 2 * w.frames.size() + 6);
}

TEST_P(FlacCut, Rfc9639_8_2_EveryFrameWithinStreamInfoFrameSizes)
{
    if (cut_.status != Cut::Status::Ok) {
        return;
    }
    // Renumbering shortens headers (a number under 128 codes in one byte): a short last frame
    // would fall under the original's minimum frame size.
    expect_frames_within_stream_info_sizes(bytes_);
}

TEST_P(FlacCut, FfprobeTimesTheCutFromZero)
{
    if (cut_.status != Cut::Status::Ok) {
        return;
    }
    for (const char* entry : {"stream=start_time", "format=start_time"}) {
        const Output r = run(std::string("ffprobe -v error -show_entries ") + entry +
                             " -of default=nw=1:nk=1 '" + path_ + "'");
        EXPECT_EQ(r.output, "0.000000\n") << entry;
    }
    const Output first = run("ffprobe -v error -select_streams a -show_entries packet=pts -read_intervals '%+#1' "
                             "-of default=nw=1:nk=1 '" + path_ + "'");
    EXPECT_EQ(first.output, "0\n");
}

TEST(FlacMetadata, Rfc9639_8_2_StreamInfoTellsRemainingSamplesAndZeroMd5)
{
    ASSERT_TRUE(have_tools());
    const std::string& file = source(kSources[2]).bytes;
    MemorySource in(file);
    const Cut cut = cut_served(in, 7000000);
    ASSERT_EQ(cut.status, Cut::Status::Ok);
    const auto blocks = metadata(materialise(file, cut.rep));
    ASSERT_FALSE(blocks.empty());
    ASSERT_EQ(blocks[0].type, 0u);
    const std::uint64_t skipped = (static_cast<std::uint64_t>(cut.start) * 44100 + 999999) / 1000000;
    EXPECT_EQ(total_samples(blocks[0].body), 20u * 44100 - skipped);
    EXPECT_EQ(blocks[0].body.substr(18), std::string(16, '\0'));
}

TEST(FlacMetadata, Rfc9639_8_2_CutAtZeroKeepsMd5)
{
    ASSERT_TRUE(have_tools());
    const std::string& file = source(kSources[2]).bytes;
    MemorySource in(file);
    const Cut cut = cut_served(in, 0);
    ASSERT_EQ(cut.status, Cut::Status::Ok);
    EXPECT_EQ(metadata(materialise(file, cut.rep))[0].body, metadata(file)[0].body);
    // flac -t checks the MD5 when it is set.
    const std::string path = temp_dir() + "/md5.flac";
    spit(path, materialise(file, cut.rep));
    const Output r = run("flac -t '" + path + "'");
    EXPECT_EQ(r.status, 0) << r.output;
    EXPECT_EQ(r.output.find("cannot check MD5"), std::string::npos) << r.output;
}

TEST(FlacMetadata, Rfc9639_8_1_PaddingDroppedTagsKeptLastFlagOnLastBlock)
{
    ASSERT_TRUE(have_tools());
    const std::string& file = source(kSources[2]).bytes;
    MemorySource in(file);
    const Cut cut = cut_served(in, 15000000);
    ASSERT_EQ(cut.status, Cut::Status::Ok);
    const auto blocks = metadata(materialise(file, cut.rep));
    std::vector<unsigned> types;
    for (std::size_t i = 0; i < blocks.size(); ++i) {
        types.push_back(blocks[i].type);
        EXPECT_EQ(blocks[i].last, i + 1 == blocks.size());
    }
    // STREAMINFO, VORBIS_COMMENT (no seek point after 15 s: the SEEKTABLE goes, as does PADDING).
    EXPECT_EQ(types, (std::vector<unsigned>{0, 4}));
    for (const auto& b : metadata(file)) {
        if (b.type == 4) {
            EXPECT_EQ(blocks[1].body, b.body);
        }
    }
}

TEST(FlacMetadata, Rfc9639_8_5_SeekTableKeepsLaterPointsWithOffsetsFromTheCut)
{
    ASSERT_TRUE(have_tools());
    const std::string& file = source(kSources[2]).bytes;
    MemorySource in(file);
    const Cut cut = cut_served(in, 3000000);
    ASSERT_EQ(cut.status, Cut::Status::Ok);
    const std::string out = materialise(file, cut.rep);
    std::string table;
    for (const auto& b : metadata(out)) {
        if (b.type == 3) {
            table = b.body;
        }
    }
    // The reference encoder puts a point every 10 s: the one at 10 s remains.
    ASSERT_EQ(table.size(), 18u);
    const auto* p = reinterpret_cast<const unsigned char*>(table.data());
    std::uint64_t sample = 0;
    std::uint64_t offset = 0;
    for (int i = 0; i < 8; ++i) {
        sample = sample << 8 | p[i];
        offset = offset << 8 | p[8 + i];
    }
    // Samples are counted from the cut's start, as its frames are numbered.
    const std::uint64_t skipped = (static_cast<std::uint64_t>(cut.start) * 44100 + 999999) / 1000000;
    EXPECT_GE(sample + skipped, 441000u - 4608);
    EXPECT_LE(sample + skipped, 441000u);
    // The point's offset, counted from the cut's first frame, lands on a frame header.
    std::size_t audio = 4;
    for (const auto& b : metadata(out)) {
        audio += 4 + b.body.size();
    }
    ASSERT_LT(audio + offset + 1, out.size());
    EXPECT_EQ(static_cast<unsigned char>(out[audio + offset]), 0xFF);
    EXPECT_EQ(static_cast<unsigned char>(out[audio + offset + 1]) & 0xFE, 0xF8);
    // ... the header of the frame that starts at that sample.
    WalkedFrame f{};
    ASSERT_TRUE(walked_header(out, audio + offset, f));
    EXPECT_EQ(f.number * 4096, sample);
}

TEST(FlacMetadata, SameInputSameCut)
{
    ASSERT_TRUE(have_tools());
    const std::string& file = source(kSources[0]).bytes;
    MemorySource a(file);
    MemorySource b(file);
    const Cut x = cut_served(a, 5000000);
    const Cut y = cut_served(b, 5000000);
    EXPECT_EQ(x.rep.extents, y.rep.extents);
    EXPECT_EQ(x.rep.etag_suffix, y.rep.etag_suffix);
}

TEST(FlacMetadata, Id3v2BeforeTheStreamIsSteppedOver)
{
    ASSERT_TRUE(have_tools());
    const std::string& file = source(kSources[0]).bytes;
    // ID3v2.4 header, 16 bytes of tag (syncsafe size), then the FLAC stream.
    const std::string tagged = std::string("ID3\x04\x00\x00\x00\x00\x00\x10", 10) + std::string(16, 'x') + file;
    MemorySource in(tagged);
    const Cut cut = cut_served(in, 7000000);
    expect_invariants(cut, tagged.size(), 7000000);
    ASSERT_EQ(cut.status, Cut::Status::Ok) << cut.detail;
    MemorySource plain(file);
    EXPECT_EQ(cut.start, cut_served(plain, 7000000).start);
    EXPECT_EQ(materialise(tagged, cut.rep).substr(0, 4), "fLaC");
}

// ---------------------------------------------------------------------------------------------
// Malformed and hostile input: a status and a detail, never a crash or a hang.

std::string stream_info_file(std::uint32_t rate)
{
    std::string s = "fLaC";
    s += std::string("\x80\x00\x00\x22", 4);
    std::string info(34, '\0');
    info[0] = 0x10;  // min block 4096
    info[2] = 0x10;  // max block 4096
    info[10] = static_cast<char>(rate >> 12);
    info[11] = static_cast<char>(rate >> 4);
    info[12] = static_cast<char>(((rate & 0x0F) << 4) | 0x02);  // 2 channels
    info[13] = static_cast<char>(0xF0);                          // 16 bits
    info[17] = 100;
    return s + info;
}

struct BadCase {
    const char* name;
    std::string bytes;
    Cut::Status status;
};

std::vector<BadCase> bad_cases()
{
    std::mt19937 random(7);
    std::string noise(100000, '\0');
    for (char& c : noise) {
        c = static_cast<char>(random());
    }
    std::string sync_flood = stream_info_file(44100);
    for (int i = 0; i < 200000; ++i) {
        sync_flood += "\xFF\xF8";
    }
    std::string wrong_first = stream_info_file(44100);
    wrong_first[4] = 0x84;  // VORBIS_COMMENT where STREAMINFO must be
    std::string invalid_type = stream_info_file(44100);
    invalid_type[4] = 0x00;  // not last
    invalid_type += std::string("\xFF\x00\x00\x00", 4);
    std::string long_block = stream_info_file(44100);
    long_block[5] = 0x7F;
    std::string many_blocks = stream_info_file(44100);
    many_blocks[4] = 0x00;
    for (int i = 0; i < 5000; ++i) {
        many_blocks += std::string("\x01\x00\x00\x00", 4);
    }
    return {
        {"Empty", "", Cut::Status::Malformed},
        {"SignatureOnly", "fLaC", Cut::Status::Malformed},
        {"NotFlac", "RIFF" + std::string(100, '\0'), Cut::Status::Malformed},
        {"RandomBytes", noise, Cut::Status::Malformed},
        {"SignatureThenRandomBytes", "fLaC" + noise, Cut::Status::Malformed},
        {"Rfc9639_8_StreamInfoMustComeFirst", wrong_first, Cut::Status::Malformed},
        {"Rfc9639_8_1_BlockType127IsInvalid", invalid_type, Cut::Status::Malformed},
        {"BlockLengthPastTheEnd", long_block, Cut::Status::Malformed},
        {"TooManyMetadataBlocks", many_blocks, Cut::Status::Malformed},
        {"SampleRateZero", stream_info_file(0), Cut::Status::Malformed},
        {"MetadataWithoutFrames", stream_info_file(44100), Cut::Status::Malformed},
        {"MetadataThenRandomBytes", stream_info_file(44100) + noise, Cut::Status::Malformed},
        {"SyncCodeFlood", sync_flood, Cut::Status::Malformed},
    };
}

class FlacMalformed : public ::testing::TestWithParam<BadCase> {};

TEST_P(FlacMalformed, IsRejectedWithADetail)
{
    for (const Micros t : {Micros{0}, Micros{1500000}, Micros{-5}}) {
        MemorySource in(GetParam().bytes);
        const Cut cut = cut_served(in, t);
        expect_invariants(cut, GetParam().bytes.size(), t);
        EXPECT_EQ(cut.status, GetParam().status);
        EXPECT_FALSE(cut.detail.empty());
    }
}

INSTANTIATE_TEST_SUITE_P(Inputs, FlacMalformed, ::testing::ValuesIn(bad_cases()),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace audio_stream
