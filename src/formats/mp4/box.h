// ISO/IEC 14496-12 §4.2 boxes: reading their headers, walking a container's children within a
// budget, and reading payloads with checked big-endian reads. The bottom of the MP4 reader.
#ifndef AUDIO_STREAM_FORMATS_MP4_BOX_H
#define AUDIO_STREAM_FORMATS_MP4_BOX_H

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "../toolbox.h"

namespace audio_stream::mp4 {

struct Box {
    Offset offset = 0;   // of the header
    Offset payload = 0;  // first byte after the header
    Offset end = 0;      // one past the box
    char type[4] = {};
    bool to_end = false;  // size 0: the box runs to the end of the enclosing space
    Offset size() const { return end - offset; }
    Offset payload_size() const { return end - payload; }
};

// The box whose header starts at `at`, inside [at, limit); nullopt if it does not fit (64-bit
// sizes and size 0, "to the end of the enclosing space", are read).
std::optional<Box> box_at(ByteSource& src, Offset at, Offset limit);

bool is(const Box& b, const char* type);

// The children of a box, in order; every box walked counts against one budget per cut, so a
// moov of millions of empty boxes is refused (Malformed) after kMaxBoxes.
class BoxWalk {
public:
    static constexpr int kMaxBoxes = 65536;
    explicit BoxWalk(ByteSource& src) : src_(src) {}
    // The boxes in [from, end); Malformed when one does not fit or has size 0 (legal at the top
    // level only).
    std::vector<Box> children(Offset from, Offset end);
    std::vector<Box> children(const Box& b) { return children(b.payload, b.end); }
    // The first child of `type`, if any.
    static const Box* find(const std::vector<Box>& boxes, const char* type);
    // The payload of a box, read whole (callers cap what they read this way).
    std::string payload(const Box& b);
    ByteSource& src() { return src_; }

private:
    ByteSource& src_;
    int walked_ = 0;
};

// The payload of a box of fixed fields (tkhd, mdhd, hdlr, elst, tref's chap), read whole:
// Malformed, with `what` in the detail, past 4096 bytes.
std::string small_payload(BoxWalk& walk, const Box& b, const char* what);

// Bytes of a payload read whole, with checked big-endian reads: past the end is Malformed
// with `what` in the detail.
class Reader {
public:
    Reader(const std::string& bytes, const char* what) : bytes_(bytes), what_(what) {}
    std::uint64_t be_at(std::size_t at, std::size_t n) const;
    std::uint32_t u32(std::size_t at) const { return static_cast<std::uint32_t>(be_at(at, 4)); }
    std::uint64_t u64(std::size_t at) const { return be_at(at, 8); }
    std::uint8_t u8(std::size_t at) const { return static_cast<std::uint8_t>(be_at(at, 1)); }
    std::size_t size() const { return bytes_.size(); }
    const std::string& bytes() const { return bytes_; }
    const char* what() const { return what_; }

private:
    const std::string& bytes_;
    const char* what_;
};

}  // namespace audio_stream::mp4

#endif
