#include "id3.h"

#include <algorithm>
#include <cstring>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

namespace audio_stream {
namespace mp3 {
namespace {

using Kind = Id3Edit::Kind;

bool is_any(const unsigned char* id, std::size_t len, std::initializer_list<const char*> ids)
{
    return std::any_of(ids.begin(), ids.end(), [&](const char* s) { return std::memcmp(id, s, len) == 0; });
}

// What a cut does to a frame of this id: an edit, or nullopt for a copy (ID3v2.2 has 3-byte ids
// and no chapters).
std::optional<Kind> edit_kind(const unsigned char* id, unsigned major)
{
    if (major == 2) {
        if (std::memcmp(id, "TLE", 3) == 0) {
            return Kind::Length;
        }
        return is_any(id, 3, {"SLT", "ETC", "STC", "MLL"}) ? std::optional<Kind>(Kind::Drop) : std::nullopt;
    }
    if (std::memcmp(id, "TLEN", 4) == 0) {
        return Kind::Length;
    }
    if (std::memcmp(id, "CHAP", 4) == 0) {
        return Kind::Chapter;
    }
    if (std::memcmp(id, "CTOC", 4) == 0) {
        return Kind::Toc;
    }
    return is_any(id, 4, {"SYLT", "ETCO", "SYTC", "POSS", "MLLT", "ASPI", "SEEK"}) ? std::optional<Kind>(Kind::Drop)
                                                                                  : std::nullopt;
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
// for an id that is not A-Z/0-9 or a v2.4 size that is not syncsafe.
std::optional<Offset> frame_length(const unsigned char* f, unsigned major)
{
    const std::size_t id_len = major == 2 ? 3 : 4;
    const bool id = std::all_of(f, f + id_len, [](unsigned char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); });
    if (!id || (major == 4 && ((f[4] | f[5] | f[6] | f[7]) & 0x80))) {
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
    const bool text = is_any(f, id_len, {"COMM", "TXXX"});
    if (!text || len == 0) {
        return false;
    }
    const auto n = static_cast<std::size_t>(std::min<Offset>(len, 64));
    const unsigned char* b = r.at(body, n);
    constexpr std::string_view kItunSmpb = "iTunSMPB";
    return !b || std::search(b, b + n, kItunSmpb.begin(), kItunSmpb.end()) != b + n;
}

// The null-terminated string at b[at, n), at most 255 bytes: `at` then past its terminator.
std::optional<std::string> terminated(const unsigned char* b, std::size_t n, std::size_t& at)
{
    if (at >= n) {
        return std::nullopt;
    }
    const auto* end = static_cast<const unsigned char*>(std::memchr(b + at, 0, std::min<std::size_t>(n - at, 256)));
    if (!end) {
        return std::nullopt;
    }
    std::string s(reinterpret_cast<const char*>(b + at), static_cast<std::size_t>(end - (b + at)));
    at = static_cast<std::size_t>(end - b) + 1;
    return s;
}

// A chapter frame's fields from its body b[0, n) (ID3v2 Chapter Frame Addendum 1.0: CHAP §3 is
// an element ID, start and end times in ms and start and end byte offsets; CTOC §4 an element ID,
// flags, an entry count and that many child element IDs; then, in both, embedded frames).
// Returns where the embedded frames start in b, or nullopt for a body that does not hold them.
std::optional<std::size_t> read_chapter_fields(const unsigned char* b, std::size_t n, Id3Edit& e)
{
    std::size_t at = 0;
    auto id = terminated(b, n, at);
    if (!id) {
        return std::nullopt;
    }
    e.id = std::move(*id);
    if (e.kind == Kind::Chapter) {
        if (n - at < 16) {
            return std::nullopt;
        }
        e.start_ms = be32(b + at);
        e.end_ms = be32(b + at + 4);
        return at + 16;
    }
    if (n - at < 2) {
        return std::nullopt;
    }
    e.toc_flags = b[at];
    const unsigned count = b[at + 1];
    at += 2;
    for (unsigned i = 0; i < count; ++i) {
        auto child = terminated(b, n, at);
        if (!child) {
            return std::nullopt;
        }
        e.children.push_back(std::move(*child));
    }
    return at;
}

// What the frames of a tag cost to rewrite, across the tags of a file.
struct Caps {
    unsigned edits = 0;
    std::size_t id_bytes = 0;
};

// The edit the frame at `at` (header f, body of len bytes) needs, if any, added to the tag's;
// false when a cut may not keep the tag.
bool add_edit(Reader& r, Id3Tag& tag, Offset at, const unsigned char* f, Offset len, Caps& caps)
{
    const unsigned major = tag.major;
    const Offset head = major == 2 ? 6 : 10;
    Id3Edit e;
    e.offset = at;
    e.length = head + len;
    e.status = major == 2 ? 0 : f[8];
    const unsigned char format = major == 2 ? 0 : f[9];
    const auto kind = edit_kind(f, major);
    if (!kind) {
        if (!itunes_gapless(r, f, major, at + head, len)) {
            return true;  // copied as it is
        }
    }
    e.kind = kind.value_or(Kind::Drop);
    if (++caps.edits > kMaxId3Edits) {
        return false;
    }
    if (e.kind == Kind::Chapter || e.kind == Kind::Toc) {
        // Compressed, encrypted, grouped or unsynchronised, its fields are not where they seem.
        if (format != 0) {
            return false;
        }
        const auto n = static_cast<std::size_t>(std::min<Offset>(len, kWindow));
        const unsigned char* b = r.at(at + head, n);
        const auto rest = b ? read_chapter_fields(b, n, e) : std::nullopt;
        if (!rest) {
            return false;
        }
        caps.id_bytes += e.id.size();
        for (const auto& c : e.children) {
            caps.id_bytes += c.size();
        }
        if (caps.id_bytes > kMaxChapterIdBytes) {
            return false;
        }
        e.rest = at + head + *rest;
    }
    tag.edits.push_back(std::move(e));
    return true;
}

// The frames of the tag at tag.offset (flags and a body of `size` bytes): where they start and
// end, and their edits. False when a cut may not keep the tag; anything unclear says no.
bool read_frames(Reader& r, Id3Tag& tag, unsigned flags, std::uint32_t size, Caps& caps)
{
    const unsigned major = tag.major;
    // v2.2/2.3 unsynchronisation may have altered frame headers; v2.2 bit 6 is compression.
    if (major < 2 || major > 4 || (major < 4 && (flags & 0x80)) || (major == 2 && (flags & 0x40))) {
        return false;
    }
    const Offset end = tag.offset + 10 + size;
    const auto first = frames_start(r, tag.offset + 10, end, major, flags);
    if (!first) {
        return false;
    }
    tag.frames = *first;
    const std::size_t head = major == 2 ? 6 : 10;
    Offset p = *first;
    for (unsigned n = 0; end - p >= head; ++n) {
        const unsigned char* f = r.at(p, head);
        if (!f || n == kMaxId3Frames) {
            return false;
        }
        if (f[0] == 0) {
            break;  // padding
        }
        const auto len = frame_length(f, major);
        if (!len || *len > end - p - head || !add_edit(r, tag, p, f, *len, caps)) {
            return false;
        }
        p += head + *len;
    }
    tag.frames_end = p;
    return true;
}

}  // namespace

Id3 read_id3v2(Reader& r)
{
    Id3 id3;
    bool keep = true;
    Caps caps;
    // Tags may follow one another; each turn advances at least 10 bytes.
    for (const unsigned char* h = r.at(id3.end, 10); h && std::memcmp(h, "ID3", 3) == 0; h = r.at(id3.end, 10)) {
        // ID3v2 §3.1: version bytes are never 0xFF, the size is syncsafe.
        if (h[3] == 0xFF || h[4] == 0xFF || ((h[6] | h[7] | h[8] | h[9]) & 0x80)) {
            refuse_malformed("bad ID3v2 header");
        }
        Id3Tag tag;
        tag.offset = id3.end;
        tag.major = h[3];
        tag.minor = h[4];
        const unsigned flags = h[5];
        const std::uint32_t size = syncsafe32(h + 6);
        tag.total = 10 + Offset{size} + (h[3] == 4 && (flags & 0x10) ? 10 : 0);
        if (tag.total > r.size() - id3.end) {
            refuse_malformed("ID3v2 tag past the end of the file");
        }
        id3.end += tag.total;
        keep = keep && id3.tags.size() < kMaxId3Tags && read_frames(r, tag, flags, size, caps);
        if (keep) {
            id3.tags.push_back(std::move(tag));
        }
    }
    id3.keep = keep && id3.end > 0;
    if (!id3.keep) {
        id3.tags.clear();
    }
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
