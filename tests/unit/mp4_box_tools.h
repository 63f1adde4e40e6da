// The MP4 tests' own box reader (so a cut is judged by other code than the cutter's): big-endian
// bytes, boxes by their headers, and what the tests check of a track (its tables), of the movie
// header and of the chapters. Split from mp4_tools.h, which includes it.
#ifndef AUDIO_STREAM_TESTS_UNIT_MP4_BOX_TOOLS_H
#define AUDIO_STREAM_TESTS_UNIT_MP4_BOX_TOOLS_H

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace audio_stream {
namespace mp4_test {

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

// What the track's headers say (hdlr, mdhd, tkhd, elst, tref), no table yet.
inline Tables track_headers(const std::string& s, const Box& trak)
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
    return t;
}

// A track's headers and its sample tables, one entry a sample (stsc one a chunk).
inline Tables tables(const std::string& s, const Box& trak)
{
    Tables t = track_headers(s, trak);
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

// The track of `s` whose handler is `handler`.
inline Box track_of(const std::string& s, const char* handler)
{
    for (const Box& trak : tracks(s)) {
        if (tables(s, trak).handler == handler) {
            return trak;
        }
    }
    ADD_FAILURE() << "no " << handler << " track";
    return {};
}

}  // namespace mp4_test
}  // namespace audio_stream

#endif
