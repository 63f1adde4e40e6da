// What the MP3 tests share (test_mp3.cpp, test_layouts.cpp): byte builders for hand-made
// streams (big-endian and syncsafe numbers, ID3v2 tags, repeated frames) and the source files,
// made once per run by ffmpeg through the shared fixture (format_fixture.h).
#ifndef AUDIO_STREAM_TESTS_UNIT_MP3_TOOLS_H
#define AUDIO_STREAM_TESTS_UNIT_MP3_TOOLS_H

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "src/formats/mp3/frame.h"
#include "src/formats/formats.h"
#include "tests/unit/cut_tools.h"
#include "tests/unit/format_fixture.h"

namespace audio_stream {
namespace mp3_test {

using namespace test_tools;

// ---- bytes ----------------------------------------------------------------------------------

inline std::uint32_t be32(const std::string& s, std::size_t at)
{
    const auto* p = reinterpret_cast<const unsigned char*>(s.data() + at);
    return static_cast<std::uint32_t>(p[0]) << 24 | p[1] << 16 | p[2] << 8 | p[3];
}

inline std::string be32s(std::uint32_t v)
{
    return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
            static_cast<char>(v)};
}

inline std::string syncsafe(std::uint32_t v)
{
    return {static_cast<char>(v >> 21 & 0x7F), static_cast<char>(v >> 14 & 0x7F),
            static_cast<char>(v >> 7 & 0x7F), static_cast<char>(v & 0x7F)};
}

// Size of the ID3v2 tag at the start of `b` (0 if none).
inline std::size_t id3_size(const std::string& b)
{
    if (b.compare(0, 3, "ID3") != 0) {
        return 0;
    }
    const auto* p = reinterpret_cast<const unsigned char*>(b.data());
    return 10 + (p[6] << 21 | p[7] << 14 | p[8] << 7 | p[9]) + (p[3] == 4 && (p[5] & 0x10) ? 10 : 0);
}

// An ID3v2.3 (or .4) tag holding text frames {id, body}.
inline std::string id3_tag(const std::vector<std::pair<std::string, std::string>>& frames,
                           unsigned major = 3, unsigned flags = 0)
{
    std::string body;
    for (const auto& [id, data] : frames) {
        const auto size = static_cast<std::uint32_t>(data.size());
        body += id + (major == 4 ? syncsafe(size) : be32s(size)) + std::string(2, '\0') + data;
    }
    body += std::string(16, '\0');  // padding
    const std::string head = std::string("ID3") + static_cast<char>(major) + '\0' +
                             static_cast<char>(flags) + syncsafe(static_cast<std::uint32_t>(body.size()));
    std::string tag = head + body;
    if (flags & 0x10) {
        tag += "3DI" + head.substr(3);
    }
    return tag;
}

// Offsets of the consecutive frames from pos while headers parse and fit.
inline std::vector<std::size_t> frame_offsets(const std::string& b, std::size_t pos)
{
    std::vector<std::size_t> out;
    while (pos + 4 <= b.size()) {
        const auto h = parse_mp3_header(be32(b, pos));
        if (!h || h->size > b.size() - pos) {
            break;
        }
        out.push_back(pos);
        pos += h->size;
    }
    return out;
}

// n copies of a frame of `size` bytes: the header `raw`, then zeros.
inline std::string repeat_frames(std::uint32_t raw, unsigned size, int n)
{
    std::string frame = be32s(raw) + std::string(size - 4, '\0');
    std::string out;
    for (int i = 0; i < n; ++i) {
        out += frame;
    }
    return out;
}

// How many of the n samples of b from b_at differ from a's from a_at (interleaved: counts and
// offsets in samples of all channels). Moved from test_mp3_clip.cpp, for the cut tests too.
inline std::uint64_t differing(const std::vector<std::int16_t>& b, std::uint64_t b_at,
                               const std::vector<std::int16_t>& a, std::uint64_t a_at, std::uint64_t n)
{
    std::uint64_t count = 0;
    for (std::uint64_t i = 0; i < n; ++i) {
        count += b[b_at + i] != a[a_at + i];
    }
    return count;
}

// What a cut's (or a file's) Xing/Info frame at `at` says, read as a player would (moved from
// test_mp3.cpp, for the clip tests too).
struct XingView {
    bool ok = false;
    std::size_t at = 0;  // offset of the frame in the cut
    Mp3Header header{};
    std::string id;      // "Xing" or "Info"
    std::uint32_t flags = 0;
    std::uint32_t frames = 0;
    std::uint32_t bytes = 0;
    std::vector<unsigned> toc;
    bool lame = false;   // a LAME extension follows
    std::string lame_name;
    unsigned delay = 0;  // its encoder delay and padding
    unsigned padding = 0;
};

inline XingView read_xing(const std::string& cut, std::size_t at)
{
    XingView x;
    x.at = at;
    if (cut.size() < at + 4) {
        return x;
    }
    const auto h = parse_mp3_header(be32(cut, at));
    if (!h || cut.size() < at + h->size) {
        return x;
    }
    x.header = *h;
    std::size_t p = at + 4 + h->side_info;
    x.id = cut.substr(p, 4);
    x.flags = be32(cut, p + 4);
    x.frames = be32(cut, p + 8);
    x.bytes = be32(cut, p + 12);
    if (x.flags & 4) {
        for (int i = 0; i < 100; ++i) {
            x.toc.push_back(static_cast<unsigned char>(cut[p + 16 + i]));
        }
    }
    x.ok = (x.id == "Xing" || x.id == "Info") && (x.flags & 3) == 3;
    const std::size_t lame = p + 16 + (x.flags & 4 ? 100 : 0) + (x.flags & 8 ? 4 : 0);
    if (lame + 36 <= at + h->size) {
        x.lame_name = cut.substr(lame, 4);
        x.lame = x.lame_name == "LAME" || x.lame_name == "Lavf" || x.lame_name == "Lavc";
        const std::uint32_t v = be32(cut, lame + 20) & 0xFFFFFF;
        x.delay = v >> 12;
        x.padding = v & 0xFFF;
    }
    return x;
}

// ---- files made by ffmpeg --------------------------------------------------------------------

struct Source {
    const char* name;
    const char* input;    // lavfi source: chirps, so that a misaligned cut cannot match
    const char* options;  // output options
    const char* tag;      // the header frame ffmpeg writes: "Info", "Xing" or "" (none)
    unsigned channels;
};

inline const char* const kStereo44 =
    "aevalsrc=sin(2*PI*(220+40*t)*t)|sin(2*PI*(330+25*t)*t):s=44100:d=20";
inline const char* const kMono22 = "aevalsrc=sin(2*PI*(220+40*t)*t):s=22050:d=20";
inline const char* const kMono48 = "aevalsrc=sin(2*PI*(220+40*t)*t):s=48000:d=20";
inline const char* const kMono8 = "aevalsrc=sin(2*PI*(220+40*t)*t):s=8000:d=20";

inline const Source kSources[] = {
    {"CbrStereo44k", kStereo44, "-c:a libmp3lame -b:a 128k", "Info", 2},
    {"VbrStereo44k", kStereo44, "-c:a libmp3lame -q:a 4", "Xing", 2},
    // MPEG-2, with an ID3v2.3 title: the tag is kept, first.
    {"VbrMono22kId3v23", kMono22, "-c:a libmp3lame -q:a 4 -metadata title=x -id3v2_version 3", "Xing", 1},
    {"CbrMono22k", kMono22, "-c:a libmp3lame -b:a 32k", "Info", 1},
    // No header frame: no gapless data, every frame walked.
    {"CbrStereo44kNoHeader", kStereo44, "-c:a libmp3lame -b:a 128k -write_xing 0", "", 2},
    // 32 kbit/s at 48 kHz: a 96-byte frame, too small for a TOC.
    {"CbrMono48kSmallFrames", kMono48, "-c:a libmp3lame -b:a 32k", "Info", 1},
    {"CbrMpeg25Mono8k", kMono8, "-c:a libmp3lame -b:a 16k", "Info", 1},
};

// One generated file: its bytes, what ffprobe says of it, and its decoded samples.
struct Fixture {
    std::string bytes;
    unsigned rate = 0;
    double duration = 0;
    std::vector<std::int16_t> samples;
    std::string errors;  // what ffmpeg and ffprobe said, if anything  // interleaved, trimmed as ffmpeg plays it (gapless)
};

// What the shared fixture (format_fixture.h) needs of MP3 files.
struct Mp3Format : test_tools::FormatBase<Source, Fixture> {
    static constexpr test_tools::FormatNames kNames{"mp3", "audio/mpeg", ".mp3"};
    static constexpr const auto& kSources = mp3_test::kSources;

    static File make(const Source& s, const std::string& dir)
    {
        const std::filesystem::path path = std::filesystem::path(dir) / (std::string(s.name) + ".mp3");
        const Command c = run(std::string("ffmpeg -nostdin -v error -y -f lavfi -i '") +
                              s.input + "' " + s.options + " '" + path.string() + "'");
        const Command probe = run("ffprobe -v error -select_streams a:0 -show_entries "
                                  "stream=sample_rate -of csv=p=0 '" + path.string() + "'");
        Fixture f;
        std::string messages;
        f.samples = decode_s16(path, messages);
        f.bytes = slurp(path);
        f.duration = probe_duration(path);
        f.rate = static_cast<unsigned>(std::atoi(probe.output.c_str()));
        if (c.status != 0 || probe.status != 0 || !messages.empty() || f.rate == 0) {
            f.errors = c.output + probe.output + messages;
        }
        return f;
    }
};

using Mp3Files = test_tools::FormatFiles<Mp3Format>;

}  // namespace mp3_test
}  // namespace audio_stream

#endif
