// Finding FLAC frames without decoding them (RFC 9639 §9): the frame header type and parser,
// and the scanner that checks one frame within a fixed byte budget (the first, before a walk).
#ifndef AUDIO_STREAM_FORMATS_FLAC_SCAN_H
#define AUDIO_STREAM_FORMATS_FLAC_SCAN_H

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "metadata.h"

namespace audio_stream {
namespace flac {

// RFC 9639 §8.2: frame sizes are 24-bit fields, so no frame is longer.
constexpr Offset kMaxFrameBytes = Offset{1} << 24;
// Bytes examined (sync search, CRC-16 checks) per cut: hostile input costs no more than this.
constexpr Offset kScanBudget = Offset{16} << 20;
// RFC 9639 §9.1: the longest frame header, CRC-8 included.
constexpr std::size_t kMaxHeaderBytes = 16;

// A read buffer of `limit` bytes, or of the whole file when it is smaller: a cut of a short file
// neither allocates nor clears a megabyte it will never fill.
inline std::size_t buffer_bytes(std::size_t limit, Offset file_size)
{
    return static_cast<std::size_t>(std::min<Offset>(limit, file_size));
}

struct FrameHeader {
    bool variable;          // numbered by sample (variable block size) rather than by frame
    std::uint64_t number;
    unsigned number_length; // bytes of the coded number, at offset 4 (§9.1.5)
    std::uint32_t block;    // samples in the frame
    unsigned length;        // header bytes, CRC-8 included
};

struct Frame {
    Offset offset;
    Offset length;
    std::uint64_t first;    // the frame's first sample, as its header numbers it
    std::uint32_t block;
};

// The frame header in b[0, n) if it parses, its CRC-8 matches and it agrees with STREAMINFO.
// b holds kMaxHeaderBytes bytes (zeros past n), so that no field is read past it.
std::optional<FrameHeader> parse_header(const Byte* b, std::size_t n, const StreamInfo& info);

// Reads through one fixed window; the budget bounds how many bytes a cut may examine.
class Scanner {
public:
    Scanner(ByteSource& src, const StreamInfo& info);

    Offset size() const { return size_; }
    bool exhausted() const { return budget_ == 0; }

    // The header at off if it parses (parse_header) and agrees with the stream's numbering
    // once the first frame has set it.
    std::optional<FrameHeader> header_at(Offset off);

    // The first frame fixes how frames are numbered; every later header must agree.
    void set_numbering(const FrameHeader& first)
    {
        numbered_ = true;
        variable_ = first.variable;
        fixed_block_ = first.block;
    }

    void set_end_sample(std::uint64_t end) { end_sample_ = end; }

    std::uint64_t first_sample(const FrameHeader& h) const
    {
        return h.variable ? h.number : h.number * fixed_block_;
    }

    // A frame starting at off: a valid header, then bytes whose CRC-16 (over the whole frame,
    // RFC 9639 §9.3) comes out zero just where the next frame's header starts, where the file
    // ends, or where the stream's last sample ends. A sync code inside audio data fails this.
    std::optional<Frame> frame_at(Offset off);

    bool read(Offset off, Byte* out, std::size_t n)
    {
        return off <= size_ && n <= size_ - off && src_.read(off, out, n);
    }

private:
    // The window's bytes from off (refilled when off is outside it), at most up to `to` and at
    // most what the budget has left: false when a read fails or the budget is spent. Callers
    // take what they examine from budget_.
    bool span(Offset off, Offset to, const Byte*& p, std::size_t& n);
    bool fill(Offset off);
    std::size_t peek(Offset off, Byte* out, std::size_t n);

    ByteSource& src_;
    Offset size_;
    const StreamInfo& info_;
    std::vector<Byte> window_;
    Offset start_ = 0;
    std::size_t length_ = 0;
    Offset budget_ = kScanBudget;
    bool numbered_ = false;
    bool variable_ = false;
    std::uint32_t fixed_block_ = 0;
    std::uint64_t end_sample_ = 0;
};

}  // namespace flac
}  // namespace audio_stream

#endif
