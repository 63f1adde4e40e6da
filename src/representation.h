// What a URL stands for: a byte length and the ordered extents that make up its body.
// A plain file is one FileExtent; a time-seek cut will be a rewritten header (MemoryBlock)
// followed by FileExtents. Everything downstream sees extents, never a file format.
#ifndef AUDIO_STREAM_REPRESENTATION_H
#define AUDIO_STREAM_REPRESENTATION_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace audio_stream {

using Offset = std::uint64_t;

struct FileExtent {
    Offset offset;
    Offset length;
    bool operator==(const FileExtent& o) const { return offset == o.offset && length == o.length; }
};

struct MemoryBlock {
    std::string bytes;
    bool operator==(const MemoryBlock& o) const { return bytes == o.bytes; }
};

using Extent = std::variant<FileExtent, MemoryBlock>;
using Extents = std::vector<Extent>;

struct Representation {
    Offset length = 0;
    Extents extents;
    // Appended to the file's ETag so that a derived representation (a cut) has its own validator.
    std::string etag_suffix;
    // The file bytes a representation built wholly in memory was made from (an MPEG-TS segment's
    // frames): what download counting credits when it is sent. Empty for the others, whose file
    // extents say it.
    Extents source;
};

Offset extent_length(const Extent& e);
Offset extents_length(const Extents& extents);

// Appends the file bytes [offset, offset + length) to `out`, growing the last extent instead
// when it is a file extent that ends at `offset`. Nothing for an empty range.
void append_file(Extents& out, Offset offset, Offset length);

// Appends `bytes` to `out`, joining them to the last extent when it is a memory block.
// Nothing for empty bytes.
void append_memory(Extents& out, std::string bytes);

// The ETag of a derived representation: `suffix` goes inside the quotes of the file's ETag,
// so "abc" becomes "abc-t30" and W/"abc" stays weak as W/"abc-t30". An empty suffix, or a
// value that is not a quoted entity-tag, comes back unchanged.
std::string suffixed_etag(std::string_view etag, std::string_view suffix);

// The bytes of the body that come from the file (memory blocks excluded).
Offset file_bytes(const Extents& body);

// One past the last file byte the body needs (0 when it needs none).
Offset file_end(const Extents& body);

// The body's one file range when it is nothing else (a 200 or a single 206), else nullptr.
const FileExtent* single_file_range(const Extents& body);

// The whole of a regular file of `size` bytes.
Representation whole_file(Offset size);

// The bytes [first, first + length) of `extents`, as extents. Requires first + length to lie
// within extents_length(extents); empty pieces are never emitted.
Extents slice_extents(const Extents& extents, Offset first, Offset length);

// The same from extent `from` on, whose first byte is at `pos` of the representation.
Extents slice_extents_from(const Extents& extents, std::size_t from, Offset pos, Offset first, Offset length);

// Where each extent of a body ends, found once: slices of it (the parts of a multipart answer)
// then start by a binary search instead of a walk over the extents before them, so that many
// ranges over a cut of many extents cost the ranges, not ranges x extents.
class ExtentStarts {
public:
    explicit ExtentStarts(const Extents& extents);
    // slice_extents(extents, first, length), for the extents this was made from.
    Extents slice(const Extents& extents, Offset first, Offset length) const;

private:
    std::vector<Offset> ends_;
};

// Where next_slice goes on from: an extent of the body and the bytes of it already taken.
struct SliceCursor {
    std::size_t index = 0;
    Offset into = 0;
    bool done(const Extents& body) const { return index >= body.size(); }
};

// The body from `at` on, at most `max_extents` extents (>= 1) and `max_bytes` bytes (0: no
// limit; an extent is split at the limit), and moves `at` past them.
Extents next_slice(const Extents& body, SliceCursor& at, std::size_t max_extents, Offset max_bytes);

}  // namespace audio_stream

#endif
