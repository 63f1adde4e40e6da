// Writing boxes (ISO/IEC 14496-12 §4.2) as a cut's extents: rewritten boxes in memory, large
// unchanged ones as file extents, so a cut holds its headers and not its samples.
#ifndef AUDIO_STREAM_FORMATS_MP4_WRITER_H
#define AUDIO_STREAM_FORMATS_MP4_WRITER_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

#include "box.h"

namespace audio_stream::mp4 {

// A body being written: memory for what is written here, file extents for what is copied.
// Boxes are opened and closed; their 32-bit size is patched on close.
class Writer {
public:
    struct Mark {
        std::size_t extent;  // the memory block holding the header
        std::size_t at;      // of the header in it
        Offset start;        // length of the body before the header
    };
    // Where a value was written, to patch it later.
    struct Slot {
        std::size_t extent;
        std::size_t at;
    };
    Mark open(const char* type);
    void close(const Mark& m);
    Slot put(std::uint64_t v, std::size_t n);
    void put32(std::uint64_t v) { put(v, 4); }
    void put64(std::uint64_t v) { put(v, 8); }
    void bytes(const std::string& b);
    void file(Offset offset, Offset length);
    void patch(const Slot& s, std::uint64_t v, std::size_t n);
    Offset length() const { return length_; }
    Extents take() { return std::move(out_); }
    // Whether `length` bytes copied unchanged may go into memory (counted if so): under
    // kCopyByExtent, and while the cut's copies stay within kMaxCopiedBytes.
    bool may_copy(Offset length);

private:
    std::string& memory();
    Extents out_;
    Offset length_ = 0;
    Offset copied_ = 0;
};

// File bytes [at, at + length) copied unchanged: read into memory, or a file extent when at
// least kCopyByExtent bytes, or when the cut has copied kMaxCopiedBytes already (4,090 boxes of
// 16 KiB less a byte in a udta made a cut hold 64 MiB). copy_box: a whole box so.
constexpr Offset kCopyByExtent = 16 * 1024;
constexpr Offset kMaxCopiedBytes = Offset{1} << 20;
void copy_bytes(ByteSource& src, Writer& w, Offset at, Offset length);
void copy_box(BoxWalk& walk, Writer& w, const Box& b);

}  // namespace audio_stream::mp4

#endif
