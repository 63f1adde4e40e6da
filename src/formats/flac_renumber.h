// The walk over the frames after a FLAC cut (RFC 9639 §9): every byte read once through one
// large buffer, each frame renumbered from 0 without reading its audio.
#ifndef AUDIO_STREAM_FORMATS_FLAC_RENUMBER_H
#define AUDIO_STREAM_FORMATS_FLAC_RENUMBER_H

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cut.h"
#include "flac_scan.h"

namespace audio_stream {
namespace flac {

// Renumbering reads every byte after the cut once (frames have no length field, RFC 9639 §9):
// at most this much, re-reads after a damaged frame included.
constexpr Offset kMaxWalkBytes = Offset{2} << 30;
constexpr std::size_t kWalkChunk = std::size_t{1} << 20;
// Kept before the read position when the walk's buffer moves on, for a frame's CRC-16 bytes.
constexpr std::size_t kWalkBack = 64;

// Sequential reads through one large buffer for the walk over the frames after the cut,
// counted against kMaxWalkBytes.
class ChunkReader {
public:
    explicit ChunkReader(ByteSource& src) : src_(src), size_(src.size()), buffer_(buffer_bytes(kWalkChunk, size_)) {}

    Offset size() const { return size_; }
    bool exhausted() const { return exhausted_; }

    // The bytes at off: n is how many the buffer holds from there, at least min(want, what the
    // file has). nullptr when a read fails or the budget is spent; n == 0 at the end of the file.
    // Defined here, inline: the walk calls it at every sync byte, and out of line g++ 12 takes
    // the checked std::optional in Renumberer::run for maybe uninitialized (-Werror).
    const Byte* at(Offset off, std::size_t want, std::size_t& n)
    {
        n = 0;
        if (off >= size_) {
            return buffer_.data();
        }
        const Offset need = std::min<Offset>(want, size_ - off);
        if (off < start_ || off + need > start_ + length_) {
            const Offset from = off - std::min<Offset>(off, kWalkBack);
            const auto len = static_cast<std::size_t>(std::min<Offset>(buffer_.size(), size_ - from));
            if (len > kMaxWalkBytes - read_) {
                exhausted_ = true;
                return nullptr;
            }
            if (!src_.read(from, buffer_.data(), len)) {
                return nullptr;
            }
            read_ += len;
            start_ = from;
            length_ = len;
        }
        n = static_cast<std::size_t>(start_ + length_ - off);
        return buffer_.data() + (off - start_);
    }

private:
    ByteSource& src_;
    Offset size_;
    std::vector<Byte> buffer_;
    Offset start_ = 0;
    std::size_t length_ = 0;
    Offset read_ = 0;
    bool exhausted_ = false;
};

// The frames from the cut's to the end of the file, renumbered from 0 (RFC 9639 §9.1.5): each
// frame's header is rewritten in memory (CRC-8 recomputed), its body stays in the file, and its
// CRC-16 (§9.3) follows from the old one without reading the body (flac::renumbered_crc16).
class Renumberer {
public:
    Renumberer(ByteSource& src, const StreamInfo& info, Extents& out) : in_(src), info_(info), out_(out) {}

    // Offsets in the cut's audio of the frames that started at these file offsets (sorted).
    void track(std::vector<Offset> offsets) { tracked_ = std::move(offsets); }

    std::optional<Offset> moved(Offset file_offset) const;

    // Empty on success, else why the cut cannot be made.
    std::string run(Offset first);

private:
    std::string detail(const char* what) const;

    std::uint64_t following() const { return number_ + (variable_ ? block_ : 1); }

    bool header(Offset off, FrameHeader& h);

    bool start_frame(Offset off, FrameHeader& h) { return header(off, h); }

    // The frame at off, whose header (h, its bytes in next_header_) was just read, begins.
    bool begin(Offset off, const FrameHeader& h);

    // The current frame ends at end: its header goes out with the previous frame's CRC-16, its
    // body as a file extent, and its own new CRC-16 waits for the next header.
    bool finish(Offset end);

    // Where the current frame, the last, ends: at the end of the file when its CRC-16 comes out
    // zero there, else where it last does within `longest` bytes (trailing bytes such as an
    // ID3v1 tag follow), else nowhere (a damaged frame).
    std::optional<Offset> last_end(Offset longest);

    ChunkReader in_;
    const StreamInfo& info_;
    Extents& out_;
    std::vector<Offset> tracked_;
    std::size_t next_track_ = 0;
    std::vector<std::pair<Offset, Offset>> moves_;
    std::uint64_t base_ = 0;
    bool variable_ = false;
    std::size_t frames_ = 0;
    Offset start_ = 0;           // the current frame's
    Offset pos_ = 0;             // bytes [start_, pos_) are under crc_
    std::uint16_t crc_ = 0;
    std::uint64_t number_ = 0;
    std::uint32_t block_ = 0;
    std::string header_;         // as in the file
    std::string renumbered_;     // as in the cut
    Byte next_header_[kMaxHeaderBytes] = {};
    std::string pending_;        // memory bytes not yet emitted: a CRC-16, then a header
    Offset written_ = 0;         // bytes of audio emitted or pending
};

}  // namespace flac
}  // namespace audio_stream

#endif
