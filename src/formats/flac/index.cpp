#include "index.h"

#include <algorithm>
#include <cstring>

#include "frame.h"
#include "../payload.h"

namespace audio_stream {
namespace flac {

namespace {

// Where the frame under the walk ends.
struct Boundary {
    enum Kind { Next, Last, Unreadable } kind;
    Offset at = 0;         // Next: where the next frame starts
    FrameHeader next{};    // Next: its header, whose bytes are in Walker::next_header_
};

// The walk of index_frames: one pass over the bytes, a CRC-16 running over the current frame.
class Walker {
public:
    Walker(ByteSource& src, const StreamInfo& info, FrameIndex& index) : in_(src), info_(info), index_(index) {}

    // Empty on success, else why the frames cannot be indexed.
    std::string run(Offset first);

private:
    std::string detail(const char* what) const;
    std::uint64_t following() const
    {
        const IndexedFrame& f = index_.frames.back();
        return f.number + (index_.variable ? f.block : 1);
    }
    // The header at off if it parses (parse_header), its bytes kept in next_header_.
    std::optional<FrameHeader> header(Offset off);
    // The frame at off, whose header (h, its bytes in next_header_) was just read, begins.
    bool begin(Offset off, const FrameHeader& h);
    // The current frame ends at end: its CRC-16 is the two bytes before.
    bool finish(Offset end);
    // Reads on from pos_ to where the current frame ends.
    Boundary frame_end(Offset max_frame);
    // The next frame's header if it starts at pos_: it parses, is numbered the same way with
    // the next number, and the current frame is long enough to end there.
    std::optional<FrameHeader> next_header_here();
    // The current frame, the last, ends: the index is complete.
    std::string close_last(Offset max_frame);
    // Where the current frame, the last, ends: at the end of the file when its CRC-16 comes out
    // zero there, else where it last does within `longest` bytes (trailing bytes such as an
    // ID3v1 tag follow), else nowhere (a damaged frame).
    std::optional<Offset> last_end(Offset longest);

    ChunkReader in_;
    const StreamInfo& info_;
    FrameIndex& index_;
    Offset start_ = 0;  // the current frame's
    Offset pos_ = 0;    // bytes [start_, pos_) are under crc_
    std::uint16_t crc_ = 0;
    Byte next_header_[kMaxHeaderBytes] = {};
};

std::string Walker::run(Offset first)
{
    const std::optional<FrameHeader> h = header(first);
    if (!h) {
        return detail("first FLAC frame unreadable");
    }
    index_.variable = h->variable;
    index_.fixed_block = h->block;
    if (!begin(first, *h)) {
        return detail("FLAC frame unreadable");
    }
    // A sync code inside audio data fails one of the three tests (RFC 9639 §9.1: the header
    // itself may not be unique), and no frame is longer than twice STREAMINFO's largest.
    const Offset max_frame = info_.max_frame != 0 ? Offset{info_.max_frame} * 2 + 64 : kMaxFrameBytes;
    for (Boundary b = frame_end(max_frame); b.kind != Boundary::Last; b = frame_end(max_frame)) {
        if (b.kind == Boundary::Unreadable || !finish(b.at) || !begin(b.at, b.next)) {
            return detail("FLAC frames unreadable");
        }
    }
    return close_last(max_frame);
}

Boundary Walker::frame_end(Offset max_frame)
{
    Offset fallback = 0;  // where the next header was while no CRC-16 came out zero; 0: nowhere
    for (;;) {
        const ChunkReader::Bytes bytes = in_.at(pos_, 1);
        if (!bytes.data) {
            return {Boundary::Unreadable};
        }
        if (bytes.size == 0 || pos_ - start_ > max_frame) {
            // The end of the file, or no frame is this long. A damaged frame, whose CRC-16 never
            // came out zero, ends where the next frame's header was: kept as damaged as it was.
            // Else the frame is the last, and what follows it trails (copied unchanged).
            if (fallback == 0) {
                return {Boundary::Last};
            }
            const std::optional<FrameHeader> next = header(fallback);
            return next ? Boundary{Boundary::Next, fallback, *next} : Boundary{Boundary::Unreadable};
        }
        // Up to the next 0xFF, the only byte a frame header starts with, at once.
        const auto* q = static_cast<const Byte*>(std::memchr(bytes.data, 0xFF, bytes.size));
        const std::size_t skip = q ? static_cast<std::size_t>(q - bytes.data) : bytes.size;
        crc_ = flac::crc16(bytes.data, skip, crc_);
        pos_ += skip;
        if (q) {
            if (const std::optional<FrameHeader> next = next_header_here()) {
                if (crc_ == 0) {
                    return {Boundary::Next, pos_, *next};
                }
                fallback = fallback != 0 ? fallback : pos_;  // never 0: "fLaC" comes first
            }
            static constexpr Byte kSync = 0xFF;  // q may be gone: header() moves the buffer
            crc_ = flac::crc16(&kSync, 1, crc_); // part of this frame after all
            ++pos_;
        }
    }
}

std::optional<FrameHeader> Walker::next_header_here()
{
    if (pos_ < start_ + index_.frames.back().length + info_.channels + 2) {
        return std::nullopt;
    }
    const std::optional<FrameHeader> next = header(pos_);
    return next && next->variable == index_.variable && next->number == following() ? next : std::nullopt;
}

std::string Walker::close_last(Offset max_frame)
{
    // Up to where its CRC-16 last came out zero (trailing bytes, an ID3v1 tag say, are copied
    // unchanged), or the rest of the file if it never did (a damaged frame).
    const std::optional<Offset> end = last_end(max_frame);
    if (!end && in_.exhausted()) {
        return detail("FLAC frames unreadable");
    }
    const Offset last = end.value_or(in_.size());
    if (last < start_ + index_.frames.back().length + 2) {
        // Too short to hold a CRC-16: a truncated file. The frame stays as truncated as it was.
        index_.truncated_last = true;
        index_.last_end = in_.size();
        return {};
    }
    if (!finish(last)) {
        return detail("FLAC frames unreadable");
    }
    index_.last_end = last;
    return {};
}

std::string Walker::detail(const char* what) const
{
    if (in_.exhausted()) {
        return "FLAC stream needs more than " + std::to_string(kMaxWalkBytes >> 20) + " MiB of frames indexed";
    }
    if (index_.frames.size() >= kMaxIndexFrames) {
        return "FLAC stream has more than " + std::to_string(kMaxIndexFrames) + " frames to index";
    }
    return what;
}

std::optional<FrameHeader> Walker::header(Offset off)
{
    const ChunkReader::Bytes bytes = in_.at(off, kMaxHeaderBytes);
    if (!bytes.data || bytes.size < 2 || (bytes.data[1] & 0xFE) != 0xF8) {
        return std::nullopt;
    }
    Byte b[kMaxHeaderBytes] = {};
    const std::size_t n = std::min(bytes.size, sizeof b);
    std::copy_n(bytes.data, n, b);
    const std::optional<FrameHeader> h = parse_header(b, n, info_);
    if (h) {
        std::copy_n(b, h->length, next_header_);
    }
    return h;
}

bool Walker::begin(Offset off, const FrameHeader& h)
{
    if (index_.frames.size() >= kMaxIndexFrames) {
        return false;
    }
    IndexedFrame f{};
    f.offset = off;
    f.number = h.number;
    f.block = h.block;
    f.length = static_cast<std::uint8_t>(h.length);
    f.number_length = static_cast<std::uint8_t>(h.number_length);
    std::copy_n(next_header_, h.length, f.header);
    index_.frames.push_back(f);
    start_ = off;
    crc_ = flac::crc16(next_header_, h.length);
    pos_ = off + h.length;
    return true;
}

bool Walker::finish(Offset end)
{
    IndexedFrame& f = index_.frames.back();
    if (end < start_ + f.length + 2) {
        return false;
    }
    const ChunkReader::Bytes crc = in_.at(end - 2, 2);
    if (!crc.data || crc.size < 2) {
        return false;
    }
    f.crc = be16(crc.data);
    return true;
}

std::optional<Offset> Walker::last_end(Offset longest)
{
    if (crc_ == 0 && pos_ == in_.size()) {
        return pos_;
    }
    std::optional<Offset> end;
    std::uint16_t crc = 0;
    const Offset limit = std::min(in_.size(), start_ + longest);
    for (Offset x = start_; x < limit;) {
        const ChunkReader::Bytes bytes = in_.at(x, 1);
        if (!bytes.data) {
            return std::nullopt;
        }
        const auto n = static_cast<std::size_t>(std::min<Offset>(bytes.size, limit - x));
        for (std::size_t i = 0; i < n; ++i) {
            crc = flac::crc16(bytes.data + i, 1, crc);
            if (crc == 0 && x + i + 1 >= start_ + index_.frames.back().length + 2) {
                end = x + i + 1;
            }
        }
        x += n;
    }
    return end;
}

using payload::put;
using payload::put_all;
using payload::take_all;

// The payload: a head of these widths (variable, truncated_last, fixed_block, last_end, the
// error's length), the error, the frame count in 8 bytes, then a record for each frame: these
// widths (offset, number, block, CRC-16, header length, number length), then the header.
constexpr unsigned kHeadBytes[5] = {1, 1, 4, 8, 4};
constexpr unsigned kFrameBytes[6] = {8, 8, 4, 2, 1, 1};
constexpr std::size_t kFrameRecord = 8 + 8 + 4 + 2 + 1 + 1 + kMaxHeaderBytes;

// Each frame fits between its start and the next one's (or the end of the audio), and its
// coded number and block agree with the numbering.
bool valid_frames(const FrameIndex& x, Offset file_size)
{
    for (std::size_t i = 0; i < x.frames.size(); ++i) {
        const IndexedFrame& f = x.frames[i];
        const bool last = i + 1 == x.frames.size();
        const Offset end = last ? x.last_end : x.frames[i + 1].offset;
        const Offset need = f.offset + f.length + (last && x.truncated_last ? 0 : 2);
        if (f.length < 6 || f.length > kMaxHeaderBytes || f.number_length < 1 || f.number_length > 7 ||
            4u + f.number_length >= f.length || f.block == 0 || f.offset > file_size || need > end ||
            end > file_size || (i > 0 && f.number <= x.frames[i - 1].number)) {
            return false;
        }
    }
    return x.fixed_block != 0 && x.last_end <= file_size;
}

}  // namespace

std::string FrameIndex::payload() const
{
    std::string out;
    out.reserve(32 + error.size() + frames.size() * kFrameRecord);
    const std::uint64_t head[] = {variable ? 1u : 0u, truncated_last ? 1u : 0u, fixed_block, last_end, error.size()};
    put_all(out, head, kHeadBytes);
    out += error;
    put(out, frames.size(), 8);
    for (const IndexedFrame& f : frames) {
        const std::uint64_t record[] = {f.offset, f.number, f.block, f.crc, f.length, f.number_length};
        put_all(out, record, kFrameBytes);
        out.append(reinterpret_cast<const char*>(f.header), kMaxHeaderBytes);
    }
    return out;
}

std::shared_ptr<const FrameIndex> FrameIndex::parse(std::string_view bytes, Offset file_size)
{
    auto x = std::make_shared<FrameIndex>();
    payload::Reader in(bytes);
    std::uint64_t head[5];
    std::uint64_t count;
    std::string_view error;
    if (!take_all(in, head, kHeadBytes) || !in.take_bytes(head[4], error) || !in.take(8, count) || head[0] > 1 ||
        head[1] > 1 || count > kMaxIndexFrames || in.left() != count * kFrameRecord) {
        return nullptr;
    }
    x->variable = head[0] != 0;
    x->truncated_last = head[1] != 0;
    x->fixed_block = static_cast<std::uint32_t>(head[2]);
    x->last_end = head[3];
    x->error = std::string(error);
    x->frames.resize(count);
    for (IndexedFrame& f : x->frames) {  // in.left() was checked: every take succeeds
        std::uint64_t v[6];
        std::string_view header;
        take_all(in, v, kFrameBytes);
        in.take_bytes(kMaxHeaderBytes, header);
        f.offset = v[0];
        f.number = v[1];
        f.block = static_cast<std::uint32_t>(v[2]);
        f.crc = static_cast<std::uint16_t>(v[3]);
        f.length = static_cast<std::uint8_t>(v[4]);
        f.number_length = static_cast<std::uint8_t>(v[5]);
        std::copy(header.begin(), header.end(), f.header);
    }
    if (x->error.empty() == x->frames.empty() || (!x->frames.empty() && !valid_frames(*x, file_size))) {
        return nullptr;
    }
    return x;
}

FrameIndex index_frames(ByteSource& src, const StreamInfo& info, Offset first)
{
    FrameIndex index;
    index.error = Walker(src, info, index).run(first);
    if (!index.error.empty()) {
        index.frames.clear();
    }
    index.frames.shrink_to_fit();
    return index;
}

FrameIndex build_index(ByteSource& src, const Stream& s)
{
    FrameIndex index;
    Scanner in(src, s.info);
    const auto header = in.header_at(s.audio_start);
    if (!header) {
        index.error = "no FLAC frame after the metadata";
        return index;
    }
    in.set_numbering(*header);
    if (s.info.total != 0) {
        in.set_end_sample(in.first_sample(*header) + s.info.total);
    }
    if (!in.frame_at(s.audio_start)) {
        index.error = in.exhausted() ? "FLAC scan budget exhausted" : "first FLAC frame invalid";
        return index;
    }
    return index_frames(src, s.info, s.audio_start);
}

std::shared_ptr<const FrameIndex> stream_index(ByteSource& src, const Stream& s, IndexSource& indexes)
{
    auto index = indexes.get<FrameIndex>(IndexKind::Flac, [&] {
        const ByteSource::Unbudgeted own_bounds(src);  // kMaxWalkBytes, kMaxIndexFrames
        return std::make_shared<const FrameIndex>(build_index(src, s));
    });
    if (!index->error.empty() || index->frames.empty()) {
        refuse_malformed(index->error.empty() ? "no FLAC frames" : index->error);
    }
    return index;
}

}  // namespace flac
}  // namespace audio_stream
