// What the FLAC tests share (test_flac.cpp, test_flac_clip.cpp, test_flac_scan.cpp,
// test_flac_renumber.cpp): an
// independent frame walker with bitwise CRCs (none of the cutter's code), the metadata reader,
// and the source files, made once per run through the shared fixture (format_fixture.h).
#ifndef AUDIO_STREAM_TESTS_UNIT_FLAC_TOOLS_H
#define AUDIO_STREAM_TESTS_UNIT_FLAC_TOOLS_H

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "src/formats/formats.h"
#include "tests/unit/cut_tools.h"
#include "tests/unit/format_fixture.h"

namespace audio_stream {
namespace flac_test {

using namespace test_tools;
using Output = Command;

inline bool have_tools()
{
    static const bool ok = run("command -v ffmpeg && command -v ffprobe && command -v flac").status == 0;
    return ok;
}

// Interleaved 32-bit samples: exact for 16- and 24-bit FLAC.
inline std::vector<std::int32_t> decode(const std::string& path)
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

inline unsigned slow_crc8(const unsigned char* p, std::size_t n)
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

inline unsigned slow_crc16_byte(unsigned r, unsigned char b)
{
    r ^= unsigned{b} << 8;
    for (int k = 0; k < 8; ++k) {
        r = (r & 0x8000) ? ((r << 1) ^ 0x8005) & 0xFFFF : (r << 1) & 0xFFFF;
    }
    return r;
}

inline bool walked_header(const std::string& f, std::size_t x, WalkedFrame& h)
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

inline std::size_t audio_start_of(const std::string& flac)
{
    std::size_t pos = 4;
    for (bool last = false; !last && pos + 4 <= flac.size();) {
        const auto* h = reinterpret_cast<const unsigned char*>(flac.data() + pos);
        last = h[0] & 0x80;
        pos += 4 + (std::size_t{h[1]} << 16 | std::size_t{h[2]} << 8 | h[3]);
    }
    return pos;
}

inline Walk walk_frames(const std::string& flac)
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
// offsets would move), STREAMINFO's frame sizes unknown (headers grow), CRC-8 and CRC-16
// computed afresh.
inline std::string to_variable(const std::string& flac)
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
    kept[0].replace(4 + 4, 6, 6, '\0');  // STREAMINFO's minimum and maximum frame sizes
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

inline const Source kSources[] = {
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

struct Cached {
    std::string bytes;
    std::vector<std::int32_t> pcm;
    double probed = -1;
    std::string errors;  // what making the file printed, when it failed
};

// What the shared fixture needs of FLAC files.
struct FlacFormat : test_tools::FormatBase<Source, Cached> {
    static constexpr test_tools::FormatNames kNames{"flac", "audio/flac", ".flac"};
    static constexpr const auto& kSources = flac_test::kSources;

    static Cached make(const Source& s, const std::string& dir);
};

using FlacFiles = test_tools::FormatFiles<FlacFormat>;

inline const std::string& temp_dir() { return FlacFiles::dir(); }

// A source file, made on first use.
inline const Cached& source(const Source& s) { return FlacFiles::file(s); }

inline Cached FlacFormat::make(const Source& s, const std::string& dir)
{
    Cached c;
    if (!have_tools()) {
        c.errors = "needs ffmpeg, ffprobe and flac (apt-get install ffmpeg flac)";
        return c;
    }
    const std::string out = dir + "/" + s.name + ".flac";
    const std::string make = s.make;
    if (make.rfind("variable:", 0) == 0) {
        for (const Source& from : kSources) {
            if (make.substr(9) == from.name) {
                spit(out, to_variable(source(from).bytes));
            }
        }
    }
    else {
        const Output r = run(replace_all(replace_all(s.make, "{out}", out), "{dir}", dir));
        EXPECT_EQ(r.status, 0) << r.output;
        c.errors = r.status == 0 ? "" : r.output;
    }
    c.bytes = slurp(out);
    c.pcm = decode(out);
    c.probed = probe_duration(out);
    return c;
}

// cut_flac as served (the dispatch names the cut); a time alone is the span from it.
inline Cut cut_served(ByteSource& src, const Span& span)
{
    return test_tools::served_cut("audio/flac", src, span);
}


// ---------------------------------------------------------------------------------------------
// Metadata of a cut: what is kept, what is rewritten, the last-block flag.

struct Block {
    unsigned type;
    bool last;
    std::string body;
};

inline std::vector<Block> metadata(const std::string& flac)
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

inline std::uint64_t total_samples(const std::string& stream_info)
{
    const auto* s = reinterpret_cast<const unsigned char*>(stream_info.data());
    std::uint64_t v = s[13] & 0x0F;
    for (int i = 14; i < 18; ++i) {
        v = v << 8 | s[i];
    }
    return v;
}

// RFC 9639 §8.2: STREAMINFO's 24-bit minimum and maximum frame sizes (0: unknown).
inline std::uint32_t frame_size_field(const std::string& stream_info, std::size_t at)
{
    const auto* s = reinterpret_cast<const unsigned char*>(stream_info.data());
    return std::uint32_t{s[at]} << 16 | std::uint32_t{s[at + 1]} << 8 | s[at + 2];
}

// Every frame of a stream is within the sizes its STREAMINFO gives, where it gives them
// (GStreamer's flacparse drops a frame under the minimum).
inline void expect_frames_within_stream_info_sizes(const std::string& flac)
{
    const std::string info = metadata(flac).at(0).body;
    const std::uint32_t min = frame_size_field(info, 4);
    const std::uint32_t max = frame_size_field(info, 7);
    const Walk w = walk_frames(flac);
    for (std::size_t i = 0; i < w.frames.size(); ++i) {
        const std::size_t end = i + 1 < w.frames.size() ? w.frames[i + 1].offset : w.end;
        const std::size_t size = end - w.frames[i].offset;
        EXPECT_TRUE(min == 0 || size >= min) << "frame " << i << " of " << size << " bytes, min " << min;
        EXPECT_TRUE(max == 0 || size <= max) << "frame " << i << " of " << size << " bytes, max " << max;
    }
}

}  // namespace flac_test
}  // namespace audio_stream

#endif
