// What the MP4 tests share (test_mp4.cpp, test_mp4_clip.cpp): a box reader of their own (so a
// cut is judged by other code than the cutter's), the tables it reads out of a track, ffmpeg's
// decoding of a stream, edits that turn an ffmpeg file into the variants the tests need (co64,
// no roll group, an iTunSMPB tag) with every enclosing box resized, and the source files, made
// once per run by ffmpeg through the shared fixture (format_fixture.h).
#ifndef AUDIO_STREAM_TESTS_UNIT_MP4_TOOLS_H
#define AUDIO_STREAM_TESTS_UNIT_MP4_TOOLS_H

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "src/formats/formats.h"
#include "src/formats/mp4/caps.h"
#include "tests/unit/cut_tools.h"
#include "tests/unit/format_fixture.h"

namespace audio_stream {
namespace mp4_test {

using namespace test_tools;

// ---- bytes ----------------------------------------------------------------------------------

inline std::uint64_t be(const std::string& s, std::size_t at, int n)
{
    std::uint64_t v = 0;
    for (int i = 0; i < n; ++i) {
        v = v << 8 | static_cast<unsigned char>(s.at(at + static_cast<std::size_t>(i)));
    }
    return v;
}

inline std::string bes(std::uint64_t v, int n)
{
    std::string s(static_cast<std::size_t>(n), '\0');
    for (int i = n - 1; i >= 0; --i, v >>= 8) {
        s[static_cast<std::size_t>(i)] = static_cast<char>(v & 0xFF);
    }
    return s;
}

inline std::string box(const char* type, const std::string& payload)
{
    return bes(8 + payload.size(), 4) + std::string(type, 4) + payload;
}

inline std::string full_box(const char* type, int version, const std::string& payload)
{
    return box(type, bes(static_cast<std::uint64_t>(version) << 24, 4) + payload);
}

// ---- reading boxes ---------------------------------------------------------------------------

struct Box {
    std::string type;
    std::size_t offset = 0;   // of its header
    std::size_t payload = 0;  // of its payload
    std::size_t end = 0;
};

// The boxes in [from, to) of `s`, by their headers (32-bit, 64-bit and to-the-end sizes).
inline std::vector<Box> boxes(const std::string& s, std::size_t from, std::size_t to)
{
    std::vector<Box> out;
    while (from + 8 <= to) {
        Box b;
        b.offset = from;
        b.type = s.substr(from + 4, 4);
        std::uint64_t size = be(s, from, 4);
        b.payload = from + 8;
        if (size == 1) {
            size = be(s, from + 8, 8);
            b.payload += 8;
        }
        else if (size == 0) {
            size = to - from;
        }
        if (size < b.payload - from || size > to - from) {
            break;
        }
        b.end = from + size;
        out.push_back(b);
        from = b.end;
    }
    return out;
}

inline std::vector<Box> top_boxes(const std::string& s) { return boxes(s, 0, s.size()); }

// Where a container's children start: meta is a full box, stsd holds a count first.
inline std::size_t children_at(const Box& b)
{
    if (b.type == "meta") {
        return b.payload + 4;
    }
    if (b.type == "stsd") {
        return b.payload + 8;
    }
    return b.payload;
}

inline std::vector<Box> kids(const std::string& s, const Box& b) { return boxes(s, children_at(b), b.end); }

// The first box along a path of types ("moov/trak/mdia"), from the top of the file.
inline std::optional<Box> find_box(const std::string& s, const std::vector<std::string>& path,
                               std::optional<Box> inside = std::nullopt)
{
    std::optional<Box> at = inside;
    for (const std::string& type : path) {
        const auto list = at ? kids(s, *at) : top_boxes(s);
        at.reset();
        for (const Box& b : list) {
            if (b.type == type) {
                at = b;
                break;
            }
        }
        if (!at) {
            return std::nullopt;
        }
    }
    return at;
}

inline std::vector<Box> tracks(const std::string& s)
{
    std::vector<Box> out;
    if (const auto moov = find_box(s, {"moov"})) {
        for (const Box& b : kids(s, *moov)) {
            if (b.type == "trak") {
                out.push_back(b);
            }
        }
    }
    return out;
}

// What the tests check of one track.
struct Tables {
    std::string handler;                 // hdlr's handler type
    std::uint32_t timescale = 0;         // mdhd's
    std::uint64_t media_duration = 0;    // mdhd's
    std::uint64_t track_duration = 0;    // tkhd's, in the movie's timescale
    std::vector<std::pair<std::uint64_t, std::int64_t>> edits;  // elst: duration, media_time
    std::vector<std::uint64_t> deltas;   // stts, one per sample
    std::vector<std::uint64_t> sizes;    // stsz, one per sample
    std::vector<std::uint64_t> chunks;   // stco or co64
    bool co64 = false;
    std::vector<std::uint32_t> per_chunk;  // samples in each chunk (stsc expanded)
    std::optional<std::int16_t> roll;      // sgpd 'roll' roll_distance of the first entry
    std::uint64_t roll_samples = 0;        // samples sbgp 'roll' maps to a group
    std::vector<std::uint32_t> chap_refs;  // tref 'chap'
};

inline Tables tables(const std::string& s, const Box& trak)
{
    Tables t;
    if (const auto h = find_box(s, {"mdia", "hdlr"}, trak)) {
        t.handler = s.substr(h->payload + 8, 4);
    }
    if (const auto m = find_box(s, {"mdia", "mdhd"}, trak)) {
        const bool v1 = s[m->payload] == 1;
        t.timescale = static_cast<std::uint32_t>(be(s, m->payload + (v1 ? 20 : 12), 4));
        t.media_duration = be(s, m->payload + (v1 ? 24 : 16), v1 ? 8 : 4);
    }
    if (const auto k = find_box(s, {"tkhd"}, trak)) {
        const bool v1 = s[k->payload] == 1;
        t.track_duration = be(s, k->payload + (v1 ? 28 : 20), v1 ? 8 : 4);
    }
    if (const auto e = find_box(s, {"edts", "elst"}, trak)) {
        const bool v1 = s[e->payload] == 1;
        const std::size_t n = be(s, e->payload + 4, 4);
        for (std::size_t i = 0, at = e->payload + 8; i < n; ++i, at += v1 ? 20 : 12) {
            const std::uint64_t d = be(s, at, v1 ? 8 : 4);
            const std::uint64_t m = be(s, at + (v1 ? 8 : 4), v1 ? 8 : 4);
            t.edits.emplace_back(d, v1 ? static_cast<std::int64_t>(m) : static_cast<std::int32_t>(m));
        }
    }
    if (const auto r = find_box(s, {"tref", "chap"}, trak)) {
        for (std::size_t at = r->payload; at + 4 <= r->end; at += 4) {
            t.chap_refs.push_back(static_cast<std::uint32_t>(be(s, at, 4)));
        }
    }
    const auto stbl = find_box(s, {"mdia", "minf", "stbl"}, trak);
    if (!stbl) {
        return t;
    }
    for (const Box& b : kids(s, *stbl)) {
        const std::size_t p = b.payload;
        if (b.type == "stts") {
            for (std::size_t i = 0, n = be(s, p + 4, 4); i < n; ++i) {
                t.deltas.insert(t.deltas.end(), be(s, p + 8 + 8 * i, 4), be(s, p + 12 + 8 * i, 4));
            }
        }
        else if (b.type == "stsz") {
            const std::uint64_t fixed = be(s, p + 4, 4), n = be(s, p + 8, 4);
            for (std::size_t i = 0; i < n; ++i) {
                t.sizes.push_back(fixed ? fixed : be(s, p + 12 + 4 * i, 4));
            }
        }
        else if (b.type == "stco" || b.type == "co64") {
            t.co64 = b.type == "co64";
            const int w = t.co64 ? 8 : 4;
            for (std::size_t i = 0, n = be(s, p + 4, 4); i < n; ++i) {
                t.chunks.push_back(be(s, p + 8 + static_cast<std::size_t>(w) * i, w));
            }
        }
        else if (b.type == "sgpd" && s.substr(p + 4, 4) == "roll") {
            // version 1: default_length, entry_count, then 16-bit roll distances.
            t.roll = static_cast<std::int16_t>(be(s, p + 16, 2));
        }
        else if (b.type == "sbgp" && s.substr(p + 4, 4) == "roll") {
            for (std::size_t i = 0, n = be(s, p + 8, 4); i < n; ++i) {
                if (be(s, p + 16 + 8 * i, 4) != 0) {
                    t.roll_samples += be(s, p + 12 + 8 * i, 4);
                }
            }
        }
    }
    // stsc after the chunk table is known.
    if (const auto c = find_box(s, {"stsc"}, stbl)) {
        const std::size_t n = be(s, c->payload + 4, 4);
        for (std::size_t i = 0; i < n; ++i) {
            const std::size_t first = be(s, c->payload + 8 + 12 * i, 4);
            const std::size_t next = i + 1 < n ? be(s, c->payload + 20 + 12 * i, 4) : t.chunks.size() + 1;
            for (std::size_t k = first; k < next; ++k) {
                t.per_chunk.push_back(static_cast<std::uint32_t>(be(s, c->payload + 12 + 12 * i, 4)));
            }
        }
    }
    return t;
}

// mvhd's timescale and duration.
struct MovieHeader {
    std::uint32_t timescale = 0;
    std::uint64_t duration = 0;
};

inline MovieHeader movie_header(const std::string& s)
{
    MovieHeader h;
    if (const auto m = find_box(s, {"moov", "mvhd"})) {
        const bool v1 = s[m->payload] == 1;
        h.timescale = static_cast<std::uint32_t>(be(s, m->payload + (v1 ? 20 : 12), 4));
        h.duration = be(s, m->payload + (v1 ? 24 : 16), v1 ? 8 : 4);
    }
    return h;
}

// Where each sample of a track is in the file: [offset, offset + size).
inline std::vector<std::pair<std::uint64_t, std::uint64_t>> sample_spans(const Tables& t)
{
    std::vector<std::pair<std::uint64_t, std::uint64_t>> out;
    std::size_t sample = 0;
    for (std::size_t c = 0; c < t.chunks.size() && c < t.per_chunk.size(); ++c) {
        std::uint64_t at = t.chunks[c];
        for (std::uint32_t k = 0; k < t.per_chunk[c] && sample < t.sizes.size(); ++k, ++sample) {
            out.emplace_back(at, t.sizes[sample]);
            at += t.sizes[sample];
        }
    }
    return out;
}

// Nero chapters (udta/chpl): start in 100 ns units and title.
inline std::vector<std::pair<std::uint64_t, std::string>> chpl(const std::string& s)
{
    std::vector<std::pair<std::uint64_t, std::string>> out;
    const auto c = find_box(s, {"moov", "udta", "chpl"});
    if (!c) {
        return out;
    }
    const std::size_t n = static_cast<unsigned char>(s[c->payload + 8]);
    for (std::size_t i = 0, at = c->payload + 9; i < n; ++i) {
        const std::uint64_t start = be(s, at, 8);
        const std::size_t len = static_cast<unsigned char>(s[at + 8]);
        out.emplace_back(start, s.substr(at + 9, len));
        at += 9 + len;
    }
    return out;
}

// QuickTime chapters: the text track's samples (16-bit length, title) and their durations in ms.
inline std::vector<std::pair<std::uint64_t, std::string>> chapter_track(const std::string& s)
{
    std::vector<std::pair<std::uint64_t, std::string>> out;
    for (const Box& trak : tracks(s)) {
        const Tables t = tables(s, trak);
        if (t.handler != "text" && t.handler != "sbtl") {
            continue;
        }
        const auto spans = sample_spans(t);
        for (std::size_t i = 0; i < spans.size() && i < t.deltas.size(); ++i) {
            const std::size_t len = be(s, spans[i].first, 2);
            out.emplace_back(t.deltas[i] * 1000 / t.timescale, s.substr(spans[i].first + 2, len));
        }
    }
    return out;
}

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

inline std::vector<Tables> audio_tables(const std::string& s)
{
    std::vector<Tables> out;
    for (const Box& trak : tracks(s)) {
        Tables t = tables(s, trak);
        if (t.handler == "soun") {
            out.push_back(std::move(t));
        }
    }
    return out;
}

// ---- editing files -----------------------------------------------------------------------------

// `s` with the box at `b` replaced by `with`, every box enclosing it resized. The file's chunk
// offsets are not moved: edit boxes of a moov that comes after its mdat (ffmpeg's default).
inline std::string replace_box(const std::string& s, const Box& b, const std::string& with)
{
    const std::int64_t delta = static_cast<std::int64_t>(with.size()) - static_cast<std::int64_t>(b.end - b.offset);
    std::string out = s.substr(0, b.offset) + with + s.substr(b.end);
    // Enclosing boxes: walk down from the top to b, resizing each one holding it.
    std::vector<Box> level = top_boxes(s);
    for (bool deeper = true; deeper;) {
        deeper = false;
        for (const Box& p : level) {
            if (p.offset < b.offset && b.end <= p.end && p.payload <= b.offset) {
                out.replace(p.offset, 4, bes(static_cast<std::uint64_t>(static_cast<std::int64_t>(p.end - p.offset) + delta), 4));
                level = kids(s, p);
                deeper = true;
                break;
            }
        }
    }
    return out;
}

// ffmpeg's file with every track's stco written as co64 (same offsets, 64 bits each).
inline std::string with_co64(std::string s)
{
    for (std::size_t i = 0;; ++i) {
        const auto traks = tracks(s);
        if (i >= traks.size()) {
            return s;
        }
        const auto stco = find_box(s, {"mdia", "minf", "stbl", "stco"}, traks[i]);
        if (!stco) {
            continue;
        }
        const std::size_t n = be(s, stco->payload + 4, 4);
        std::string body = bes(n, 4);
        for (std::size_t k = 0; k < n; ++k) {
            body += bes(be(s, stco->payload + 8 + 4 * k, 4), 8);
        }
        s = replace_box(s, *stco, full_box("co64", 0, body));
    }
}

// The same file without the roll sample group (sgpd and sbgp 'roll') in any track.
inline std::string without_roll_group(std::string s)
{
    for (bool removed = true; removed;) {
        removed = false;
        for (const Box& trak : tracks(s)) {
            const auto stbl = find_box(s, {"mdia", "minf", "stbl"}, trak);
            for (const Box& b : stbl ? kids(s, *stbl) : std::vector<Box>{}) {
                if ((b.type == "sgpd" || b.type == "sbgp") && s.substr(b.payload + 4, 4) == "roll") {
                    s = replace_box(s, b, "");
                    removed = true;
                    break;
                }
            }
            if (removed) {
                break;
            }
        }
    }
    return s;
}

// An iTunes '----' item (mean, name, data) as ilst holds it.
inline std::string itunes_item(const std::string& name, const std::string& value)
{
    return box("----", full_box("mean", 0, "com.apple.iTunes") + full_box("name", 0, name) +
                           full_box("data", 0, bes(0, 4) + value).replace(8, 4, bes(1, 4)));
}

// The file with an iTunSMPB item added to moov/udta/meta/ilst (ffmpeg writes an ilst).
inline std::string with_itunsmpb(const std::string& s)
{
    const auto ilst = find_box(s, {"moov", "udta", "meta", "ilst"});
    if (!ilst) {
        return "";
    }
    const std::string item = itunes_item("iTunSMPB", " 00000000 00000840 000001C0 0000000000000000");
    const std::string grown = s.substr(ilst->offset, ilst->end - ilst->offset) + item;
    return replace_box(s, *ilst, bes(grown.size(), 4) + grown.substr(4));
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
