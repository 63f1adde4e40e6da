// The frames of a FLAC stream (RFC 9639 §9): found by one walk that reads every byte once
// through one large buffer and kept as the file's seek index, from which every cut and clip
// is then located and written without reading the audio again.
#ifndef AUDIO_STREAM_FORMATS_FLAC_INDEX_H
#define AUDIO_STREAM_FORMATS_FLAC_INDEX_H

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "../formats.h"
#include "metadata.h"
#include "scan.h"

namespace audio_stream {
namespace flac {

// Indexing reads every byte of the audio once (frames have no length field, RFC 9639 §9): at
// most this much, re-reads after a damaged frame included (about 10 hours of CD-quality FLAC).
constexpr Offset kMaxWalkBytes = Offset{4} << 30;
constexpr std::size_t kWalkChunk = std::size_t{1} << 20;
// Kept before the read position when the walk's buffer moves on, for a frame's CRC-16 bytes.
constexpr std::size_t kWalkBack = 64;

// Sequential reads through one large buffer for the walk over the frames, counted against
// kMaxWalkBytes.
class ChunkReader {
public:
    explicit ChunkReader(ByteSource& src) : src_(src), size_(src.size()), buffer_(buffer_bytes(kWalkChunk, size_)) {}

    Offset size() const { return size_; }
    bool exhausted() const { return exhausted_; }

    // Bytes of the buffer: `data` null when a read failed or the budget is spent.
    struct Bytes {
        const Byte* data = nullptr;
        std::size_t size = 0;  // 0 at the end of the file
    };

    // The bytes at off: as many as the buffer holds from there, at least min(want, what the
    // file has). Defined here, inline: the walk calls it at every sync byte.
    Bytes at(Offset off, std::size_t want)
    {
        if (off >= size_) {
            return {buffer_.data(), 0};
        }
        const Offset need = std::min<Offset>(want, size_ - off);
        if (off < start_ || off + need > start_ + length_) {
            const Offset from = off - std::min<Offset>(off, kWalkBack);
            const auto len = static_cast<std::size_t>(std::min<Offset>(buffer_.size(), size_ - from));
            if (len > kMaxWalkBytes - read_) {
                exhausted_ = true;
                return {};
            }
            if (!src_.read(from, buffer_.data(), len)) {
                return {};
            }
            read_ += len;
            start_ = from;
            length_ = len;
        }
        return {buffer_.data() + (off - start_), static_cast<std::size_t>(start_ + length_ - off)};
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

// Every frame of the stream, found once (the walk reads the whole audio: frames have no length
// field, RFC 9639 §9) and kept so that any cut is then made from memory: where each frame
// starts, its number and length in samples, its header bytes and its CRC-16. 40 bytes a frame:
// 1.5 MiB for an hour of 44.1 kHz audio in 4096-sample frames.
struct IndexedFrame {
    Offset offset;
    std::uint64_t number;        // as the header codes it (frame or sample number)
    std::uint32_t block;         // samples
    std::uint16_t crc;           // the CRC-16 that ends the frame, as in the file
    std::uint8_t length;         // header bytes, CRC-8 included
    std::uint8_t number_length;  // bytes of the coded number, at offset 4
    Byte header[kMaxHeaderBytes];
};

// The walk reads at most kMaxWalkBytes and indexes at most this many frames (20 MiB; 13.5 hours
// of 44.1 kHz audio in 4096-sample frames).
constexpr std::size_t kMaxIndexFrames = std::size_t{1} << 19;

struct FrameIndex final : SeekIndex {
    std::string error;                // why the frames could not be indexed (then no frames)
    std::vector<IndexedFrame> frames; // in file order, each number following the one before
    bool variable = false;            // numbered by sample
    std::uint32_t fixed_block = 0;    // the first frame's block size: frame n starts at n * it
    Offset last_end = 0;              // where the last frame ends; trailing bytes follow it
    bool truncated_last = false;      // the last frame is too short to hold a CRC-16

    std::uint64_t first_sample(const IndexedFrame& f) const { return variable ? f.number : f.number * fixed_block; }
    // One past the last sample of the frame.
    std::uint64_t end_sample(const IndexedFrame& f) const { return first_sample(f) + f.block; }
    // Where frames[i] ends: where the next one starts, or where the last one ends.
    Offset end_of(std::size_t i) const { return i + 1 < frames.size() ? frames[i + 1].offset : last_end; }
    std::size_t footprint() const override { return sizeof *this + error.size() + frames.capacity() * sizeof(IndexedFrame); }

    // Little-endian fields, the frames 40 bytes each. parse() takes back only what a cut
    // (renumber.h) can use safely on a file of `file_size` bytes: frames in order, inside the
    // file, each long enough for its header and CRC-16, numbers following; else null.
    std::string payload() const override;
    static std::shared_ptr<const FrameIndex> parse(std::string_view payload, Offset file_size);
};

// The frames from `first` (a frame the Scanner checked) to the end of the file. Frames end
// where the next one's header starts: a header that parses, carries exactly the next number
// and closes a CRC-16 of zero over the frame. A damaged frame (whose CRC-16 never comes out
// zero) ends at the next such header; bytes after a frame no frame is that long are trailing.
FrameIndex index_frames(ByteSource& src, const StreamInfo& info, Offset first);

// RFC 9639 §9: the first frame follows the metadata and fixes the numbering; the Scanner checks
// it within kScanBudget, then every frame of the stream is indexed once (index_frames). A
// stream that cannot be indexed gives an index with an error and no frames: a cache keeps that
// too, so a damaged file is not walked again for every cut.
FrameIndex build_index(ByteSource& src, const Stream& s);

// The stream's index from `indexes` (built there once per file, within kMaxWalkBytes and
// kMaxIndexFrames). Refuses (Malformed) a stream that could not be indexed or has no frames.
std::shared_ptr<const FrameIndex> stream_index(ByteSource& src, const Stream& s, IndexSource& indexes);

}  // namespace flac
}  // namespace audio_stream

#endif
