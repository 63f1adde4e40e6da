// cut_ogg: a cut is a complete Ogg Vorbis or Ogg Opus file (RFC 3533, Vorbis I, RFC 7845) that
// starts at or before t. Files are made at test time with ffmpeg, oggenc and opusenc (and
// re-paged here so that packets straddle pages), cut in memory, written out, and judged by
// an independent page walker, ogginfo/opusinfo, ffmpeg, ffprobe and the decoded audio.
#include "src/formats/ogg.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <optional>
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

using test_tools::materialise;
using test_tools::probe_duration;
using test_tools::run;
using test_tools::slurp;
using test_tools::spit;
using Output = test_tools::Command;

// cut_ogg as served (the dispatch names the cut).
Cut cut_served(ByteSource& src, Micros t)
{
    return test_tools::served_cut("audio/ogg", src, t);
}

const std::string& temp_dir()
{
    static const test_tools::TempDir dir("ogg");
    return dir.path();
}

bool have_tools()
{
    static const bool ok =
        run("command -v ffmpeg && command -v ffprobe && command -v oggenc && command -v ogginfo && "
            "command -v opusenc && command -v opusinfo")
            .status == 0;
    return ok;
}

// Mono 16-bit samples at the stream's rate.
std::vector<std::int16_t> decode(const std::string& path)
{
    return test_tools::decode_pcm<std::int16_t>(path, "-ac 1 -f s16le");
}

// The shared checks, and audio in every Ogg cut.
void expect_invariants(const Cut& cut, std::size_t file_size, Micros t)
{
    test_tools::expect_invariants(cut, file_size, t);
    if (cut.status == Cut::Status::Ok) {
        EXPECT_GT(cut.duration, 0);
    }
}

// ---------------------------------------------------------------------------------------------
// An independent Ogg page reader and writer (RFC 3533 §6), bit by bit rather than by table.

std::uint32_t ogg_crc(const std::string& bytes)
{
    std::uint32_t crc = 0;
    for (unsigned char c : bytes) {
        for (int bit = 7; bit >= 0; --bit) {
            const bool top = ((crc >> 31) & 1) != ((c >> bit) & 1);
            crc = (crc << 1) ^ (top ? 0x04C11DB7u : 0);
        }
    }
    return crc;
}

struct TestPage {
    unsigned type = 0;
    std::int64_t granule = 0;
    std::uint32_t serial = 0;
    std::uint32_t sequence = 0;
    std::uint32_t crc = 0;
    std::vector<unsigned char> lacing;
    std::string body;
};

std::uint64_t le(const std::string& s, std::size_t at, int n)
{
    std::uint64_t v = 0;
    for (int i = n - 1; i >= 0; --i) {
        v = v << 8 | static_cast<unsigned char>(s[at + i]);
    }
    return v;
}

void put_le(std::string& s, std::size_t at, int n, std::uint64_t v)
{
    for (int i = 0; i < n; ++i) {
        s[at + i] = static_cast<char>(v >> (8 * i));
    }
}

std::string header_bytes(const TestPage& p)
{
    std::string h(27, '\0');
    h.replace(0, 4, "OggS");
    h[5] = static_cast<char>(p.type);
    put_le(h, 6, 8, static_cast<std::uint64_t>(p.granule));
    put_le(h, 14, 4, p.serial);
    put_le(h, 18, 4, p.sequence);
    h[26] = static_cast<char>(p.lacing.size());
    h.append(p.lacing.begin(), p.lacing.end());
    return h;
}

// Pages laid end to end from offset 0, or an error naming the first problem.
std::vector<TestPage> parse_pages(const std::string& s, std::string& error)
{
    std::vector<TestPage> pages;
    for (std::size_t at = 0; at < s.size();) {
        if (s.size() - at < 27 || s.compare(at, 4, "OggS") != 0 || s[at + 4] != 0) {
            error = "no page at " + std::to_string(at);
            return pages;
        }
        TestPage p;
        p.type = static_cast<unsigned char>(s[at + 5]);
        p.granule = static_cast<std::int64_t>(le(s, at + 6, 8));
        p.serial = static_cast<std::uint32_t>(le(s, at + 14, 4));
        p.sequence = static_cast<std::uint32_t>(le(s, at + 18, 4));
        p.crc = static_cast<std::uint32_t>(le(s, at + 22, 4));
        const std::size_t n = static_cast<unsigned char>(s[at + 26]);
        if (s.size() - at < 27 + n) {
            error = "truncated lacing at " + std::to_string(at);
            return pages;
        }
        std::size_t body = 0;
        for (std::size_t i = 0; i < n; ++i) {
            p.lacing.push_back(static_cast<unsigned char>(s[at + 27 + i]));
            body += p.lacing.back();
        }
        if (s.size() - at - 27 - n < body) {
            error = "truncated body at " + std::to_string(at);
            return pages;
        }
        p.body = s.substr(at + 27 + n, body);
        std::string check = s.substr(at, 27 + n + body);
        put_le(check, 22, 4, 0);
        if (ogg_crc(check) != p.crc) {
            error = "bad CRC on page " + std::to_string(pages.size());
            return pages;
        }
        pages.push_back(std::move(p));
        at += 27 + n + body;
    }
    return pages;
}

std::string serialise(const std::vector<TestPage>& pages)
{
    std::string out;
    for (const auto& p : pages) {
        std::string page = header_bytes(p) + p.body;
        put_le(page, 22, 4, ogg_crc(page));
        out += page;
    }
    return out;
}

// Moves the first 255-byte segment of each audio page's first packet to the end of the page
// before, so that a packet straddles every audio page boundary (RFC 3533 §6: continued flag).
std::string straddle(const std::string& file, std::size_t header_pages)
{
    std::string error;
    auto pages = parse_pages(file, error);
    for (std::size_t k = header_pages; k + 1 < pages.size(); ++k) {
        TestPage& a = pages[k];
        TestPage& b = pages[k + 1];
        if ((b.type & 1) || b.lacing.empty() || b.lacing[0] != 255 || a.lacing.size() >= 255 || b.lacing.size() < 2) {
            continue;
        }
        a.lacing.push_back(255);
        a.body += b.body.substr(0, 255);
        b.lacing.erase(b.lacing.begin());
        b.body.erase(0, 255);
        b.type |= 1;
    }
    return serialise(pages);
}

// ---------------------------------------------------------------------------------------------
// Source files, made once per run.

enum class Codec { Vorbis, Opus };

struct Source {
    const char* name;
    const char* make;  // {out}: the file to write; {dir}: the temp dir
    Codec codec;
    unsigned rate;
    bool straddle;     // re-page so that packets straddle pages
};

// Pink noise under a tone: decoded audio has one unambiguous alignment.
constexpr const char* kWav44 =
    "ffmpeg -v error -y -f lavfi -i anoisesrc=d=20:c=pink:r=44100:a=0.3:s=5 -f lavfi -i "
    "sine=frequency=440:duration=20:sample_rate=44100 -filter_complex amix=inputs=2 -ac 2 '{dir}/noise44.wav'";
constexpr const char* kWav48 =
    "ffmpeg -v error -y -f lavfi -i anoisesrc=d=20:c=pink:r=48000:a=0.3:s=5 -f lavfi -i "
    "sine=frequency=440:duration=20:sample_rate=48000 -filter_complex amix=inputs=2 -ac 2 '{dir}/noise48.wav'";

const Source kSources[] = {
    {"FfmpegVorbis", "{wav44} && ffmpeg -v error -i '{dir}/noise44.wav' -c:a libvorbis '{out}'", Codec::Vorbis, 44100,
     false},
    {"OggencVorbis", "{wav44} && oggenc -Q -o '{out}' '{dir}/noise44.wav'", Codec::Vorbis, 44100, false},
    {"FfmpegVorbisStraddling", "{wav44} && ffmpeg -v error -i '{dir}/noise44.wav' -c:a libvorbis -q:a 8 '{out}'",
     Codec::Vorbis, 44100, true},
    {"FfmpegOpus", "{wav48} && ffmpeg -v error -i '{dir}/noise48.wav' -c:a libopus '{out}'", Codec::Opus, 48000,
     false},
    {"OpusencOpus", "{wav48} && opusenc --quiet '{dir}/noise48.wav' '{out}'", Codec::Opus, 48000, false},
    {"OpusencOpusStraddling", "{wav48} && opusenc --quiet --bitrate 160 '{dir}/noise48.wav' '{out}'", Codec::Opus,
     48000, true},
};

std::string replace_all(std::string s, const std::string& from, const std::string& to)
{
    for (std::size_t at = 0; (at = s.find(from, at)) != std::string::npos; at += to.size()) {
        s.replace(at, from.size(), to);
    }
    return s;
}

std::string make_file(const std::string& name, const std::string& command)
{
    const std::string out = temp_dir() + "/" + name + ".ogg";
    std::string c = replace_all(command, "{wav44}", kWav44);
    c = replace_all(replace_all(replace_all(c, "{wav48}", kWav48), "{out}", out), "{dir}", temp_dir());
    const Output r = run(c);
    EXPECT_EQ(r.status, 0) << c << "\n" << r.output;
    return out;
}

struct Cached {
    std::string path;
    std::string bytes;
    std::vector<std::int16_t> pcm;
    double probed;
};

const Cached& source(const Source& s)
{
    static std::map<std::string, Cached> cache;
    auto it = cache.find(s.name);
    if (it == cache.end()) {
        std::string path = make_file(s.name, s.make);
        if (s.straddle) {
            spit(path, straddle(slurp(path), 2));
        }
        it = cache.emplace(s.name, Cached{path, slurp(path), decode(path), probe_duration(path)}).first;
    }
    return it->second;
}

std::string info_command(Codec codec) { return codec == Codec::Vorbis ? "ogginfo" : "opusinfo"; }

// RFC 7845 §5.1: the pre-skip of the OpusHead on the first page.
std::int64_t pre_skip(const std::string& file)
{
    const std::size_t body = 27 + static_cast<unsigned char>(file[26]);
    return static_cast<std::int64_t>(le(file, body + 10, 2));
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
    {"At50ms", 50000, Cut::Status::Ok},
    {"At1_5s", 1500000, Cut::Status::Ok},
    {"At7s", 7000000, Cut::Status::Ok},
    {"At12_345678s", 12345678, Cut::Status::Ok},
    {"At19_9s", 19900000, Cut::Status::Ok},
    {"AtEnd", 20000000, Cut::Status::PastEnd},
    {"At1000s", 1000000000, Cut::Status::PastEnd},
};

class OggCut : public ::testing::TestWithParam<std::tuple<Source, Time>> {
protected:
    void SetUp() override
    {
        ASSERT_TRUE(have_tools()) << "needs ffmpeg, vorbis-tools and opus-tools";
        src_ = std::get<0>(GetParam());
        time_ = std::get<1>(GetParam());
        const Cached& c = source(src_);
        ASSERT_FALSE(c.bytes.empty());
        MemorySource in(c.bytes);
        cut_ = cut_served(in, time_.t);
        expect_invariants(cut_, c.bytes.size(), time_.t);
        ASSERT_EQ(cut_.status, time_.status) << cut_.detail;
        if (cut_.status == Cut::Status::Ok) {
            bytes_ = materialise(c.bytes, cut_.rep);
            path_ = temp_dir() + "/cut_" + src_.name + "_" + time_.name + ".ogg";
            spit(path_, bytes_);
        }
    }

    bool ok() const { return cut_.status == Cut::Status::Ok; }

    Source src_{};
    Time time_{};
    Cut cut_;
    std::string bytes_;
    std::string path_;
};

TEST_P(OggCut, StartsAtOrBeforeT)
{
    if (!ok()) {
        return;
    }
    if (src_.codec == Codec::Opus) {
        // Opus: pre-roll and pre-skip make the start exact to the sample (1/48000 s).
        EXPECT_NEAR(static_cast<double>(cut_.start), static_cast<double>(time_.t), 1e6 / 48000);
    }
    else {
        // Vorbis: a page boundary; these encoders write at most about a second per page.
        EXPECT_LT(time_.t - cut_.start, 1100000);
    }
}

TEST_P(OggCut, Rfc3533_PagesRenumberedRebasedAndCrcChecked)
{
    if (!ok()) {
        return;
    }
    std::string error;
    const auto pages = parse_pages(bytes_, error);
    ASSERT_EQ(error, "");
    ASSERT_GE(pages.size(), 3u);
    std::int64_t last_granule = 0;
    for (std::size_t i = 0; i < pages.size(); ++i) {
        EXPECT_EQ(pages[i].sequence, i);
        EXPECT_EQ(pages[i].serial, pages[0].serial);
        EXPECT_EQ((pages[i].type & 2) != 0, i == 0) << "BOS only on the first page";
        EXPECT_EQ((pages[i].type & 4) != 0, i + 1 == pages.size()) << "EOS only on the last page";
        if (pages[i].granule != -1) {
            EXPECT_GE(pages[i].granule, last_granule);
            last_granule = pages[i].granule;
        }
    }
    // The first audio page begins with a fresh packet.
    EXPECT_EQ(pages[2].type & 1, 0u);
    if (src_.codec == Codec::Opus) {
        // RFC 7845 §4.6: at least 80 ms of pre-roll, unless the cut is at the stream's start.
        if (time_.t >= 80000) {
            EXPECT_GE(pre_skip(bytes_), 3840);
        }
        EXPECT_NEAR(static_cast<double>(last_granule - pre_skip(bytes_)) * 1e6 / 48000,
                    static_cast<double>(cut_.duration), 21.0);
    }
    else {
        EXPECT_NEAR(static_cast<double>(last_granule) * 1e6 / src_.rate, static_cast<double>(cut_.duration), 23.0);
    }
}

TEST_P(OggCut, InfoToolIsClean)
{
    if (!ok()) {
        return;
    }
    const Output r = run(info_command(src_.codec) + " '" + path_ + "'");
    EXPECT_EQ(r.status, 0) << r.output;
    for (const char* bad : {"WARNING", "Warning", "ERROR", "Error", "error"}) {
        EXPECT_EQ(r.output.find(bad), std::string::npos) << r.output;
    }
}

TEST_P(OggCut, FfmpegDecodesWithoutErrors)
{
    if (!ok()) {
        return;
    }
    const Output r = run("ffmpeg -v error -i '" + path_ + "' -f null -");
    EXPECT_EQ(r.status, 0);
    EXPECT_EQ(r.output, "");
}

TEST_P(OggCut, DurationIsOriginalLessStart)
{
    if (!ok()) {
        return;
    }
    const double start = static_cast<double>(cut_.start) / 1e6;
    const double probed = probe_duration(path_);
    if (src_.codec == Codec::Opus) {
        // ffprobe counts an Opus stream from granule 0, pre-skip included: compare like with like.
        const double skip_change = static_cast<double>(pre_skip(bytes_) - pre_skip(source(src_).bytes)) / 48000;
        EXPECT_NEAR(probed, source(src_).probed - start + skip_change, 1e-3);
        // opusinfo subtracts the pre-skip: the playback length is exact (printed in ms).
        const std::string info = run("opusinfo '" + path_ + "'").output;
        const auto at = info.find("Playback length: ");
        ASSERT_NE(at, std::string::npos) << info;
        int minutes = 0;
        double seconds = 0;
        ASSERT_EQ(std::sscanf(info.c_str() + at, "Playback length: %dm:%lfs", &minutes, &seconds), 2);
        EXPECT_NEAR(minutes * 60 + seconds, 20.0 - start, 1.5e-3);
        EXPECT_NEAR(static_cast<double>(cut_.duration) / 1e6, 20.0 - start, 1e-5);
    }
    else {
        EXPECT_NEAR(probed, source(src_).probed - start, 1e-5);
        EXPECT_NEAR(static_cast<double>(cut_.duration) / 1e6, source(src_).probed - start, 1e-5);
    }
}

// The offset of `part` within `whole` near `guess` (within `reach` samples), by least squares;
// sets `correlation` to the normalised correlation there.
long best_lag(const std::vector<std::int16_t>& whole, std::size_t guess, const std::vector<std::int16_t>& part,
              std::size_t from, std::size_t length, long reach, double& correlation)
{
    long best = 0;
    double best_error = -1;
    for (long lag = -reach; lag <= reach; ++lag) {
        const long at = static_cast<long>(guess) + lag;
        if (at < 0 || static_cast<std::size_t>(at) + length > whole.size()) {
            continue;
        }
        double error = 0;
        for (std::size_t i = 0; i < length; i += 3) {
            const double d = double(whole[at + i]) - part[from + i];
            error += d * d;
        }
        if (best_error < 0 || error < best_error) {
            best_error = error;
            best = lag;
        }
    }
    double xy = 0;
    double xx = 0;
    double yy = 0;
    for (std::size_t i = 0; i < length; ++i) {
        const double x = whole[guess + best + i];
        const double y = part[from + i];
        xy += x * y;
        xx += x * x;
        yy += y * y;
    }
    correlation = xy / std::sqrt(xx * yy + 1e-9);
    return best;
}

TEST_P(OggCut, DecodedAudioMatchesOriginalAtStart)
{
    if (!ok()) {
        return;
    }
    const auto& original = source(src_).pcm;
    const auto cut = decode(path_);
    const auto start = static_cast<std::size_t>((static_cast<std::uint64_t>(cut_.start) * src_.rate + 999999) / 1000000);
    const std::size_t window = std::min<std::size_t>(4096, cut.size());
    ASSERT_GT(window, 1000u);
    double correlation = 0;
    if (src_.codec == Codec::Opus) {
        // The pre-roll has converged the decoder: the very first samples match.
        const long lag = best_lag(original, start, cut, 0, window, 960, correlation);
        EXPECT_EQ(lag, 0);
        EXPECT_GT(correlation, 0.99);
    }
    else {
        // Vorbis: the first packet only primes the decoder (Vorbis I §1.3.2), so the output
        // begins up to half a long block (1024 samples here) after the page boundary.
        const long lag = best_lag(original, start + 1024, cut, 0, window, 1100, correlation);
        EXPECT_GE(lag, -1024);
        EXPECT_LE(lag, 0);
        EXPECT_GT(correlation, 0.95);
    }
    // And the cut plays to the original's end: the sample counts agree (same alignment).
    EXPECT_NEAR(static_cast<double>(cut.size()), static_cast<double>(original.size() - start), 1024.0);
}

std::string cut_name(const ::testing::TestParamInfo<std::tuple<Source, Time>>& info)
{
    return std::string(std::get<0>(info.param).name) + "_" + std::get<1>(info.param).name;
}

INSTANTIATE_TEST_SUITE_P(Sources, OggCut, ::testing::Combine(::testing::ValuesIn(kSources), ::testing::ValuesIn(kTimes)),
                         cut_name);

TEST(OggSource, StraddlingSourcesReallyStraddleAndAreValid)
{
    ASSERT_TRUE(have_tools());
    for (const Source& s : kSources) {
        if (!s.straddle) {
            continue;
        }
        std::string error;
        const auto pages = parse_pages(source(s).bytes, error);
        ASSERT_EQ(error, "");
        std::size_t continued = 0;
        for (const auto& p : pages) {
            continued += p.type & 1;
        }
        EXPECT_GT(continued * 2, pages.size()) << s.name;
        const Output r = run(info_command(s.codec) + " '" + source(s).path + "'");
        EXPECT_EQ(r.output.find("WARNING"), std::string::npos) << r.output;
    }
}

TEST(OggCutShape, CutAtZeroOfVorbisIsTheWholeFile)
{
    ASSERT_TRUE(have_tools());
    const Cached& c = source(kSources[0]);
    MemorySource in(c.bytes);
    const Cut cut = cut_served(in, 0);
    ASSERT_EQ(cut.status, Cut::Status::Ok);
    EXPECT_EQ(cut.rep.extents, (Extents{FileExtent{0, c.bytes.size()}}));
    EXPECT_EQ(cut.duration, 20000000);
}

TEST(OggCutShape, EachRewrittenPageCostsTwoExtentsAndNoAudioIsCopied)
{
    ASSERT_TRUE(have_tools());
    for (const Source& s : kSources) {
        const Cached& c = source(s);
        MemorySource in(c.bytes);
        const Cut cut = cut_served(in, 7000000);
        ASSERT_EQ(cut.status, Cut::Status::Ok) << s.name;
        std::string error;
        const auto pages = parse_pages(materialise(c.bytes, cut.rep), error);
        std::size_t memory = 0;
        for (const auto& e : cut.rep.extents) {
            if (const auto* m = std::get_if<MemoryBlock>(&e)) {
                memory += m->bytes.size();
            }
        }
        // At most one page rebuilt whole (the cut page, 27 + 255 bytes), 21 bytes a page else.
        EXPECT_LE(memory, 282 + 21 * pages.size()) << s.name;
        EXPECT_LE(cut.rep.extents.size(), 2 * pages.size() + 4) << s.name;
    }
}

TEST(OggCutShape, SameInputSameCut)
{
    ASSERT_TRUE(have_tools());
    const Cached& c = source(kSources[3]);
    MemorySource a(c.bytes);
    MemorySource b(c.bytes);
    const Cut x = cut_served(a, 5000000);
    const Cut y = cut_served(b, 5000000);
    EXPECT_EQ(x.rep.extents, y.rep.extents);
    EXPECT_EQ(x.rep.etag_suffix, y.rep.etag_suffix);
}

TEST(OggCutShape, CutOfTheCutStartsWhereOneCutWould)
{
    ASSERT_TRUE(have_tools());
    const Cached& c = source(kSources[4]);
    MemorySource in(c.bytes);
    const Cut first = cut_served(in, 5000000);
    ASSERT_EQ(first.status, Cut::Status::Ok);
    const std::string once = materialise(c.bytes, first.rep);
    MemorySource again(once);
    const Cut second = cut_served(again, 3000000);
    ASSERT_EQ(second.status, Cut::Status::Ok) << second.detail;
    EXPECT_EQ(second.start, 3000000);
    EXPECT_EQ(second.duration, 12000000);
}

// ---------------------------------------------------------------------------------------------
// Chained, multiplexed, other codecs.

TEST(OggStreams, ChainedFileIsCutWithinItsFirstStream)
{
    ASSERT_TRUE(have_tools());
    const std::string first = source(kSources[4]).bytes;
    const std::string second =
        slurp(make_file("chain_second", "ffmpeg -v error -f lavfi -i sine=duration=5 -c:a libopus '{out}'"));
    const std::string chained = first + second;
    MemorySource in(chained);
    const Cut cut = cut_served(in, 7000000);
    expect_invariants(cut, chained.size(), 7000000);
    ASSERT_EQ(cut.status, Cut::Status::Ok) << cut.detail;
    EXPECT_EQ(cut.duration, 13000000);
    std::string error;
    const auto pages = parse_pages(materialise(chained, cut.rep), error);
    ASSERT_EQ(error, "");
    for (const auto& p : pages) {
        EXPECT_EQ(p.serial, pages[0].serial);
    }
    MemorySource late(chained);
    EXPECT_EQ(cut_served(late, 22000000).status, Cut::Status::PastEnd);
}

struct StreamCase {
    const char* name;
    const char* make;
    const char* detail;
};

const StreamCase kStreamCases[] = {
    {"MultiplexedIsRejected",
     "ffmpeg -v error -f lavfi -i sine=duration=3 -f lavfi -i sine=frequency=880:duration=3 -map 0 -map 1 "
     "-c:a libvorbis '{out}'",
     "multiplexed Ogg"},
    {"OggFlacIsAnUnsupportedCodec", "ffmpeg -v error -f lavfi -i sine=duration=3 -c:a flac -f ogg '{out}'",
     "unsupported Ogg codec"},
};

class OggStreamKinds : public ::testing::TestWithParam<StreamCase> {};

TEST_P(OggStreamKinds, AreMalformedWithTheirDetail)
{
    ASSERT_TRUE(have_tools());
    const std::string bytes = slurp(make_file(GetParam().name, GetParam().make));
    ASSERT_FALSE(bytes.empty());
    MemorySource in(bytes);
    const Cut cut = cut_served(in, 1000000);
    expect_invariants(cut, bytes.size(), 1000000);
    EXPECT_EQ(cut.status, Cut::Status::Malformed);
    EXPECT_EQ(cut.detail, GetParam().detail);
}

INSTANTIATE_TEST_SUITE_P(Kinds, OggStreamKinds, ::testing::ValuesIn(kStreamCases),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(OggStreams, SpeexIsAnUnsupportedCodec)
{
    TestPage bos;
    bos.type = 2;
    bos.serial = 7;
    bos.body = std::string("Speex   1.2") + std::string(69, '\0');
    bos.lacing = {static_cast<unsigned char>(bos.body.size())};
    const std::string bytes = serialise({bos});
    MemorySource in(bytes);
    const Cut cut = cut_served(in, 0);
    expect_invariants(cut, bytes.size(), 0);
    EXPECT_EQ(cut.status, Cut::Status::Malformed);
    EXPECT_EQ(cut.detail, "unsupported Ogg codec");
}

// ---------------------------------------------------------------------------------------------
// Malformed and hostile input: a status and a detail, never a crash or a hang.

struct BadCase {
    const char* name;
    std::function<std::string(const std::string&)> damage;  // applied to a valid Opus file
    std::optional<Cut::Status> status;                      // nullopt: any, as long as it holds
};

std::vector<BadCase> bad_cases()
{
    return {
        {"Empty", [](const std::string&) { return std::string(); }, Cut::Status::Malformed},
        {"CapturePatternOnly", [](const std::string&) { return std::string("OggS"); }, Cut::Status::Malformed},
        {"RandomBytes",
         [](const std::string&) {
             std::mt19937 random(3);
             std::string s(100000, '\0');
             for (char& c : s) {
                 c = static_cast<char>(random());
             }
             return s;
         },
         Cut::Status::Malformed},
        {"Rfc3533_FirstPageMustBeBos",
         [](const std::string& f) {
             std::string s = f;
             s[5] = 0;
             return s;
         },
         Cut::Status::Malformed},
        {"Rfc3533_BadCrcOnFirstPage",
         [](const std::string& f) {
             std::string s = f;
             s[22] ^= 1;
             return s;
         },
         Cut::Status::Malformed},
        {"Rfc3533_VersionMustBeZero",
         [](const std::string& f) {
             std::string s = f;
             s[4] = 1;
             return s;
         },
         Cut::Status::Malformed},
        {"LacingPastTheEnd", [](const std::string& f) { return f.substr(0, 40); }, Cut::Status::Malformed},
        {"HeadersTruncated", [](const std::string& f) { return f.substr(0, 100); }, Cut::Status::Malformed},
        {"HeadersOnlyHaveNoAudio",
         [](const std::string& f) {
             std::string error;
             auto pages = parse_pages(f, error);
             pages.resize(2);
             return serialise(pages);
         },
         Cut::Status::PastEnd},
        {"Rfc7845_AudioSharingTheTagsPageIsRejected",
         [](const std::string& f) {
             std::string error;
             auto pages = parse_pages(f, error);
             pages[1].lacing.insert(pages[1].lacing.end(), pages[2].lacing.begin(), pages[2].lacing.end());
             pages[1].body += pages[2].body;
             pages.erase(pages.begin() + 2);
             return serialise(pages);
         },
         Cut::Status::Malformed},
        {"CapturePatternFloodIsBounded",
         [](const std::string& f) {
             std::string error;
             auto pages = parse_pages(f, error);
             pages.resize(3);
             std::string s = serialise(pages);
             // Page headers of the right stream whose CRCs never match, 40 MB of them.
             std::string fake = s.substr(s.size() - pages[2].body.size() - 27 - pages[2].lacing.size());
             fake[22] ^= 1;
             while (s.size() < (40u << 20)) {
                 s += fake;
             }
             return s;
         },
         std::nullopt},
    };
}

class OggMalformed : public ::testing::TestWithParam<BadCase> {};

TEST_P(OggMalformed, IsRejectedWithADetail)
{
    ASSERT_TRUE(have_tools());
    const std::string bytes = GetParam().damage(source(kSources[4]).bytes);
    for (const Micros t : {Micros{0}, Micros{15000000}, Micros{-5}}) {
        MemorySource in(bytes);
        const Cut cut = cut_served(in, t);
        expect_invariants(cut, bytes.size(), t);
        if (GetParam().status == Cut::Status::Malformed) {
            EXPECT_EQ(cut.status, Cut::Status::Malformed);
            EXPECT_FALSE(cut.detail.empty());
        }
        else if (GetParam().status && t > 0) {
            EXPECT_EQ(cut.status, *GetParam().status);
        }
    }
}

INSTANTIATE_TEST_SUITE_P(Inputs, OggMalformed, ::testing::ValuesIn(bad_cases()),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(OggHostile, TruncatedFilesCutWithinWhatIsThere)
{
    ASSERT_TRUE(have_tools());
    for (const std::size_t which : {std::size_t{0}, std::size_t{4}}) {
        const std::string& file = source(kSources[which]).bytes;
        for (std::size_t len = 0; len < file.size(); len += 1499) {
            const std::string part = file.substr(0, len);
            for (const Micros t : {Micros{0}, Micros{3000000}, Micros{15000000}}) {
                MemorySource in(part);
                const Cut cut = cut_served(in, t);
                expect_invariants(cut, part.size(), t);
                if (cut.status == Cut::Status::Ok) {
                    // A truncated stream still ends with an EOS page, its CRCs all valid.
                    std::string error;
                    const auto pages = parse_pages(materialise(part, cut.rep), error);
                    EXPECT_EQ(error, "");
                    ASSERT_FALSE(pages.empty());
                    EXPECT_TRUE(pages.back().type & 4);
                }
            }
        }
    }
}

TEST(OggHostile, RandomlyDamagedFilesNeverBreakTheInvariants)
{
    ASSERT_TRUE(have_tools());
    std::mt19937 random(13);
    for (const std::size_t which : {std::size_t{1}, std::size_t{5}}) {
        const std::string& file = source(kSources[which]).bytes;
        for (int round = 0; round < 300; ++round) {
            std::string damaged = file;
            const int flips = 1 + static_cast<int>(random() % 16);
            for (int i = 0; i < flips; ++i) {
                // Half the damage in the first pages, where the headers are.
                const std::size_t at = (random() % 2) ? random() % 4096 : random() % damaged.size();
                damaged[at] = static_cast<char>(random());
            }
            const Micros t = static_cast<Micros>(random() % 21000000);
            MemorySource in(damaged);
            const Cut cut = cut_served(in, t);
            expect_invariants(cut, damaged.size(), t);
        }
    }
}

// A last page whose granule position is near 2^63 gives a long cut, never a negative duration
// (the microseconds overflowed 64 bits). Found by tests/fuzz/fuzz_ogg.
TEST(OggHostile, HugeLastGranuleSaturatesTheDuration)
{
    ASSERT_TRUE(have_tools());
    for (const std::size_t which : {std::size_t{0}, std::size_t{4}}) {
        std::string file = source(kSources[which]).bytes;
        const std::size_t last = file.rfind("OggS");
        ASSERT_NE(last, std::string::npos);
        for (int i = 0; i < 8; ++i) {  // granule position: bytes 6-13, little-endian
            file[last + 6 + i] = static_cast<char>(i == 7 ? 0x7f : 0xf0);
        }
        MemorySource in(file);
        const Cut cut = cut_served(in, 3000000);
        expect_invariants(cut, file.size(), 3000000);
        ASSERT_EQ(cut.status, Cut::Status::Ok) << cut.detail;
        EXPECT_EQ(cut.duration, std::numeric_limits<Micros>::max());
    }
}

}  // namespace
}  // namespace audio_stream
