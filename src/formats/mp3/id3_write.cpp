#include "id3_write.h"

#include <algorithm>
#include <set>
#include <string>

namespace audio_stream {
namespace mp3 {

namespace {

using Kind = Id3Edit::Kind;

// The element IDs a cut keeps: the chapters that overlap it, and every table of contents (a
// CTOC may list another).
using KeptIds = std::set<std::string>;

bool overlaps(const Id3Edit& chapter, const TagWindow& w)
{
    return chapter.end_ms > w.start_ms && chapter.start_ms < w.end_ms;
}

std::string be_bytes(std::uint64_t v, std::size_t n)
{
    std::string s(n, '\0');
    put_be(reinterpret_cast<Byte*>(s.data()), n, v);
    return s;
}

// ID3v2.4 §6.2: seven bits to a byte.
std::string syncsafe_bytes(std::uint32_t v)
{
    return {static_cast<char>(v >> 21 & 0x7F), static_cast<char>(v >> 14 & 0x7F), static_cast<char>(v >> 7 & 0x7F),
            static_cast<char>(v & 0x7F)};
}

// A frame header in the tag's version for a body of `body` bytes (no format flags: every
// rewritten body is plain).
std::string frame_header(const Id3Tag& tag, const char* id, Offset body, unsigned char status)
{
    if (tag.major == 2) {
        return std::string(id, 3) + be_bytes(body, 3);
    }
    const auto size = static_cast<std::uint32_t>(body);
    return std::string(id, 4) + (tag.major == 4 ? syncsafe_bytes(size) : be_bytes(size, 4)) +
           static_cast<char>(status) + '\0';
}

// A rewritten frame: its new head in memory, then its embedded frames from the file.
void emit_frame(Extents& out, const Id3Tag& tag, const Id3Edit& e, const char* id, const std::string& head)
{
    const Offset rest = e.rest > 0 ? e.offset + e.length - e.rest : 0;
    append_memory(out, frame_header(tag, id, head.size() + rest, e.status) + head);
    append_file(out, e.rest, rest);
}

void emit_edit(Extents& out, const Id3Tag& tag, const Id3Edit& e, const TagWindow& w, const KeptIds& kept)
{
    switch (e.kind) {
    case Kind::Drop:
        return;
    case Kind::Length:
        // A text frame: ISO-8859-1, the length in milliseconds.
        emit_frame(out, tag, e, tag.major == 2 ? "TLE" : "TLEN", '\0' + std::to_string(w.end_ms - w.start_ms));
        return;
    case Kind::Chapter: {
        if (!overlaps(e, w)) {
            return;
        }
        const std::uint64_t start = std::max<std::uint64_t>(e.start_ms, w.start_ms) - w.start_ms;
        const std::uint64_t end = std::min<std::uint64_t>(e.end_ms, w.end_ms) - w.start_ms;
        emit_frame(out, tag, e, "CHAP",
                   e.id + '\0' + be_bytes(start, 4) + be_bytes(end, 4) + be_bytes(0xFFFFFFFFu, 4) + be_bytes(0xFFFFFFFFu, 4));
        return;
    }
    case Kind::Toc: {
        std::string children;
        unsigned count = 0;
        for (const auto& c : e.children) {
            if (kept.count(c) != 0) {
                children += c + '\0';
                ++count;
            }
        }
        emit_frame(out, tag, e, "CTOC", e.id + '\0' + static_cast<char>(e.toc_flags) + static_cast<char>(count) + children);
        return;
    }
    }
}

void emit_tag(Extents& out, const Id3Tag& tag, const TagWindow& w, const KeptIds& kept)
{
    if (tag.edits.empty()) {
        append_file(out, tag.offset, tag.total);
        return;
    }
    Extents frames;
    Offset at = tag.frames;
    for (const auto& e : tag.edits) {
        append_file(frames, at, e.offset - at);
        emit_edit(frames, tag, e, w, kept);
        at = e.offset + e.length;
    }
    append_file(frames, at, tag.frames_end - at);
    const Offset size = extents_length(frames);
    if (size == 0 || size >= Offset{1} << 28) {
        return;  // nothing left, or beyond a syncsafe size (a TLEN grown in a tag of 256 MiB): left out
    }
    append_memory(out, std::string("ID3") + static_cast<char>(tag.major) + static_cast<char>(tag.minor) + '\0' +
                           syncsafe_bytes(static_cast<std::uint32_t>(size)));
    for (auto& x : frames) {
        if (const auto* f = std::get_if<FileExtent>(&x)) {
            append_file(out, f->offset, f->length);
        }
        else {
            append_memory(out, std::move(std::get<MemoryBlock>(x).bytes));
        }
    }
}

}  // namespace

void emit_id3(Extents& out, const Id3& id3, const TagWindow& w)
{
    KeptIds kept;
    for (const auto& tag : id3.tags) {
        for (const auto& e : tag.edits) {
            if (e.kind == Kind::Toc || (e.kind == Kind::Chapter && overlaps(e, w))) {
                kept.insert(e.id);
            }
        }
    }
    for (const auto& tag : id3.tags) {
        emit_tag(out, tag, w, kept);
    }
}

}  // namespace mp3
}  // namespace audio_stream
