// cut_wav: a RIFF/WAVE cut or clip is a fresh RIFF/fmt/data header and the sample frames kept.
// Files are made at test time by ffmpeg (never committed) or by hand, cut through a
// MemorySource, written out and checked with ffprobe/ffmpeg: exact to the sample.
#include "src/formats/formats.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <unistd.h>

#include "src/formats/wav/read.h"
#include "src/time_param.h"
#include "tests/unit/cut_tools.h"
#include "tests/unit/format_fixture.h"
#include "tests/unit/printers.h"
#include "tests/unit/wav_tools.h"

namespace audio_stream {
namespace {

namespace fs = std::filesystem;

// ---- helpers (the shared ones are in cut_tools.h and wav_tools.h) -------------------------

using namespace test_tools;
using namespace wav_test;

// cut_wav as served (the dispatch names the cut), of bytes in memory.
Cut cut_bytes(const std::string& bytes, Micros t)
{
    return served_cut("audio/wav", bytes, t);
}

// ---- files made by ffmpeg --------------------------------------------------------------------

using test_tools::TimeCase;
using CutCase = test_tools::CutCase<Source>;

const TimeCase kTimes[] = {
    {"AtZero", 0},
    {"At1500ms", 1500000},  // between two samples at 11025 Hz: the frame holding t
    {"At7s", 7000000},
    {"InLastTenthOfASecond", 19900000},
};

class WavCut : public test_tools::FormatCut<WavFormat> {};

// The cut is: RIFF header with the new sizes, the fmt chunk unchanged, a data chunk holding
// exactly the original frames from floor(t * rate) on; ffmpeg decodes it without a word and
// hears the original from that sample, to the end.
TEST_P(WavCut, StartsAtTheFrameHoldingTAndDecodesToTheOriginal)
{
    ASSERT_EQ(errors(), "");
    const Source& source = src_;
    const Micros t = time_.t;
    const Fixture& f = file();
    const std::string& original = f.bytes;
    const std::uint64_t block = f.channels * (f.bits / 8);

    const Cut& cut = cut_;  // made, checked and written out by SetUp

    const std::uint64_t first = static_cast<std::uint64_t>(t) * f.rate / 1000000;
    EXPECT_EQ(cut.start, static_cast<Micros>(first * 1000000 / f.rate));
    EXPECT_LE(cut.start, t);

    const std::string& bytes = bytes_;
    ASSERT_GE(bytes.size(), 44u);
    EXPECT_EQ(bytes.substr(0, 4), "RIFF");
    EXPECT_EQ(le32(bytes, 4), bytes.size() - 8);
    EXPECT_EQ(bytes.substr(8, 8), "WAVEfmt ");
    const std::uint32_t fmt_size = le32(bytes, 16);
    EXPECT_EQ(le32(original, 16), fmt_size);
    EXPECT_EQ(bytes.substr(20, fmt_size), original.substr(20, fmt_size)) << "fmt copied as is";
    EXPECT_EQ(static_cast<unsigned char>(bytes[20]) | static_cast<unsigned char>(bytes[21]) << 8,
              source.format_tag);
    const std::size_t data_at = 20 + fmt_size + (fmt_size & 1);
    EXPECT_EQ(bytes.substr(data_at, 4), "data");
    const std::uint32_t data_size = le32(bytes, data_at + 4);
    EXPECT_EQ(data_size % block, 0u);
    EXPECT_EQ(bytes.size(), data_at + 8 + data_size + (data_size & 1));
    // The data is the original's from frame `first` on; ffmpeg writes the data chunk last.
    ASSERT_LE(data_size, original.size());
    EXPECT_EQ(bytes.substr(data_at + 8, data_size), original.substr(original.size() - data_size));
    EXPECT_EQ(cut.duration, static_cast<Micros>(data_size / block * 1000000 / f.rate));

    const fs::path cut_path = path_;
    std::string messages;
    const std::vector<std::int16_t> b = decode_s16(cut_path, messages);
    EXPECT_EQ(messages, "") << "ffmpeg must decode the cut without a message";
    EXPECT_NEAR(probe_duration(cut_path), f.duration - static_cast<double>(first) / f.rate,
                1.0 / f.rate + 1e-6);
    const std::vector<std::int16_t>& a = f.samples;
    ASSERT_EQ(b.size(), a.size() - first * f.channels);
    EXPECT_TRUE(std::equal(b.begin(), b.end(), a.begin() + static_cast<std::ptrdiff_t>(first * f.channels)))
        << "decoded cut differs from the original at the cut's start";
    fs::remove(cut_path);
}

INSTANTIATE_TEST_SUITE_P(Generated, WavCut, ::testing::ValuesIn(test_tools::all_cuts(kSources, kTimes)),
                         test_tools::CutCaseName());

// Clips: the frames from the one holding START to the last that starts before END, exact to
// the frame at both ends; an END past the end is the cut from START itself.
const TimeCase kClips[] = {
    {"Clip1500To1501ms", 1500000, Cut::Status::Ok, 1501000},
    {"ClipFromZeroTo5s", 0, Cut::Status::Ok, 5000000},  // ?t=,5
    {"Clip7sTo12500ms", 7000000, Cut::Status::Ok, 12500000},
    {"ClipOneMicrosecond", 3000000, Cut::Status::Ok, 3000001},
    {"ClipEndInTheLastTenth", 7000000, Cut::Status::Ok, 19950000},
    {"ClipEndAtTheEndOfTheAudio", 7000000, Cut::Status::Ok, 20000000},  // == the cut from START
    {"ClipEndPastTheEnd", 7000000, Cut::Status::Ok, 25000000},
};

class WavClip : public test_tools::FormatCut<WavFormat> {};

TEST_P(WavClip, HoldsTheFramesFromStartToEndAndDecodesToTheOriginal)
{
    ASSERT_EQ(errors(), "");
    const Fixture& f = file();
    const Cut& cut = cut_;
    const std::uint64_t first = static_cast<std::uint64_t>(time_.t) * f.rate / 1000000;
    const std::uint64_t frames = f.samples.size() / f.channels;
    const std::uint64_t ceiling = (static_cast<std::uint64_t>(time_.end) * f.rate + 999999) / 1000000;
    const bool to_the_end = ceiling >= frames;
    const std::uint64_t last = to_the_end ? frames : ceiling;

    EXPECT_EQ(cut.start, static_cast<Micros>(first * 1000000 / f.rate));
    EXPECT_EQ(cut.end, to_the_end ? Span::kToTheEnd : static_cast<Micros>(last * 1000000 / f.rate));
    EXPECT_EQ(cut.duration, static_cast<Micros>((last - first) * 1000000 / f.rate));
    if (to_the_end) {
        MemorySource again(f.bytes);
        const Cut open = served_cut(WavFormat::kNames.type, again, time_.t);
        EXPECT_EQ(cut.rep.extents, open.rep.extents) << "an END past the end is the cut from START";
        EXPECT_EQ(cut.rep.etag_suffix, open.rep.etag_suffix);
    }
    std::string messages;
    const std::vector<std::int16_t> b = decode_s16(path_, messages);
    EXPECT_EQ(messages, "") << "ffmpeg must decode the clip without a message";
    EXPECT_NEAR(probe_duration(path_), static_cast<double>(last - first) / f.rate, 1.0 / f.rate + 1e-6);
    const std::vector<std::int16_t>& a = f.samples;
    ASSERT_EQ(b.size(), (last - first) * f.channels);
    EXPECT_TRUE(std::equal(b.begin(), b.end(), a.begin() + static_cast<std::ptrdiff_t>(first * f.channels)))
        << "the clip is the original's frames [first, last)";
    fs::remove(path_);
}

INSTANTIATE_TEST_SUITE_P(Generated, WavClip, ::testing::ValuesIn(test_tools::all_cuts(kSources, kClips)),
                         test_tools::CutCaseName());

// t at or after the last frame's time: nothing to play.
TEST_F(WavFiles, TimeAtOrPastTheEndIsPastEnd)
{
    ASSERT_EQ(errors(), "");
    for (const auto& s : kSources) {
        const std::string& original = fixture(s.name).bytes;
        for (const Micros t : {Micros{20000000}, Micros{20000001}, Micros{1000000000}, kMaxTime}) {
            EXPECT_EQ(cut_bytes(original, t).status, Cut::Status::PastEnd) << s.name << " t=" << t;
        }
    }
}

// Same bytes in, same cut out: the ETag suffix of a cut is stable.
TEST_F(WavFiles, IdenticalInputsGiveIdenticalCuts)
{
    ASSERT_EQ(errors(), "");
    const std::string& original = fixture("Pcm16Stereo44k").bytes;
    const Cut a = cut_bytes(original, 3000000);
    const Cut b = cut_bytes(original, 3000000);
    EXPECT_EQ(a.rep.extents, b.rep.extents);
    EXPECT_EQ(a.rep.etag_suffix, b.rep.etag_suffix);
    EXPECT_EQ(a.rep.etag_suffix, "-c3-t3000000");
}

// ---- hand-made files ----------------------------------------------------------------------

// RIFF §"Chunks": unknown chunks (LIST, fact, junk) are skipped, an odd-sized one with its pad
// byte; a plain IEEE float fmt (tag 3, 18 bytes with cbSize) is copied as is.
TEST(WavChunks, Riff_UnknownAndOddChunksAreSkippedWithTheirPadByte)
{
    const std::string fmt = fmt_body(3, 2, 8000, 8, 32) + le16s(0);
    const std::string data = ramp(8000 * 8);  // one second
    const std::string file = riff(chunk("JUNK", "abc") + chunk("fmt ", fmt) +
                                  chunk("LIST", "INFOabcde") + chunk("fact", le32s(8000)) +
                                  chunk("data", data) + chunk("LIST", "trailing"));
    const Cut cut = cut_bytes(file, 250000);
    ASSERT_EQ(cut.status, Cut::Status::Ok) << cut.detail;
    expect_invariants(cut, file.size());
    EXPECT_EQ(cut.start, 250000);
    EXPECT_EQ(cut.duration, 750000);
    const std::string expected = riff(chunk("fmt ", fmt) + chunk("data", data.substr(2000 * 8)));
    EXPECT_EQ(materialise(cut, file), expected);
    ASSERT_EQ(cut.rep.extents.size(), 2u);
    EXPECT_EQ(std::get<FileExtent>(cut.rep.extents[1]).length, 6000u * 8);
}

// A data chunk of odd length (8-bit mono) gets its pad byte in the cut, counted in RIFF size.
TEST(WavChunks, Riff_OddDataChunkIsPadded)
{
    const std::string fmt = fmt_body(1, 1, 1000, 1, 8);
    const std::string data = ramp(1001);
    const std::string file = riff(chunk("fmt ", fmt) + chunk("data", data));
    const Cut cut = cut_bytes(file, 2000);  // frame 2: 999 bytes left
    ASSERT_EQ(cut.status, Cut::Status::Ok) << cut.detail;
    expect_invariants(cut, file.size());
    EXPECT_EQ(materialise(cut, file), riff(chunk("fmt ", fmt) + chunk("data", data.substr(2))));
}

// END at or before START (parse_span refuses such a span; cut_wav does not rely on it): the
// clip keeps START's frame, as MP3 and FLAC clips do, and no size wraps.
TEST(WavChunks, EndAtOrBeforeStartKeepsStartsFrame)
{
    const std::string fmt = fmt_body(1, 2, 1000, 4, 16);
    const std::string data = ramp(4 * 10000);  // ten seconds
    const std::string file = riff(chunk("fmt ", fmt) + chunk("data", data));
    for (const Span span : {Span{5000000, 5000000}, Span{5000000, 4000000}}) {
        MemorySource src(file);
        const Cut cut = cut_wav(src, span);
        ASSERT_EQ(cut.status, Cut::Status::Ok) << cut.detail;
        EXPECT_EQ(cut.rep.length, extents_length(cut.rep.extents));
        EXPECT_EQ(materialise(cut, file), riff(chunk("fmt ", fmt) + chunk("data", data.substr(5000 * 4, 4))));
        EXPECT_EQ(cut.start, 5000000);
        EXPECT_EQ(cut.end, 5001000);
        EXPECT_EQ(cut.duration, 1000);
    }
}

// Streamed WAVE: the data size is 0xFFFFFFFF (or larger than the file): clipped to the file,
// and a trailing partial frame is left out.
TEST(WavChunks, Streamed_DataSizePastTheEndIsClippedToTheFile)
{
    const std::string fmt = fmt_body(1, 2, 1000, 4, 16);
    for (const std::uint32_t declared : {0xFFFFFFFFu, 100000u}) {
        const std::string file = riff(chunk("fmt ", fmt)) + "data" + le32s(declared) + ramp(4 * 1000 + 3);
        const Cut cut = cut_bytes(file, 500000);
        ASSERT_EQ(cut.status, Cut::Status::Ok) << cut.detail;
        expect_invariants(cut, file.size());
        EXPECT_EQ(cut.duration, 500000);
        const std::string bytes = materialise(cut, file);
        EXPECT_EQ(bytes, riff(chunk("fmt ", fmt) + chunk("data", ramp(4003).substr(2000, 2000))));
        EXPECT_EQ(cut_bytes(file, 1000000).status, Cut::Status::PastEnd);
    }
}

// A WAVE_FORMAT_EXTENSIBLE fmt is accepted for the PCM and IEEE float subformats only.
TEST(WavChunks, Extensible_PcmAndFloatSubformatsOnly)
{
    const std::string guid_tail("\x00\x00\x00\x00\x10\x00\x80\x00\x00\xAA\x00\x38\x9B\x71", 14);
    for (const std::uint16_t sub : {1, 3, 2, 0x55}) {
        const std::string fmt = fmt_body(0xFFFE, 2, 1000, 4, 16) + le16s(22) + le16s(16) +
                                le32s(3) + le16s(sub) + guid_tail;
        const std::string file = riff(chunk("fmt ", fmt) + chunk("data", ramp(4000)));
        const Cut cut = cut_bytes(file, 0);
        EXPECT_EQ(cut.status, sub == 1 || sub == 3 ? Cut::Status::Ok : Cut::Status::Malformed)
            << "subformat " << sub;
    }
}

// ---- malformed input: a short detail, never a crash ------------------------------------------

struct BadCase {
    const char* name;
    std::string bytes;
};

std::vector<BadCase> bad_cases()
{
    const std::string pcm = fmt_body(1, 2, 1000, 4, 16);
    return {
        {"Empty", ""},
        {"ShorterThanRiffHeader", std::string("RIFF\x10\0\0", 7)},
        {"NotRiff", "RIFX" + le32s(4) + "WAVE"},
        {"NotWave", "RIFF" + le32s(4) + "AVI "},
        {"NoChunks", riff("")},
        {"NoDataChunk", riff(chunk("fmt ", pcm))},
        {"DataBeforeFmt", riff(chunk("data", ramp(16)) + chunk("fmt ", pcm))},
        {"ChunkSizePastTheEnd", riff(chunk("fmt ", pcm)) + "LIST" + le32s(1000) + "xx"},
        {"FmtSizePastTheEnd", riff("fmt " + le32s(0xFFFFFFF0u) + pcm)},
        {"FmtTooShort", riff(chunk("fmt ", pcm.substr(0, 14)) + chunk("data", ramp(16)))},
        {"FmtHuge", riff(chunk("fmt ", pcm + std::string(4000, '\0')) + chunk("data", ramp(16)))},
        {"TwoFmtChunks", riff(chunk("fmt ", pcm) + chunk("fmt ", pcm) + chunk("data", ramp(16)))},
        {"CompressedFormat", riff(chunk("fmt ", fmt_body(0x55, 2, 1000, 4, 16)) + chunk("data", ramp(16)))},
        {"ZeroRate", riff(chunk("fmt ", fmt_body(1, 2, 0, 4, 16)) + chunk("data", ramp(16)))},
        {"ZeroChannels", riff(chunk("fmt ", fmt_body(1, 0, 1000, 4, 16)) + chunk("data", ramp(16)))},
        {"ZeroBlockAlign", riff(chunk("fmt ", fmt_body(1, 2, 1000, 0, 16)) + chunk("data", ramp(16)))},
        {"BlockAlignTooSmall", riff(chunk("fmt ", fmt_body(1, 2, 1000, 2, 16)) + chunk("data", ramp(16)))},
        {"ExtensibleTooShort", riff(chunk("fmt ", fmt_body(0xFFFE, 2, 1000, 4, 16) + le16s(0)) + chunk("data", ramp(16)))},
        // kMaxChunks: the fmt chunk and 4096 empty ones before the data chunk.
        {"TooManyChunks", riff(chunk("fmt ", pcm) + repeat(chunk("JUNK", ""), wav::kMaxChunks) + chunk("data", ramp(16)))},
    };
}

// kMaxChunks chunks in all before the data chunk is a WAVE file still.
TEST(WavChunks, Riff_AsManyChunksAsTheWalkReads)
{
    const std::string fmt = fmt_body(1, 2, 1000, 4, 16);
    const std::string file = riff(chunk("fmt ", fmt) + repeat(chunk("JUNK", ""), wav::kMaxChunks - 1) + chunk("data", ramp(4000)));
    const Cut cut = cut_bytes(file, 0);
    ASSERT_EQ(cut.status, Cut::Status::Ok) << cut.detail;
    EXPECT_EQ(materialise(cut, file), riff(chunk("fmt ", fmt) + chunk("data", ramp(4000))));
}

class WavMalformed : public ::testing::TestWithParam<BadCase> {};

TEST_P(WavMalformed, IsMalformedWithADetail)
{
    const Cut cut = cut_bytes(GetParam().bytes, 0);
    EXPECT_EQ(cut.status, Cut::Status::Malformed);
    EXPECT_FALSE(cut.detail.empty());
    EXPECT_EQ(cut.rep.length, 0u);
    EXPECT_TRUE(cut.rep.extents.empty());
}

INSTANTIATE_TEST_SUITE_P(Inputs, WavMalformed, ::testing::ValuesIn(bad_cases()),
                         [](const auto& info) { return std::string(info.param.name); });

// Every prefix of a valid file, and random mutations of it, give a status and keep the
// invariants: lengths are checked against the file, never trusted.
TEST(WavRobustness, TruncatedAndMutatedFilesNeverBreakTheInvariants)
{
    const std::string fmt = fmt_body(1, 2, 1000, 4, 16);
    const std::string file = riff(chunk("LIST", "INFOabc") + chunk("fmt ", fmt) + chunk("data", ramp(400)));
    for (std::size_t n = 0; n <= file.size(); ++n) {
        const std::string prefix = file.substr(0, n);
        const Cut cut = cut_bytes(prefix, 10000);
        if (cut.status == Cut::Status::Ok) {
            expect_invariants(cut, prefix.size());
        }
    }
    std::mt19937 rng(6);
    for (int i = 0; i < 2000; ++i) {
        std::string m = file;
        const int flips = 1 + static_cast<int>(rng() % 4);
        for (int f = 0; f < flips; ++f) {
            m[rng() % m.size()] = static_cast<char>(rng());
        }
        const Cut cut = cut_bytes(m, static_cast<Micros>(rng() % 200000));
        if (cut.status == Cut::Status::Ok) {
            expect_invariants(cut, m.size());
            EXPECT_EQ(materialise(cut, m).size(), cut.rep.length);
        }
    }
    std::string noise(4096, '\0');
    for (auto& c : noise) {
        c = static_cast<char>(rng());
    }
    EXPECT_EQ(cut_bytes(noise, 0).status, Cut::Status::Malformed);
    EXPECT_EQ(cut_bytes("RIFF" + le32s(100) + "WAVE" + noise, 0).status, Cut::Status::Malformed);
}

}  // namespace
}  // namespace audio_stream
