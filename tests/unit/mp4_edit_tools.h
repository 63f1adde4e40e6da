// Edits that turn an ffmpeg file into the variants the MP4 tests need (co64, no roll group, an
// iTunSMPB tag, boxes added or replaced) with every enclosing box resized, and a sparse source
// for files too large to hold. Split from mp4_tools.h, which includes it.
#ifndef AUDIO_STREAM_TESTS_UNIT_MP4_EDIT_TOOLS_H
#define AUDIO_STREAM_TESTS_UNIT_MP4_EDIT_TOOLS_H

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "src/byte_source.h"
#include "tests/unit/mp4_box_tools.h"

namespace audio_stream {
namespace mp4_test {

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

// `s` with `extra` appended to the children of the box `inside` (it and its parents grown).
inline std::string with_kids_appended(const std::string& s, const Box& inside, const std::string& extra)
{
    std::string grown = s.substr(inside.offset, inside.end - inside.offset) + extra;
    grown.replace(0, 4, bes(grown.size(), 4));
    return replace_box(s, inside, grown);
}

// A file of any size can be probed without being held: bytes a MemorySource never has.
class SparseSource final : public ByteSource {
public:
    SparseSource(Offset size, std::vector<std::pair<Offset, std::string>> pieces)
        : size_(size), pieces_(std::move(pieces))
    {
    }
    Offset size() const override { return size_; }
    bool fetch(Offset offset, void* buf, std::size_t len) override
    {
        if (offset > size_ || len > size_ - offset) {
            return false;
        }
        auto* out = static_cast<char*>(buf);
        std::fill(out, out + len, '\0');
        for (const auto& [at, bytes] : pieces_) {
            const Offset from = std::max(at, offset), to = std::min(at + bytes.size(), offset + len);
            if (from < to) {
                std::memcpy(out + (from - offset), bytes.data() + (from - at), to - from);
            }
        }
        return true;
    }

private:
    Offset size_;
    std::vector<std::pair<Offset, std::string>> pieces_;
};

}  // namespace mp4_test
}  // namespace audio_stream

#endif
