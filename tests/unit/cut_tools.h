// Helpers the format tests share: a private temp dir, shell commands, files in and out, and
// the bytes a client would receive for a cut.
#ifndef AUDIO_STREAM_TESTS_CUT_TOOLS_H
#define AUDIO_STREAM_TESTS_CUT_TOOLS_H

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "src/cut.h"
#include "src/formats/dispatch.h"

namespace audio_stream {
namespace test_tools {

// A directory /tmp/audio_stream_<tag>_XXXXXX, removed with everything in it at destruction.
class TempDir {
public:
    explicit TempDir(const std::string& tag)
    {
        std::string name = "/tmp/audio_stream_" + tag + "_XXXXXX";
        path_ = mkdtemp(name.data()) ? name : "";
    }
    ~TempDir()
    {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

struct Command {
    int status = -1;
    std::string output;  // stdout and stderr
};

// Runs a shell command; its status as pclose gives it, and everything it printed.
inline Command run(const std::string& command)
{
    Command c;
    FILE* p = popen((command + " 2>&1").c_str(), "r");
    if (!p) {
        return c;
    }
    char buf[65536];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) {
        c.output.append(buf, n);
    }
    c.status = pclose(p);
    return c;
}

// s with every `from` replaced by `to`.
inline std::string replace_all(std::string s, const std::string& from, const std::string& to)
{
    for (std::size_t at = 0; (at = s.find(from, at)) != std::string::npos; at += to.size()) {
        s.replace(at, from.size(), to);
    }
    return s;
}

inline std::string slurp(const std::filesystem::path& path)
{
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

inline void spit(const std::filesystem::path& path, const std::string& bytes)
{
    std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// The cut the module serves of a file of media type `type` over a span (a time alone: from it to
// the end): through cut_for_type, which also names an Ok cut for its ETag. The format tests cut
// through it, so they check what is served.
inline Cut served_cut(std::string_view type, ByteSource& src, const Span& span)
{
    return cut_for_type(type, src, span).value();
}

// The same, of bytes in memory.
inline Cut served_cut(std::string_view type, const std::string& bytes, const Span& span)
{
    MemorySource src(bytes);
    return served_cut(type, src, span);
}

// The bytes a client would receive for `rep` over a file holding `file`.
inline std::string materialise(const std::string& file, const Representation& rep)
{
    std::string out;
    for (const auto& e : rep.extents) {
        if (const auto* f = std::get_if<FileExtent>(&e)) {
            out.append(file, f->offset, f->length);
        }
        else {
            out += std::get<MemoryBlock>(e).bytes;
        }
    }
    return out;
}

// The same, for a cut.
inline std::string materialise(const Cut& cut, const std::string& file)
{
    return materialise(file, cut.rep);
}

// Content-Length is the sum of the extents; every file extent is non-empty and inside the
// file; the ETag suffix names the writers' generation, the cut's start and a clip's end.
inline void expect_invariants(const Cut& cut, Offset file_size)
{
    EXPECT_EQ(cut.rep.length, extents_length(cut.rep.extents));
    for (const auto& e : cut.rep.extents) {
        if (const auto* f = std::get_if<FileExtent>(&e)) {
            EXPECT_GT(f->length, 0u);
            EXPECT_LE(f->offset, file_size);
            EXPECT_LE(f->length, file_size - std::min(f->offset, file_size));
        }
    }
    const bool clip = cut.end != Span::kToTheEnd;
    EXPECT_EQ(cut.rep.etag_suffix, "-c" + std::to_string(kCutGeneration) + "-t" + std::to_string(cut.start) +
                                        (clip ? "-" + std::to_string(cut.end) : ""));
}

// The same, plus what depends on the status: an Ok cut is not empty, starts in [0, START]
// (START < 0 counts as 0), lasts >= 0 and has no empty memory block; a clip ends on the first
// sample boundary at or after END (so less than a second after it, whatever the rate); any
// other cut has no extents.
inline void expect_invariants(const Cut& cut, Offset file_size, const Span& span)
{
    const Micros t = span.start;
    if (cut.status != Cut::Status::Ok) {
        EXPECT_EQ(cut.rep.length, 0u);
        EXPECT_TRUE(cut.rep.extents.empty());
        return;
    }
    expect_invariants(cut, file_size);
    for (const auto& e : cut.rep.extents) {
        if (const auto* m = std::get_if<MemoryBlock>(&e)) {
            EXPECT_FALSE(m->bytes.empty());
        }
    }
    EXPECT_GT(cut.rep.length, 0u);
    EXPECT_GE(cut.start, 0);
    EXPECT_LE(cut.start, std::max<Micros>(t, 0));
    EXPECT_GE(cut.duration, 0);
    if (cut.end != Span::kToTheEnd) {
        EXPECT_FALSE(span.open()) << "a cut to the end of the audio is not a clip";
        EXPECT_GE(cut.end, span.end);
        EXPECT_LT(cut.end, span.end + 1000000);
    }
}

// What ffmpeg decodes from a file with these output options (sample format and layout), as
// samples of type Sample; empty when it fails.
template <typename Sample>
std::vector<Sample> decode_pcm(const std::string& path, const std::string& options)
{
    const std::string pcm = run("ffmpeg -v error -i '" + path + "' " + options + " - 2>/dev/null").output;
    std::vector<Sample> samples(pcm.size() / sizeof(Sample));
    std::memcpy(samples.data(), pcm.data(), samples.size() * sizeof(Sample));
    return samples;
}

// What ffmpeg decodes from a file as 16-bit interleaved samples, through a file beside it;
// `messages` gets what ffmpeg said (empty when it said nothing and succeeded).
inline std::vector<std::int16_t> decode_s16(const std::filesystem::path& path, std::string& messages)
{
    const std::filesystem::path raw = path.string() + ".s16";
    const Command c = run("ffmpeg -nostdin -v error -y -i '" + path.string() + "' -f s16le -c:a pcm_s16le '" +
                          raw.string() + "'");
    messages = c.status == 0 ? c.output : "exit " + std::to_string(c.status) + ": " + c.output;
    const std::string bytes = slurp(raw);
    std::vector<std::int16_t> out(bytes.size() / 2);
    std::memcpy(out.data(), bytes.data(), out.size() * 2);
    std::filesystem::remove(raw);
    return out;
}

// The duration ffprobe reads from a file's container, -1 when it fails.
inline double probe_duration(const std::string& path)
{
    const Command c = run("ffprobe -v error -show_entries format=duration -of csv=p=0 '" + path + "'");
    return c.status == 0 ? std::atof(c.output.c_str()) : -1.0;
}

// The parameters of the tests that cut every generated source at every time (format_fixture.h):
// a source (each format's own struct with a name) and a time.
struct TimeCase {
    const char* name;
    Micros t;
    Cut::Status status = Cut::Status::Ok;  // what a cut at t is
    Micros end = Span::kToTheEnd;          // a clip's END
    Span span() const { return Span{t, end}; }
};

template <typename Source>
struct CutCase {
    const Source* source;
    const TimeCase* time;
};

template <typename Source, std::size_t N, std::size_t M>
std::vector<CutCase<Source>> all_cuts(const Source (&sources)[N], const TimeCase (&times)[M])
{
    std::vector<CutCase<Source>> out;
    for (const auto& s : sources) {
        for (const auto& t : times) {
            out.push_back({&s, &t});
        }
    }
    return out;
}

// Test names <source>_<time>.
struct CutCaseName {
    template <typename Param>
    std::string operator()(const ::testing::TestParamInfo<Param>& info) const
    {
        return std::string(info.param.source->name) + "_" + info.param.time->name;
    }
};

// A MemorySource that counts the bytes read from it: what an index saves.
class CountingSource final : public ByteSource {
public:
    explicit CountingSource(std::string_view bytes) : inner_(bytes) { inner_.set_budget(kNoBudget); }
    Offset size() const override { return inner_.size(); }
    bool fetch(Offset offset, void* buf, std::size_t len) override
    {
        bytes_read += len;
        return inner_.read(offset, buf, len);
    }
    Offset bytes_read = 0;

private:
    MemorySource inner_;
};

}  // namespace test_tools
}  // namespace audio_stream

#endif
