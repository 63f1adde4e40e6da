#include "id3.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <iterator>
#include <optional>
#include <string_view>

namespace audio_stream {
namespace mp3 {
namespace {

constexpr unsigned kMaxId3Frames = 4096;

// ID3v2 frames that describe the original's timeline or byte layout; a tag holding one would
// mislead players about the cut.
bool tied_to_timeline(const unsigned char* id, std::size_t len)
{
    static const char* const kIds4[] = {"TLEN", "CHAP", "CTOC", "SYLT", "ETCO", "SYTC",
                                        "POSS", "MLLT", "ASPI", "SEEK"};
    static const char* const kIds3[] = {"TLE", "SLT", "ETC", "STC", "MLL"};
    if (len == 4) {
        return std::any_of(std::begin(kIds4), std::end(kIds4),
                           [&](const char* s) { return std::memcmp(id, s, 4) == 0; });
    }
    return std::any_of(std::begin(kIds3), std::end(kIds3),
                       [&](const char* s) { return std::memcmp(id, s, 3) == 0; });
}

// Where the frames of the tag start after its extended header, if any (ID3v2.3 §3.2, ID3v2.4
// §3.2: v2.4 gives the whole size, syncsafe; v2.3 the size after the field); nullopt when that
// header is unclear.
std::optional<Offset> frames_start(Reader& r, Offset p, Offset end, unsigned major, unsigned flags)
{
    if (!(flags & 0x40)) {
        return p;
    }
    const unsigned char* e = end - p >= 4 ? r.at(p, 4) : nullptr;
    if (!e || (major == 4 && (e[0] | e[1] | e[2] | e[3]) & 0x80)) {
        return std::nullopt;
    }
    const Offset ext = major == 4 ? syncsafe32(e) : Offset{be32(e)} + 4;
    if (ext > end - p) {
        return std::nullopt;
    }
    return p + ext;
}

// The body length of the frame whose header is f (6 bytes in ID3v2.2, else 10), or nullopt
// when a cut may not keep it: an id that is not A-Z/0-9, a frame tied to the timeline, a v2.4
// size that is not syncsafe.
std::optional<Offset> keepable_length(const unsigned char* f, unsigned major)
{
    const std::size_t id_len = major == 2 ? 3 : 4;
    const bool id = std::all_of(f, f + id_len, [](unsigned char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); });
    if (!id || tied_to_timeline(f, id_len) || (major == 4 && ((f[4] | f[5] | f[6] | f[7]) & 0x80))) {
        return std::nullopt;
    }
    return major == 2 ? Offset{be24(f + 3)} : major == 3 ? Offset{be32(f + 4)} : Offset{syncsafe32(f + 4)};
}

// Whether the frame with header f, whose body of len bytes is at `body`, may hold iTunes
// gapless data (iTunSMPB, kept in a comment or user text frame): its first 64 bytes say so,
// or cannot be read.
bool itunes_gapless(Reader& r, const unsigned char* f, unsigned major, Offset body, Offset len)
{
    const std::size_t id_len = major == 2 ? 3 : 4;
    const bool text = std::memcmp(f, "COMM", id_len) == 0 || std::memcmp(f, "TXXX", id_len) == 0 ||
                      std::memcmp(f, "COM", id_len) == 0 || std::memcmp(f, "TXX", id_len) == 0;
    if (!text || len == 0) {
        return false;
    }
    const auto n = static_cast<std::size_t>(std::min<Offset>(len, 64));
    const unsigned char* b = r.at(body, n);
    constexpr std::string_view kItunSmpb = "iTunSMPB";
    return !b || std::search(b, b + n, kItunSmpb.begin(), kItunSmpb.end()) != b + n;
}

// Whether the ID3v2 tag at pos (header h, body of `size` bytes) can be kept in a cut.
// Anything unclear says no: the tag is then left out, which costs only metadata.
bool id3_keepable(Reader& r, Offset pos, const unsigned char* h, std::uint32_t size)
{
    const unsigned major = h[3];
    const unsigned flags = h[5];
    // v2.2/2.3 unsynchronisation may have altered frame headers; v2.2 bit 6 is compression.
    if (major < 2 || major > 4 || (major < 4 && (flags & 0x80)) || (major == 2 && (flags & 0x40))) {
        return false;
    }
    const Offset end = pos + 10 + size;
    const auto first = frames_start(r, pos + 10, end, major, flags);
    if (!first) {
        return false;
    }
    const std::size_t head = major == 2 ? 6 : 10;
    Offset p = *first;
    for (unsigned n = 0; end - p >= head; ++n) {
        const unsigned char* f = r.at(p, head);
        if (!f || n == kMaxId3Frames) {
            return false;
        }
        if (f[0] == 0) {
            return true;  // padding
        }
        const auto len = keepable_length(f, major);
        if (!len || *len > end - p - head || itunes_gapless(r, f, major, p + head, *len)) {
            return false;
        }
        p += head + *len;
    }
    return true;
}

}  // namespace

Id3 read_id3v2(Reader& r)
{
    Id3 id3;
    bool keep = true;
    // Tags may follow one another; each turn advances at least 10 bytes.
    for (const unsigned char* h = r.at(id3.end, 10); h && std::memcmp(h, "ID3", 3) == 0; h = r.at(id3.end, 10)) {
        // ID3v2 §3.1: version bytes are never 0xFF, the size is syncsafe.
        if (h[3] == 0xFF || h[4] == 0xFF || ((h[6] | h[7] | h[8] | h[9]) & 0x80)) {
            refuse_malformed("bad ID3v2 header");
        }
        const std::uint32_t size = syncsafe32(h + 6);
        const Offset total = 10 + Offset{size} + (h[3] == 4 && (h[5] & 0x10) ? 10 : 0);
        if (total > r.size() - id3.end) {
            refuse_malformed("ID3v2 tag past the end of the file");
        }
        std::array<unsigned char, 10> copy;
        std::memcpy(copy.data(), h, copy.size());
        keep = keep && id3_keepable(r, id3.end, copy.data(), size);
        id3.end += total;
    }
    id3.keep = keep && id3.end > 0;
    return id3;
}

Offset trailing_tags_start(Reader& r, Offset start)
{
    Offset end = r.size();
    // ID3v1: the last 128 bytes, starting "TAG".
    if (end - start >= 128) {
        const unsigned char* p = r.at(end - 128, 3);
        if (p && std::memcmp(p, "TAG", 3) == 0) {
            end -= 128;
        }
    }
    if (end - start >= 32) {
        const unsigned char* p = r.at(end - 32, 32);
        if (p && std::memcmp(p, "APETAGEX", 8) == 0) {
            // APEv2 footer: size (items + footer, little-endian), flags bit 31: a header too.
            const std::uint32_t size = le32(p + 12);
            const bool header = p[23] & 0x80;
            const Offset total = Offset{size} + (header ? 32 : 0);
            if (size >= 32 && total <= end - start) {
                end -= total;
            }
        }
    }
    return end;
}

}  // namespace mp3
}  // namespace audio_stream
