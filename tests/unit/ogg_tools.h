// What the Ogg tests share (test_ogg.cpp, test_ogg_page.cpp, test_ogg_codec.cpp): an independent
// page reader and writer (bit by bit, none of the cutter's code) and the source files, made once
// per run through the shared fixture (format_fixture.h).
#ifndef AUDIO_STREAM_TESTS_UNIT_OGG_TOOLS_H
#define AUDIO_STREAM_TESTS_UNIT_OGG_TOOLS_H

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "src/formats/formats.h"
#include "tests/unit/cut_tools.h"
#include "tests/unit/format_fixture.h"

namespace audio_stream {
namespace ogg_test {

using namespace test_tools;
using Output = Command;

// cut_ogg as served (the dispatch names the cut).
inline Cut cut_served(ByteSource& src, Micros t)
{
    return test_tools::served_cut("audio/ogg", src, t);
}


inline bool have_tools()
{
    static const bool ok =
        run("command -v ffmpeg && command -v ffprobe && command -v oggenc && command -v ogginfo && "
            "command -v opusenc && command -v opusinfo")
            .status == 0;
    return ok;
}

// Mono 16-bit samples at the stream's rate.
inline std::vector<std::int16_t> decode(const std::string& path)
{
    return test_tools::decode_pcm<std::int16_t>(path, "-ac 1 -f s16le");
}

// The same as players place it: ffmpeg's command line writes out every decoded sample, those
// timed before 0 too (a Vorbis cut's first page trims them, Vorbis I §A.2, as ffmpeg times
// them) unless a filter drops them (atrim=start=0).
inline std::vector<std::int16_t> decode_played(const std::string& path)
{
    const std::string pcm = run("ffmpeg -v error -i '" + path + "' -af atrim=start=0 -ac 1 -f s16le - 2>/dev/null").output;
    std::vector<std::int16_t> samples(pcm.size() / 2);
    std::memcpy(samples.data(), pcm.data(), samples.size() * 2);
    return samples;
}

// The shared checks, and audio in every Ogg cut.
inline void expect_ogg_invariants(const Cut& cut, std::size_t file_size, const Span& span)
{
    test_tools::expect_invariants(cut, file_size, span);
    if (cut.status == Cut::Status::Ok) {
        EXPECT_GT(cut.duration, 0);
    }
}

// ---------------------------------------------------------------------------------------------
// An independent Ogg page reader and writer (RFC 3533 §6), bit by bit rather than by table.

inline std::uint32_t ogg_crc(const std::string& bytes)
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

inline std::uint64_t le(const std::string& s, std::size_t at, int n)
{
    std::uint64_t v = 0;
    for (int i = n - 1; i >= 0; --i) {
        v = v << 8 | static_cast<unsigned char>(s[at + i]);
    }
    return v;
}

inline void put_le(std::string& s, std::size_t at, int n, std::uint64_t v)
{
    for (int i = 0; i < n; ++i) {
        s[at + i] = static_cast<char>(v >> (8 * i));
    }
}

inline std::string header_bytes(const TestPage& p)
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
inline std::vector<TestPage> parse_pages(const std::string& s, std::string& error)
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

// A page of `like`'s stream with no packets and no granule position (RFC 3533 allows it).
inline TestPage empty_like(const TestPage& like)
{
    TestPage empty = like;
    empty.type = 0;
    empty.granule = -1;
    empty.lacing.clear();
    empty.body.clear();
    return empty;
}

inline std::string serialise(const std::vector<TestPage>& pages)
{
    std::string out;
    for (const auto& p : pages) {
        std::string page = header_bytes(p) + p.body;
        put_le(page, 22, 4, ogg_crc(page));
        out += page;
    }
    return out;
}

// RFC 3533 §6: the pages of one stream, numbered from 0, BOS on the first only and EOS on the
// last only, granule positions (other than -1) never decreasing, and the first audio page (after
// the two header pages) starting a fresh packet. The index of the first audio page with a granule
// position (0 if none).
inline std::size_t expect_one_stream(const std::vector<TestPage>& pages)
{
    std::int64_t last_granule = 0;
    std::size_t first_granule_page = 0;
    for (std::size_t i = 0; i < pages.size(); ++i) {
        EXPECT_EQ(pages[i].sequence, i);
        EXPECT_EQ(pages[i].serial, pages[0].serial);
        EXPECT_EQ((pages[i].type & 2) != 0, i == 0) << "BOS only on the first page";
        EXPECT_EQ((pages[i].type & 4) != 0, i + 1 == pages.size()) << "EOS only on the last page";
        if (pages[i].granule != -1) {
            EXPECT_GE(pages[i].granule, last_granule);
            last_granule = pages[i].granule;
            first_granule_page = i >= 2 && first_granule_page == 0 ? i : first_granule_page;
        }
    }
    EXPECT_TRUE(pages.size() > 2 && (pages[2].type & 1) == 0) << "the first audio page begins with a fresh packet";
    return first_granule_page;
}

// Moves the first 255-byte segment of each audio page's first packet to the end of the page
// before, so that a packet straddles every audio page boundary (RFC 3533 §6: continued flag).
inline std::string straddle(const std::string& file, std::size_t header_pages)
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

inline const Source kSources[] = {
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

struct Cached;

// What the shared fixture needs of Ogg files.
struct OggFormat : test_tools::FormatBase<Source, Cached> {
    static constexpr test_tools::FormatNames kNames{"ogg", "audio/ogg", ".ogg"};
    static constexpr const auto& kSources = ogg_test::kSources;

    static Cached make(const Source& s, const std::string& dir);

    static void expect_invariants(const Cut& cut, Offset file_size, const Span& span)
    {
        expect_ogg_invariants(cut, file_size, span);
    }
};

using OggFiles = test_tools::FormatFiles<OggFormat>;

inline const std::string& temp_dir() { return OggFiles::dir(); }

inline std::string make_file(const std::string& name, const std::string& command, std::string* errors = nullptr)
{
    const std::string out = temp_dir() + "/" + name + ".ogg";
    std::string c = replace_all(command, "{wav44}", kWav44);
    c = replace_all(replace_all(replace_all(c, "{wav48}", kWav48), "{out}", out), "{dir}", temp_dir());
    const Output r = run(c);
    EXPECT_EQ(r.status, 0) << c << "\n" << r.output;
    if (errors != nullptr && r.status != 0) {
        *errors = c + "\n" + r.output;
    }
    return out;
}

struct Cached {
    std::string path;
    std::string bytes;
    std::vector<std::int16_t> pcm;
    double probed = -1;
    std::string errors;  // what making the file printed, when it failed
};

inline Cached OggFormat::make(const Source& s, const std::string&)
{
    Cached c;
    if (!have_tools()) {
        c.errors = "needs ffmpeg, vorbis-tools and opus-tools";
        return c;
    }
    c.path = make_file(s.name, s.make, &c.errors);
    if (s.straddle) {
        spit(c.path, straddle(slurp(c.path), 2));
    }
    c.bytes = slurp(c.path);
    c.pcm = decode(c.path);
    c.probed = probe_duration(c.path);
    return c;
}

// A source file, made on first use.
inline const Cached& source(const Source& s) { return OggFiles::file(s); }

inline std::string info_command(Codec codec) { return codec == Codec::Vorbis ? "ogginfo" : "opusinfo"; }

// (Moved here from test_ogg.cpp: the clip tests use it too.)
// The offset of `part` within `whole` near `guess` (within `reach` samples), by least squares;
// sets `correlation` to the normalised correlation there. When no offset within `reach` keeps
// the window inside `whole`, returns reach + 1 with correlation 0 (and reads nothing past it).
inline long best_lag(const std::vector<std::int16_t>& whole, std::size_t guess, const std::vector<std::int16_t>& part,
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
    if (best_error < 0) {
        correlation = 0;
        return reach + 1;
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

// What ogginfo or opusinfo says of a file, checked to say no warning or error.
inline std::string expect_info_clean(Codec codec, const std::string& path)
{
    const Output r = run(info_command(codec) + " '" + path + "'");
    EXPECT_EQ(r.status, 0) << r.output;
    for (const char* bad : {"WARNING", "Warning", "ERROR", "Error", "error"}) {
        EXPECT_EQ(r.output.find(bad), std::string::npos) << r.output;
    }
    return r.output;
}

// The playback length opusinfo prints (whole milliseconds), in seconds; -1 if it prints none.
inline double playback_seconds(const std::string& info)
{
    const auto at = info.find("Playback length: ");
    int minutes = 0;
    double seconds = 0;
    if (at == std::string::npos ||
        std::sscanf(info.c_str() + at, "Playback length: %dm:%lfs", &minutes, &seconds) != 2) {
        return -1;
    }
    return minutes * 60 + seconds;
}

// RFC 7845 §5.1: the pre-skip of the OpusHead on the first page.
inline std::int64_t pre_skip(const std::string& file)
{
    const std::size_t body = 27 + static_cast<unsigned char>(file[26]);
    return static_cast<std::int64_t>(le(file, body + 10, 2));
}

}  // namespace ogg_test
}  // namespace audio_stream

#endif
