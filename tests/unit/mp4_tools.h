// What the MP4 tests share (test_mp4*.cpp): the box reader (mp4_box_tools.h) and the file edits
// (mp4_edit_tools.h) it includes, ffmpeg's decoding of a stream, the cut of bytes as served, and
// the source files, made once per run by ffmpeg through the shared fixture (format_fixture.h).
#ifndef AUDIO_STREAM_TESTS_UNIT_MP4_TOOLS_H
#define AUDIO_STREAM_TESTS_UNIT_MP4_TOOLS_H

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "src/formats/formats.h"
#include "src/formats/mp4/caps.h"
#include "tests/unit/cut_tools.h"
#include "tests/unit/format_fixture.h"
#include "tests/unit/mp4_box_tools.h"
#include "tests/unit/mp4_edit_tools.h"

namespace audio_stream {
namespace mp4_test {

using namespace test_tools;

// ---- decoding and comparing -------------------------------------------------------------------

// The audio of stream `index` of a file, 16-bit interleaved as ffmpeg decodes it.
inline std::vector<std::int16_t> decode(const std::string& path, int index, std::string* messages = nullptr)
{
    const Command c = run("ffmpeg -nostdin -v error -i '" + path + "' -map 0:a:" + std::to_string(index) +
                          " -f s16le -c:a pcm_s16le - 2>" + (messages ? "'" + path + ".err'" : "/dev/null"));
    if (messages) {
        *messages = slurp(path + ".err");
        std::filesystem::remove(path + ".err");
    }
    std::vector<std::int16_t> out(c.output.size() / 2);
    std::memcpy(out.data(), c.output.data(), out.size() * 2);
    return out;
}

inline unsigned channels_of(const std::string& path, int index)
{
    const Command c = run("ffprobe -v error -select_streams a:" + std::to_string(index) +
                          " -show_entries stream=channels -of csv=p=0 '" + path + "'");
    return static_cast<unsigned>(std::atoi(c.output.c_str()));
}

inline double correlation(const std::int16_t* a, const std::int16_t* b, std::size_t n)
{
    double xy = 0, xx = 0, yy = 0;
    for (std::size_t i = 0; i < n; ++i) {
        xy += static_cast<double>(a[i]) * b[i];
        xx += static_cast<double>(a[i]) * a[i];
        yy += static_cast<double>(b[i]) * b[i];
    }
    return xy / std::sqrt(xx * yy + 1e-9);
}

// A chapter as ffprobe reads it: start and end in its time base (milliseconds here), title.
struct ProbedChapter {
    double start = 0, end = 0;
    std::string title;
};

inline std::vector<ProbedChapter> probe_chapters(const std::string& path)
{
    const Command c = run("ffprobe -v error -show_chapters -of csv=p=0 '" + path + "'");
    EXPECT_EQ(c.status, 0) << c.output;
    std::vector<ProbedChapter> out;
    std::istringstream lines(c.output);
    for (std::string line; std::getline(lines, line);) {
        std::vector<std::string> f;  // id,time_base,start,start_time,end,end_time,title
        std::istringstream fields(line);
        for (std::string x; std::getline(fields, x, ',');) {
            f.push_back(x);
        }
        EXPECT_EQ(f.size(), 7u) << line;
        if (f.size() == 7) {
            out.push_back({std::stod(f[2]), std::stod(f[4]), f[6]});
        }
    }
    return out;
}

// The cut of a file's bytes over `span`, as served.
inline Cut cut_bytes(const std::string& bytes, const Span& span)
{
    return test_tools::served_cut("audio/mp4", bytes, span);
}

// ---- files made by ffmpeg --------------------------------------------------------------------

struct Source {
    const char* name;
    const char* make;  // the ffmpeg command; {out} is the file, {dir} the temp dir
    const char* codec;  // of the first audio track, as ffprobe names it
    unsigned rate;      // of the first audio track
    bool exact;         // decoded cut equals the original from t's sample (ALAC), else correlation
    enum class Edit { None, Co64 } edit = Edit::None;
};

// Chirps (no two windows alike), 20 s.
#define MP4_CHIRP "aevalsrc=0.5*sin(2*PI*(220+40*t)*t)|0.5*sin(2*PI*(330+25*t)*t):s=44100:d=20"
#define MP4_CHIRP48 "aevalsrc=0.5*sin(2*PI*(300+30*t)*t):s=48000:d=20"
inline const Source kSources[] = {
    {"AacMoovAtEnd", "ffmpeg -nostdin -v error -y -f lavfi -i '" MP4_CHIRP "' -c:a aac -b:a 128k {out}", "aac", 44100,
     false},
    {"AacFaststart",
     "ffmpeg -nostdin -v error -y -f lavfi -i '" MP4_CHIRP "' -c:a aac -b:a 128k -movflags +faststart {out}", "aac",
     44100, false},
    {"Alac", "ffmpeg -nostdin -v error -y -f lavfi -i '" MP4_CHIRP "' -c:a alac {out}", "alac", 44100, true},
    {"BookWithChapters",
     "ffmpeg -nostdin -v error -y -f lavfi -i '" MP4_CHIRP "' -i {dir}/chapters.txt -map 0 -map_metadata 1 "
     "-map_chapters 1 -c:a aac -b:a 96k -f ipod {out}",
     "aac", 44100, false},
    {"TwoAudioTracks",
     "ffmpeg -nostdin -v error -y -f lavfi -i '" MP4_CHIRP "' -f lavfi -i '" MP4_CHIRP48 "' -map 0 -map 1 "
     "-c:a aac -b:a 96k {out}",
     "aac", 44100, false},
    {"AacCo64", "ffmpeg -nostdin -v error -y -f lavfi -i '" MP4_CHIRP "' -c:a aac -b:a 128k {out}", "aac", 44100,
     false, Source::Edit::Co64},
};

// The chapters of BookWithChapters: start and end in ms, title.
struct Chapter {
    std::uint64_t start, end;
    const char* title;
};
inline const Chapter kChapters[] = {
    {0, 5000, "One"}, {5000, 10000, "Two"}, {10000, 15000, "Three"}, {15000, 20000, "Four"}};

inline std::string ffmetadata()
{
    std::string s = ";FFMETADATA1\ntitle=Book\n";
    for (const Chapter& c : kChapters) {
        s += "[CHAPTER]\nTIMEBASE=1/1000\nSTART=" + std::to_string(c.start) + "\nEND=" + std::to_string(c.end) +
             "\ntitle=" + c.title + "\n";
    }
    return s;
}

inline bool have_tools()
{
    static const bool ok = run("command -v ffmpeg && command -v ffprobe").status == 0;
    return ok;
}

struct Fixture {
    std::string path;
    std::string bytes;
    double duration = 0;  // ffprobe's
    std::string errors;
};

struct Mp4Format : test_tools::FormatBase<Source, Fixture> {
    static constexpr test_tools::FormatNames kNames{"mp4", "audio/mp4", ".m4a"};
    static constexpr const auto& kSources = mp4_test::kSources;

    static File make(const Source& s, const std::string& dir)
    {
        Fixture f;
        if (!have_tools()) {
            f.errors = "needs ffmpeg";
            return f;
        }
        spit(std::filesystem::path(dir) / "chapters.txt", ffmetadata());
        f.path = dir + "/" + s.name + ".m4a";
        const std::string command = replace_all(replace_all(s.make, "{out}", "'" + f.path + "'"), "{dir}", dir);
        const Command c = run(command);
        if (c.status != 0) {
            f.errors = command + "\n" + c.output;
            return f;
        }
        f.bytes = slurp(f.path);
        if (s.edit == Source::Edit::Co64) {
            f.bytes = with_co64(f.bytes);
            spit(f.path, f.bytes);
        }
        f.duration = probe_duration(f.path);
        return f;
    }
};

using Mp4Files = test_tools::FormatFiles<Mp4Format>;

}  // namespace mp4_test
}  // namespace audio_stream

#endif