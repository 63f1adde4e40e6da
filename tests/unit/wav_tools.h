// What the WAVE tests share (test_wav.cpp, test_layouts.cpp): byte builders for hand-made
// RIFF files (little-endian numbers, chunks, fmt bodies, sample ramps) and the source files,
// made once per run by ffmpeg through the shared fixture (format_fixture.h).
#ifndef AUDIO_STREAM_TESTS_UNIT_WAV_TOOLS_H
#define AUDIO_STREAM_TESTS_UNIT_WAV_TOOLS_H

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "src/formats/formats.h"
#include "tests/unit/cut_tools.h"
#include "tests/unit/format_fixture.h"

namespace audio_stream {
namespace wav_test {

using namespace test_tools;

// ---- bytes ----------------------------------------------------------------------------------

inline std::uint32_t le32(const std::string& s, std::size_t at)
{
    const auto* p = reinterpret_cast<const unsigned char*>(s.data() + at);
    return p[0] | p[1] << 8 | p[2] << 16 | static_cast<std::uint32_t>(p[3]) << 24;
}

inline std::string le32s(std::uint32_t v)
{
    std::string s(4, '\0');
    for (int i = 0; i < 4; ++i) {
        s[i] = static_cast<char>(v >> (8 * i));
    }
    return s;
}

inline std::string le16s(std::uint16_t v) { return le32s(v).substr(0, 2); }

inline std::string chunk(const char* id, const std::string& body)
{
    std::string c = std::string(id, 4) + le32s(static_cast<std::uint32_t>(body.size())) + body;
    if (body.size() & 1) {
        c.push_back('\0');
    }
    return c;
}

// fmt chunk body: tag, channels, rate, block_align, bits (avg bytes/s derived).
inline std::string fmt_body(std::uint16_t tag, std::uint16_t channels, std::uint32_t rate,
                            std::uint16_t block_align, std::uint16_t bits)
{
    return le16s(tag) + le16s(channels) + le32s(rate) + le32s(rate * block_align) +
           le16s(block_align) + le16s(bits);
}

// `c` n times over.
inline std::string repeat(const std::string& c, std::size_t n)
{
    std::string out;
    out.reserve(c.size() * n);
    for (std::size_t i = 0; i < n; ++i) {
        out += c;
    }
    return out;
}

inline std::string riff(const std::string& chunks)
{
    return "RIFF" + le32s(static_cast<std::uint32_t>(4 + chunks.size())) + "WAVE" + chunks;
}

// Bytes that differ from their neighbours: a misplaced extent cannot match.
inline std::string ramp(std::size_t n)
{
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i) {
        s[i] = static_cast<char>(i * 7 + i / 251);
    }
    return s;
}

// ---- files made by ffmpeg --------------------------------------------------------------------

struct Source {
    const char* name;
    const char* input;    // lavfi source; chirps, so that a misaligned cut cannot match
    const char* options;  // output options
    std::uint16_t format_tag;  // what ffmpeg writes, checked so the case means what it says
};

inline const char* const kStereo44 =
    "aevalsrc=sin(2*PI*(220+40*t)*t)|sin(2*PI*(330+25*t)*t):s=44100:d=20";
inline const char* const kStereo48 =
    "aevalsrc=sin(2*PI*(220+40*t)*t)|sin(2*PI*(330+25*t)*t):s=48000:d=20";
inline const char* const kMono11 = "aevalsrc=sin(2*PI*(220+40*t)*t):s=11025:d=20";

inline const Source kSources[] = {
    {"Pcm16Stereo44k", kStereo44, "-c:a pcm_s16le", 0x0001},
    {"Pcm24Stereo48k", kStereo48, "-c:a pcm_s24le", 0xFFFE},
    {"Float32Stereo48k", kStereo48, "-c:a pcm_f32le", 0xFFFE},
    {"Extensible24SixChannels", kStereo48, "-ac 6 -ar 16000 -c:a pcm_s24le", 0xFFFE},
    {"Pcm8Mono11k", kMono11, "-c:a pcm_u8", 0x0001},  // odd data lengths: the pad byte
};

// One generated file: its bytes, what ffprobe says of it, and its decoded samples.
struct Fixture {
    std::string bytes;
    unsigned rate = 0;
    unsigned channels = 0;
    unsigned bits = 0;
    double duration = 0;
    std::vector<std::int16_t> samples;
    std::string errors;  // what ffmpeg and ffprobe said, if anything
};

// What the shared fixture (format_fixture.h) needs of WAVE files.
struct WavFormat : test_tools::FormatBase<Source, Fixture> {
    static constexpr test_tools::FormatNames kNames{"wav", "audio/wav", ".wav"};
    static constexpr const auto& kSources = wav_test::kSources;

    static File make(const Source& s, const std::string& dir)
    {
        const std::filesystem::path path = std::filesystem::path(dir) / (std::string(s.name) + ".wav");
        const Command c = run(std::string("ffmpeg -nostdin -v error -y -f lavfi -i '") +
                              s.input + "' " + s.options + " '" + path.string() + "'");
        const Command probe = run("ffprobe -v error -select_streams a:0 -show_entries "
                                  "stream=sample_rate,channels,bits_per_sample -of csv=p=0 '" +
                                  path.string() + "'");
        Fixture f;
        std::string messages;
        f.samples = decode_s16(path, messages);
        f.bytes = slurp(path);
        f.duration = probe_duration(path);
        if (c.status != 0 || probe.status != 0 || !messages.empty() ||
            std::sscanf(probe.output.c_str(), "%u,%u,%u", &f.rate, &f.channels, &f.bits) != 3) {
            f.errors = c.output + probe.output + messages;
        }
        return f;
    }
};

using WavFiles = test_tools::FormatFiles<WavFormat>;

}  // namespace wav_test
}  // namespace audio_stream

#endif
