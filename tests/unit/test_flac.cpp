// cut_flac: a cut is a complete FLAC file (RFC 9639) that starts at the frame holding t. Files
// are made at test time with ffmpeg and the reference encoder (flac), cut in memory, written
// out, and judged by flac -t, ffmpeg, ffprobe and by comparing decoded samples.
#include "src/formats/flac.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "tests/unit/cut_tools.h"
#include "tests/unit/printers.h"

namespace audio_stream {
namespace {

// ---------------------------------------------------------------------------------------------
// Helpers: a private temp dir, shell commands, extents written out.

using test_tools::expect_invariants;
using test_tools::materialise;
using test_tools::probe_duration;
using test_tools::run;
using test_tools::slurp;
using test_tools::spit;
using Output = test_tools::Command;

// cut_flac as served (the dispatch names the cut).
Cut cut_served(ByteSource& src, Micros t)
{
    return test_tools::served_cut("audio/flac", src, t);
}

const std::string& temp_dir()
{
    static const test_tools::TempDir dir("flac");
    return dir.path();
}

bool have_tools()
{
    static const bool ok = run("command -v ffmpeg && command -v ffprobe && command -v flac").status == 0;
    return ok;
}

// Interleaved 32-bit samples: exact for 16- and 24-bit FLAC.
std::vector<std::int32_t> decode(const std::string& path)
{
    return test_tools::decode_pcm<std::int32_t>(path, "-f s32le -c:a pcm_s32le");
}

// ---------------------------------------------------------------------------------------------
// An independent frame walker (bitwise CRCs, none of the cutter's code): a frame ends where a
// header with a good CRC-8 starts and the frame's CRC-16 over everything before it is zero.

struct WalkedFrame {
    std::size_t offset;
    std::size_t header_length;
    std::size_t number_length;  // bytes of the coded number, at offset 4
    bool variable;
    std::uint64_t number;
    std::uint32_t block;
};

struct Walk {
    std::size_t audio_start = 0;
    std::vector<WalkedFrame> frames;
    std::size_t end = 0;  // where the last frame ends
    bool complete = false;  // every frame's CRC-16 holds and the last ends the file
};

unsigned slow_crc8(const unsigned char* p, std::size_t n)
{
    unsigned r = 0;
    for (std::size_t i = 0; i < n; ++i) {
        r ^= p[i];
        for (int k = 0; k < 8; ++k) {
            r = (r & 0x80) ? ((r << 1) ^ 0x07) & 0xFF : (r << 1) & 0xFF;
        }
    }
    return r;
}

unsigned slow_crc16_byte(unsigned r, unsigned char b)
{
    r ^= unsigned{b} << 8;
    for (int k = 0; k < 8; ++k) {
        r = (r & 0x8000) ? ((r << 1) ^ 0x8005) & 0xFFFF : (r << 1) & 0xFFFF;
    }
    return r;
}

bool walked_header(const std::string& f, std::size_t x, WalkedFrame& h)
{
    const auto* p = reinterpret_cast<const unsigned char*>(f.data()) + x;
    const std::size_t left = f.size() - x;
    if (left < 6 || p[0] != 0xFF || (p[1] & 0xFE) != 0xF8) {
        return false;
    }
    h.offset = x;
    h.variable = p[1] & 1;
    std::size_t n = 1;
    if (p[4] >= 0x80) {
        n = 0;
        while (n < 8 && (p[4] << n) & 0x80) {
            ++n;
        }
    }
    if (n == 8 || 4 + n + 4 >= left) {
        return false;
    }
    h.number = n == 1 ? p[4] : p[4] & (0x7F >> n);
    for (std::size_t i = 1; i < n; ++i) {
        h.number = h.number << 6 | (p[4 + i] & 0x3F);
    }
    h.number_length = n;
    std::size_t len = 4 + n;
    const unsigned size_code = p[2] >> 4;
    const unsigned rate_code = p[2] & 0x0F;
    if (size_code == 1) {
        h.block = 192;
    }
    else if (size_code <= 5) {
        h.block = 576u << (size_code - 2);
    }
    else if (size_code == 6) {
        h.block = p[len++] + 1u;
    }
    else if (size_code == 7) {
        h.block = (unsigned{p[len]} << 8 | p[len + 1]) + 1u;
        len += 2;
    }
    else {
        h.block = 256u << (size_code - 8);
    }
    len += rate_code == 12 ? 1 : rate_code >= 13 ? 2 : 0;
    if (len >= left || slow_crc8(p, len) != p[len]) {
        return false;
    }
    h.header_length = len + 1;
    return true;
}

std::size_t audio_start_of(const std::string& flac)
{
    std::size_t pos = 4;
    for (bool last = false; !last && pos + 4 <= flac.size();) {
        const auto* h = reinterpret_cast<const unsigned char*>(flac.data() + pos);
        last = h[0] & 0x80;
        pos += 4 + (std::size_t{h[1]} << 16 | std::size_t{h[2]} << 8 | h[3]);
    }
    return pos;
}

Walk walk_frames(const std::string& flac)
{
    Walk w;
    w.audio_start = audio_start_of(flac);
    WalkedFrame h{};
    if (!walked_header(flac, w.audio_start, h)) {
        return w;
    }
    w.frames.push_back(h);
    unsigned crc = 0;
    for (std::size_t x = w.audio_start; x < flac.size(); ++x) {
        const std::size_t start = w.frames.back().offset;
        if (crc == 0 && x >= start + w.frames.back().header_length + 2 && walked_header(flac, x, h)) {
            w.frames.push_back(h);
        }
        crc = slow_crc16_byte(crc, static_cast<unsigned char>(flac[x]));
    }
    w.end = flac.size();
    w.complete = crc == 0;
    return w;
}

// The same stream with the variable blocking strategy (RFC 9639 §9.1: bit 0 of the second byte
// set, headers numbered by sample): what Debian's encoders never write. SEEKTABLE dropped (its
// offsets would move), CRC-8 and CRC-16 computed afresh.
std::string to_variable(const std::string& flac)
{
    const Walk w = walk_frames(flac);
    EXPECT_TRUE(w.complete && !w.frames.empty());
    std::string out = "fLaC";
    std::vector<std::string> kept;
    std::size_t pos = 4;
    for (bool last = false; !last;) {
        const auto* h = reinterpret_cast<const unsigned char*>(flac.data() + pos);
        last = h[0] & 0x80;
        const std::size_t len = std::size_t{h[1]} << 16 | std::size_t{h[2]} << 8 | h[3];
        if ((h[0] & 0x7F) != 3) {
            kept.push_back(flac.substr(pos, 4 + len));
        }
        pos += 4 + len;
    }
    for (std::size_t i = 0; i < kept.size(); ++i) {
        kept[i][0] = static_cast<char>((kept[i][0] & 0x7F) | (i + 1 == kept.size() ? 0x80 : 0));
        out += kept[i];
    }
    std::uint64_t sample = 0;
    for (std::size_t i = 0; i < w.frames.size(); ++i) {
        const WalkedFrame& f = w.frames[i];
        const std::size_t end = i + 1 < w.frames.size() ? w.frames[i + 1].offset : w.end;
        std::string frame = flac.substr(f.offset, 4);
        frame[1] = static_cast<char>(frame[1] | 1);
        unsigned char coded[7];
        std::size_t n = 1;
        if (sample < 0x80) {
            coded[0] = static_cast<unsigned char>(sample);
        }
        else {
            n = 2;
            while (sample >= (std::uint64_t{1} << (5 * n + 1))) {
                ++n;
            }
            std::uint64_t v = sample;
            for (std::size_t k = n - 1; k > 0; --k) {
                coded[k] = static_cast<unsigned char>(0x80 | (v & 0x3F));
                v >>= 6;
            }
            coded[0] = static_cast<unsigned char>((0xFF00u >> n) | v);
        }
        frame.append(reinterpret_cast<const char*>(coded), n);
        const std::size_t rest = f.offset + 4 + f.number_length;
        frame += flac.substr(rest, f.offset + f.header_length - 1 - rest);
        frame += static_cast<char>(slow_crc8(reinterpret_cast<const unsigned char*>(frame.data()), frame.size()));
        frame += flac.substr(f.offset + f.header_length, end - 2 - f.offset - f.header_length);
        unsigned crc = 0;
        for (const char c : frame) {
            crc = slow_crc16_byte(crc, static_cast<unsigned char>(c));
        }
        frame += static_cast<char>(crc >> 8);
        frame += static_cast<char>(crc & 0xFF);
        out += frame;
        sample += f.block;
    }
    return out;
}

// ---------------------------------------------------------------------------------------------
// Source files, made once per run.

struct Source {
    const char* name;
    const char* make;  // shell command; {out} is the file to write, {dir} the temp dir
    unsigned rate;
    unsigned channels;
};

const Source kSources[] = {
    {"Ffmpeg16BitMono", "ffmpeg -v error -f lavfi -i sine=frequency=440:duration=20 -c:a flac '{out}'", 44100, 1},
    {"Ffmpeg24BitStereo",
     "ffmpeg -v error -f lavfi -i sine=frequency=440:duration=20 -ac 2 -c:a flac -sample_fmt s32 "
     "-bits_per_raw_sample 24 '{out}'",
     44100, 2},
    // The reference encoder writes a SEEKTABLE and PADDING.
    {"Flac16BitStereoSeekTable",
     "ffmpeg -v error -f lavfi -i sine=frequency=440:duration=20 -ac 2 -c:a pcm_s16le '{dir}/s16.wav' && "
     "flac -s -f -o '{out}' '{dir}/s16.wav'",
     44100, 2},
    {"Flac24BitMono48kSeekTable",
     "ffmpeg -v error -f lavfi -i sine=frequency=1000:duration=20:sample_rate=48000 -c:a pcm_s24le "
     "'{dir}/s24.wav' && flac -s -f --blocksize=1152 -o '{out}' '{dir}/s24.wav'",
     48000, 1},
    // Made from the one above by to_variable(): headers numbered by sample.
    {"Variable16BitStereo", "variable:Flac16BitStereoSeekTable", 44100, 2},
};

std::string replace_all(std::string s, const std::string& from, const std::string& to)
{
    for (std::size_t at = 0; (at = s.find(from, at)) != std::string::npos; at += to.size()) {
        s.replace(at, from.size(), to);
    }
    return s;
}

// The path of a source file, made on first use.
const std::string& source_path(const Source& s)
{
    static std::map<std::string, std::string> made;
    auto it = made.find(s.name);
    if (it == made.end()) {
        const std::string out = temp_dir() + "/" + s.name + ".flac";
        const std::string make = s.make;
        if (make.rfind("variable:", 0) == 0) {
            for (const Source& from : kSources) {
                if (make.substr(9) == from.name) {
                    spit(out, to_variable(slurp(source_path(from))));
                }
            }
        }
        else {
            const Output r = run(replace_all(replace_all(s.make, "{out}", out), "{dir}", temp_dir()));
            EXPECT_EQ(r.status, 0) << r.output;
        }
        it = made.emplace(s.name, out).first;
    }
    return it->second;
}

struct Cached {
    std::string bytes;
    std::vector<std::int32_t> pcm;
    double probed;
};

const Cached& source(const Source& s)
{
    static std::map<std::string, Cached> cache;
    auto it = cache.find(s.name);
    if (it == cache.end()) {
        const std::string& path = source_path(s);
        it = cache.emplace(s.name, Cached{slurp(path), decode(path), probe_duration(path)}).first;
    }
    return it->second;
}

// ---------------------------------------------------------------------------------------------
// Valid cuts: every source at every time.

struct Time {
    const char* name;
    Micros t;
    Cut::Status status;
};

const Time kTimes[] = {
    {"AtZero", 0, Cut::Status::Ok},
    {"At1_5s", 1500000, Cut::Status::Ok},
    {"At7s", 7000000, Cut::Status::Ok},
    {"At19_9s", 19900000, Cut::Status::Ok},
    {"AtEnd", 20000000, Cut::Status::PastEnd},
    {"At1000s", 1000000000, Cut::Status::PastEnd},
};

class FlacCut : public ::testing::TestWithParam<std::tuple<Source, Time>> {
protected:
    void SetUp() override
    {
        ASSERT_TRUE(have_tools()) << "needs ffmpeg, ffprobe and flac (apt-get install ffmpeg flac)";
        src_ = std::get<0>(GetParam());
        time_ = std::get<1>(GetParam());
        const Cached& c = source(src_);
        ASSERT_FALSE(c.bytes.empty());
        MemorySource in(c.bytes);
        cut_ = cut_served(in, time_.t);
        expect_invariants(cut_, c.bytes.size(), time_.t);
        ASSERT_EQ(cut_.status, time_.status) << cut_.detail;
        if (cut_.status == Cut::Status::Ok) {
            path_ = temp_dir() + "/cut_" + src_.name + "_" + time_.name + ".flac";
            spit(path_, materialise(c.bytes, cut_.rep));
        }
    }

    // The first sample of the cut, recovered from the microseconds it is reported in.
    std::uint64_t start_sample() const
    {
        return (static_cast<std::uint64_t>(cut_.start) * src_.rate + 999999) / 1000000;
    }

    Source src_{};
    Time time_{};
    Cut cut_;
    std::string path_;
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

std::string cut_name(const ::testing::TestParamInfo<std::tuple<Source, Time>>& info)
{
    return std::string(std::get<0>(info.param).name) + "_" + std::get<1>(info.param).name;
}

INSTANTIATE_TEST_SUITE_P(Sources, FlacCut, ::testing::Combine(::testing::ValuesIn(kSources), ::testing::ValuesIn(kTimes)),
                         cut_name);

// ---------------------------------------------------------------------------------------------
// Metadata of a cut: what is kept, what is rewritten, the last-block flag.

struct Block {
    unsigned type;
    bool last;
    std::string body;
};

std::vector<Block> metadata(const std::string& flac)
{
    std::vector<Block> blocks;
    std::size_t pos = 4;
    for (bool last = false; !last && pos + 4 <= flac.size();) {
        const auto* h = reinterpret_cast<const unsigned char*>(flac.data() + pos);
        const std::size_t len = std::size_t{h[1]} << 16 | std::size_t{h[2]} << 8 | h[3];
        last = h[0] & 0x80;
        blocks.push_back({h[0] & 0x7Fu, last, flac.substr(pos + 4, len)});
        pos += 4 + len;
    }
    return blocks;
}

std::uint64_t total_samples(const std::string& stream_info)
{
    const auto* s = reinterpret_cast<const unsigned char*>(stream_info.data());
    std::uint64_t v = s[13] & 0x0F;
    for (int i = 14; i < 18; ++i) {
        v = v << 8 | s[i];
    }
    return v;
}

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

TEST(FlacLimits, CutRenumberingMoreThanTwoToThe18FramesIsRefusedWithADetail)
{
    ASSERT_TRUE(have_tools());
    // 265000 frames of 16 samples (8 kHz, 530 s of silence, ~4 MB).
    const std::string path = temp_dir() + "/many_frames.flac";
    const Output made = run("ffmpeg -v error -f lavfi -i anullsrc=r=8000:cl=mono -t 530 -c:a flac -frame_size 16 '" +
                            path + "'");
    ASSERT_EQ(made.status, 0) << made.output;
    const std::string file = slurp(path);
    MemorySource in(file);
    const Cut refused = cut_served(in, 1000000);
    expect_invariants(refused, file.size(), 1000000);
    EXPECT_EQ(refused.status, Cut::Status::Malformed);
    EXPECT_NE(refused.detail.find("262144 frames"), std::string::npos) << refused.detail;
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

}  // namespace
}  // namespace audio_stream
