// cut_mp3 from START: an MP3 cut is [ID3v2 tag] + a fresh Xing/Info frame + the frames from
// the cut on (clips: test_mp3_clip.cpp; the header parse, ID3v2 tags and the lead frame:
// test_mp3_frames.cpp). Files are made at test time by ffmpeg (never committed), cut through
// a MemorySource, written out and checked with ffprobe/ffmpeg against the original.
#include "src/formats/formats.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
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
#include <utility>
#include <vector>

#include <unistd.h>

#include "src/formats/toolbox.h"
#include "src/time_param.h"
#include "tests/unit/cut_tools.h"
#include "tests/unit/format_fixture.h"
#include "tests/unit/mp3_tools.h"
#include "tests/unit/printers.h"

namespace audio_stream {
namespace {

namespace fs = std::filesystem;

// ---- helpers (the shared ones are in cut_tools.h and mp3_tools.h) ---------------------------

using namespace test_tools;
using namespace mp3_test;

// cut_mp3 as served (the dispatch names the cut), of bytes in memory.
Cut cut_bytes(const std::string& bytes, const Span& span)
{
    return served_cut("audio/mpeg", bytes, span);
}

using test_tools::TimeCase;
using CutCase = test_tools::CutCase<Source>;

const TimeCase kTimes[] = {
    {"AtZero", 0},
    {"At10msInsideTheDecoderDelay", 10000},
    {"At30msInTheFirstFrames", 30000},
    {"At1500ms", 1500000},
    {"At7s", 7000000},
    {"InLastTenthOfASecond", 19900000},
    {"InTheLastFrame", 19990000},
};

class Mp3Cut : public test_tools::FormatCut<Mp3Format> {};

// The cut's header frame `x`: the audio frames' stream parameters, "Info" for constant audio
// frames (the first may be the reservoir frame, of any bitrate), exact counts of the frames and
// bytes that follow, to the end. The first audio frame's header (x's when there is none).
Mp3Header expect_header_frame(const XingView& x, const std::string& bytes, const Source& source)
{
    const std::vector<std::size_t> frames = frame_offsets(bytes, x.at + x.header.size);
    if (frames.empty()) {
        ADD_FAILURE() << "no audio frames after the header frame";
        return x.header;
    }
    const auto audio = *parse_mp3_header(be32(bytes, frames[0]));
    EXPECT_EQ(x.header.sample_rate, audio.sample_rate);
    EXPECT_EQ(x.header.mono, audio.mono);
    bool constant = true;
    for (const std::size_t at : frames) {
        constant = constant && (at == frames[0] || (be32(bytes, at) ^ be32(bytes, frames.back())) >> 12 == 0);
    }
    EXPECT_EQ(x.id, std::string(source.tag) == "Xing" && !constant ? "Xing" : "Info");
    EXPECT_EQ(x.frames, frames.size());
    EXPECT_EQ(x.bytes, bytes.size() - x.at) << "Xing frame plus audio, to the end";
    EXPECT_TRUE(std::is_sorted(x.toc.begin(), x.toc.end()));
    if (!x.toc.empty()) {
        EXPECT_EQ(x.toc[0], x.header.size * 256 / x.bytes);
    }
    return audio;
}

// The cut: the original ID3v2 tag, a fresh header frame counting exactly the frames and bytes
// that follow and whose LAME tag's encoder delay drops everything before t, then the original
// frames from a frame or two before t (and a silent frame before them carrying the bit
// reservoir they need). ffmpeg decodes it without a word, from t's very sample on, exactly the
// original's samples, and as many as the original has from t on.
TEST_P(Mp3Cut, StartsAtTAndDecodesToTheOriginal)
{
    ASSERT_EQ(errors(), "");
    const Source& source = src_;
    const Fixture& f = file();
    const std::string& original = f.bytes;
    const Cut& cut = cut_;  // made, checked and written out by SetUp

    // ID3v2 first, as it was, then the header frame.
    const std::size_t id3 = id3_size(original);
    ASSERT_GT(id3, 0u) << "ffmpeg writes an ID3v2 tag";
    EXPECT_EQ(bytes_.substr(0, id3), original.substr(0, id3));
    const XingView x = read_xing(bytes_, id3);
    ASSERT_TRUE(x.ok);
    const unsigned spf = expect_header_frame(x, bytes_, source).samples;

    // Start: t's sample, which names the cut.
    const std::uint64_t sample = sample_at(time_.t, f.rate);
    const bool gapless = std::string(source.tag) != "";
    const bool trimmed = gapless || sample >= 529;  // else the whole stream, untrimmed
    EXPECT_EQ(cut.start, trimmed ? samples_to_micros(sample, f.rate) : 0);

    // The LAME tag: the original's padding (the decoder delay when the original had none),
    // and a delay of a few frames at most, whatever the reservoir.
    ASSERT_EQ(x.lame, trimmed);
    if (trimmed) {
        const XingView o = read_xing(original, id3);
        EXPECT_EQ(x.lame_name, gapless ? o.lame_name : "LAME");
        EXPECT_EQ(x.padding, gapless ? o.padding : 529u);
        EXPECT_LT(x.delay, 6u * 576) << "the lead-in is at most a frame or two";
    }

    std::string messages;
    const std::vector<std::int16_t> b = decode_s16(path_, messages);
    EXPECT_EQ(messages, "") << "ffmpeg must decode the cut without a message";
    // ffprobe (5.1) counts the Xing frame count, lead-in and padding included, whatever the
    // LAME tag says (as it does for the original); ffprobe prints microseconds.
    EXPECT_NEAR(probe_duration(path_), static_cast<double>(x.frames) * spf / f.rate, 1e-5);
    fs::remove(path_);

    // Sample-exact: the decoded cut is the original from t on, and as long.
    const unsigned ch = source.channels;
    std::uint64_t start = trimmed ? sample : 0;
    const std::vector<std::int16_t>& a = f.samples;
    const std::uint64_t said = a.size() / ch - start;  // what the LAME tag says is left
    EXPECT_EQ(cut.duration, samples_to_micros(said, f.rate));
    if (trimmed) {
        EXPECT_EQ(said, std::uint64_t{x.frames} * spf - x.delay - x.padding);
    }
    if (said < spf && b.size() / ch > said) {
        // t in the last frame: ffmpeg puts the delay left over and the padding in the last
        // packet's one skip field, which keeps the padding and loses the rest of the delay.
        // The cut then starts early, by less than a frame (README, Time seek).
        ASSERT_LT(b.size() / ch, said + spf);
        start = a.size() / ch - b.size() / ch;
    }
    ASSERT_EQ(b.size(), a.size() - start * ch);
    const std::uint64_t to = std::min<std::uint64_t>(b.size(), f.rate / 5 * ch);
    EXPECT_EQ(differing(b, 0, a, start * ch, to), 0u) << "in 0.2 s from t";
}

INSTANTIATE_TEST_SUITE_P(Generated, Mp3Cut, ::testing::ValuesIn(test_tools::all_cuts(kSources, kTimes)),
                         test_tools::CutCaseName());

// The end of the audio is where the player's timeline ends (after gapless trimming when the
// file says so): t there or later is PastEnd (with an END too), t one frame before it is still
// a cut.
TEST_F(Mp3Files, TimeAtOrPastTheEndOfTheAudioIsPastEnd)
{
    ASSERT_EQ(errors(), "");
    for (const auto& s : kSources) {
        const Fixture& f = fixture(s.name);
        const std::uint64_t samples = f.samples.size() / s.channels;
        const Micros end = static_cast<Micros>((samples * 1000000 + f.rate - 1) / f.rate);
        for (const Micros t : {end, end + 1, Micros{1000000000}, kMaxTime}) {
            EXPECT_EQ(cut_bytes(f.bytes, t).status, Cut::Status::PastEnd) << s.name << " t=" << t;
            EXPECT_EQ(cut_bytes(f.bytes, Span{t, t + 1000000}).status, Cut::Status::PastEnd) << "whatever END";
        }
        EXPECT_EQ(cut_bytes(f.bytes, end - 30000).status, Cut::Status::Ok) << s.name;
    }
    EXPECT_EQ(cut_bytes(fixture("CbrStereo44k").bytes, 20000000).status, Cut::Status::PastEnd)
        << "a 20 s gapless file ends at 20 s";
}

// Same bytes in, same cut out: the ETag suffix of a cut is stable.
TEST_F(Mp3Files, IdenticalInputsGiveIdenticalCuts)
{
    ASSERT_EQ(errors(), "");
    for (const auto& s : kSources) {
        const Cut a = cut_bytes(fixture(s.name).bytes, 3000000);
        const Cut b = cut_bytes(fixture(s.name).bytes, 3000000);
        EXPECT_EQ(a.rep.extents, b.rep.extents) << s.name;
        EXPECT_EQ(a.rep.etag_suffix, b.rep.etag_suffix) << s.name;
    }
}

// The CBR shortcut (arithmetic from the Info frame, then resync) lands on the very frames the
// exact walk finds, at a clip's end as at its start: renaming "Info" to "Xing" forces the walk,
// and the cuts and clips are identical.
TEST_F(Mp3Files, CbrArithmeticAgreesWithTheFrameWalk)
{
    ASSERT_EQ(errors(), "");
    const Span spans[] = {Span{0},        Span{26122},          Span{1500000},
                          Span{7000000},  Span{13333333},       Span{19900000},
                          Span{0, 1000},  Span{7000000, 12500000}, Span{19900000, 19999000}};
    for (const char* name : {"CbrStereo44k", "CbrMono22k", "CbrMono48kSmallFrames", "CbrMpeg25Mono8k"}) {
        const std::string& info = fixture(name).bytes;
        std::string xing = info;
        const std::size_t at = xing.find("Info");
        ASSERT_NE(at, std::string::npos);
        xing.replace(at, 4, "Xing");
        for (const Span& span : spans) {
            const Cut a = cut_bytes(info, span);
            const Cut b = cut_bytes(xing, span);
            ASSERT_EQ(a.status, Cut::Status::Ok) << name << " " << span.start << "-" << span.end;
            EXPECT_EQ(a.start, b.start) << name << " " << span.start << "-" << span.end;
            EXPECT_EQ(a.end, b.end) << name << " " << span.start << "-" << span.end;
            EXPECT_EQ(a.duration, b.duration) << name << " " << span.start << "-" << span.end;
            EXPECT_EQ(materialise(a, info), materialise(b, xing)) << name << " " << span.start << "-" << span.end;
        }
    }
}

// Junk between frames (a broken download, a concatenation) is skipped by a verified resync:
// frames after it keep their times, so a cut past the junk is the cut of the clean file.
TEST_F(Mp3Files, JunkBetweenFramesIsSkipped)
{
    ASSERT_EQ(errors(), "");
    const std::string& clean = fixture("VbrStereo44k").bytes;
    const std::vector<std::size_t> frames = frame_offsets(clean, id3_size(clean));
    ASSERT_GT(frames.size(), 400u);
    std::string junk(1500, '\0');
    for (std::size_t i = 0; i < junk.size(); ++i) {
        junk[i] = static_cast<char>(i % 3 == 0 ? 0xFF : i);  // sync bytes that lead nowhere
    }
    std::string dirty = clean;
    dirty.insert(frames[200], junk);
    const Cut a = cut_bytes(clean, 15000000);
    const Cut b = cut_bytes(dirty, 15000000);
    ASSERT_EQ(b.status, Cut::Status::Ok) << b.detail;
    EXPECT_EQ(a.start, b.start);
    EXPECT_EQ(materialise(a, clean), materialise(b, dirty));
}

// Trailing ID3v1 and APEv2 tags are kept at the end of the cut but are not audio: the frame
// and byte counts are those of the file without them.
TEST_F(Mp3Files, TrailingTagsAreKeptButNotCounted)
{
    ASSERT_EQ(errors(), "");
    const std::string& plain = fixture("VbrStereo44k").bytes;
    std::string ape_items = be32s(0);
    const std::string ape_footer = std::string("APETAGEX") + std::string("\xD0\x07\0\0", 4) +
                                   std::string("\x28\0\0\0", 4) + std::string(4, '\0') +
                                   std::string(4, '\0') + std::string(8, '\0');
    const std::string ape = std::string(8, 'a') + ape_footer;  // 8 bytes of items + footer
    const std::string id3v1 = "TAG" + std::string(125, 'x');
    const std::string tagged = plain + ape + id3v1;
    for (const Micros t : {Micros{0}, Micros{7000000}}) {
        const Cut a = cut_bytes(plain, t);
        const Cut b = cut_bytes(tagged, t);
        ASSERT_EQ(b.status, Cut::Status::Ok) << b.detail;
        const std::string bytes = materialise(b, tagged);
        EXPECT_EQ(bytes, materialise(a, plain) + ape + id3v1);
        EXPECT_EQ(a.duration, b.duration);
    }
}

// ---- malformed input: a short detail, never a crash ------------------------------------------

struct BadCase {
    const char* name;
    std::string bytes;
};

std::vector<BadCase> bad_cases()
{
    std::mt19937 rng(3);
    std::string noise(50000, '\0');
    for (auto& c : noise) {
        c = static_cast<char>(rng());
    }
    const std::string tag = id3_tag({{"TIT2", std::string("\0x", 2)}});
    std::string xing_only = be32s(0xFFFB9044) + std::string(32, '\0') + "Xing" + be32s(3) +
                            be32s(0) + be32s(417);
    xing_only.resize(417, '\0');
    return {
        {"Empty", ""},
        {"ThreeBytes", "\xFF\xFB\x90"},
        {"RandomBytes", noise},
        {"OnlyAnId3Tag", tag},
        {"Id3TagPastTheEnd", tag.substr(0, 6) + syncsafe(100000) + tag.substr(10)},
        {"Id3SizeNotSyncsafe", tag.substr(0, 6) + std::string("\0\0\x80\0", 4) + tag.substr(10)},
        {"Id3ThenNoise", tag + noise},
        {"FreeFormatFrames", repeat_frames(0xFFFB0044, 400, 20)},
        {"LayerTwoFrames", repeat_frames(0xFFFD9044, 417, 20)},
        {"HeaderFrameWithoutAudio", xing_only},
        {"RiffWave", std::string("RIFF\x24\0\0\0WAVEfmt ", 16) + std::string(100, '\0')},
    };
}

class Mp3Malformed : public ::testing::TestWithParam<BadCase> {};

TEST_P(Mp3Malformed, IsMalformedWithADetail)
{
    for (const Micros t : {Micros{0}, Micros{1000000}}) {
        const Cut cut = cut_bytes(GetParam().bytes, t);
        EXPECT_EQ(cut.status, Cut::Status::Malformed);
        EXPECT_FALSE(cut.detail.empty());
        EXPECT_TRUE(cut.rep.extents.empty());
    }
}

INSTANTIATE_TEST_SUITE_P(Inputs, Mp3Malformed, ::testing::ValuesIn(bad_cases()),
                         [](const auto& info) { return std::string(info.param.name); });

// A LAME tag whose delay and padding exceed the stream is ignored (no gapless trimming): the
// cut then starts at or before t on the untrimmed timeline, and a t inside the stream is a cut.
// (Found by tests/fuzz/fuzz_mp3: the frame was sought with the delay, then the delay dropped.)
TEST_F(Mp3Files, ImplausibleEncoderDelayIsIgnoredAndTheCutStartsAtOrBeforeT)
{
    ASSERT_EQ(errors(), "");
    std::string m = fixture("CbrMono22k").bytes;
    const std::size_t info = m.find("Info");
    ASSERT_NE(info, std::string::npos);
    const std::size_t lame = m.find("Lav", info);
    ASSERT_NE(lame, std::string::npos);
    // Delay 2000, padding 4000 samples: more than the ~10 frames (5760 samples) kept below.
    m[lame + 21] = static_cast<char>(2000 >> 4);
    m[lame + 22] = static_cast<char>((2000 & 15) << 4 | 4000 >> 8);
    m[lame + 23] = static_cast<char>(4000 & 255);
    m.resize(info + 11 * 104);  // 32 kbit/s at 22050 Hz: 104-byte frames of 576 samples
    for (Micros t = 0; t <= 200000; t += 10000) {
        const Cut cut = cut_bytes(m, t);
        ASSERT_EQ(cut.status, Cut::Status::Ok) << "t=" << t;
        EXPECT_LE(cut.start, t);
        expect_invariants(cut, m.size());
    }
}

// A cut from a random START below `range`, or half the time a clip to a random END after it.
Span random_span(std::mt19937& rng, Micros range)
{
    const Micros t = static_cast<Micros>(rng() % range);
    return rng() % 2 ? Span{t} : Span{t, t + 1 + static_cast<Micros>(rng() % 5000000)};
}

// Prefixes and random mutations of a VBR file (found through its index) and a CBR one (by
// arithmetic, at both ends of a clip), cut and clipped: a status, and the invariants.
TEST_F(Mp3Files, TruncatedAndMutatedFilesNeverBreakTheInvariants)
{
    ASSERT_EQ(errors(), "");
    std::mt19937 rng(6);
    for (const char* name : {"VbrMono22kId3v23", "CbrMono22k"}) {
        const std::string& file = fixture(name).bytes;
        for (std::size_t n = 0; n <= file.size(); n += (n < 2000 ? 1 : 997)) {
            const std::string prefix = file.substr(0, n);
            const Span span = random_span(rng, 3000000);
            expect_invariants(cut_bytes(prefix, span), prefix.size(), span);
        }
        for (int i = 0; i < 1000; ++i) {
            std::string m = file;
            const int edits = 1 + static_cast<int>(rng() % 8);
            for (int e = 0; e < edits; ++e) {
                const std::size_t at = rng() % (rng() % 2 ? 600 : m.size());  // favour the headers
                m[at] = static_cast<char>(rng());
            }
            const Span span = random_span(rng, 21000000);
            const Cut cut = cut_bytes(m, span);
            expect_invariants(cut, m.size(), span);
            EXPECT_EQ(materialise(cut, m).size(), cut.rep.length) << name;
        }
    }
}

}  // namespace
}  // namespace audio_stream
