#include "flac.h"

#include <cstring>

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "flac_frame.h"

namespace audio_stream {

namespace {

using Byte = std::uint8_t;

constexpr std::size_t kWindowBytes = 64 * 1024;
// RFC 9639 §8.2: frame sizes are 24-bit fields, so no frame is longer.
constexpr Offset kMaxFrameBytes = Offset{1} << 24;
// Bytes examined (sync search, CRC-16 checks) per cut: hostile input costs no more than this.
constexpr Offset kScanBudget = Offset{16} << 20;
// Below this span the frame is found by walking frame to frame instead of bisecting.
constexpr Offset kWalkSpan = 256 * 1024;
constexpr unsigned kMaxMetadataBlocks = 1024;
constexpr std::uint32_t kMaxSeekTableBytes = 64 * 1024;
constexpr std::uint64_t kPlaceholderPoint = ~std::uint64_t{0};

// RFC 9639 §8.1 block types.
constexpr unsigned kStreamInfo = 0;
constexpr unsigned kSeekTable = 3;
constexpr unsigned kVorbisComment = 4;
constexpr unsigned kPicture = 6;
constexpr unsigned kInvalidBlock = 127;
constexpr std::uint32_t kStreamInfoBytes = 34;
// Every frame after the cut costs two extents (~100 bytes): this bounds a cut's memory. At 4096
// samples a frame, 2^18 frames are about 6.8 hours of 44.1 kHz audio.
constexpr std::size_t kMaxCutFrames = std::size_t{1} << 18;
// Renumbering reads every byte after the cut once (frames have no length field, RFC 9639 §9):
// at most this much, re-reads after a damaged frame included.
constexpr Offset kMaxWalkBytes = Offset{2} << 30;
constexpr std::size_t kWalkChunk = std::size_t{1} << 20;
// Kept before the read position when the walk's buffer moves on, for a frame's CRC-16 bytes.
constexpr std::size_t kWalkBack = 64;
// RFC 9639 §9.1: the longest frame header, CRC-8 included.
constexpr std::size_t kMaxHeaderBytes = 16;

// A read buffer of `limit` bytes, or of the whole file when it is smaller: a cut of a short file
// neither allocates nor clears a megabyte it will never fill.
std::size_t buffer_bytes(std::size_t limit, Offset file_size)
{
    return static_cast<std::size_t>(std::min<Offset>(limit, file_size));
}

std::uint64_t be(const Byte* p, int n)
{
    std::uint64_t v = 0;
    for (int i = 0; i < n; ++i) {
        v = (v << 8) | p[i];
    }
    return v;
}

void put_be(Byte* p, int n, std::uint64_t v)
{
    for (int i = n - 1; i >= 0; --i) {
        p[i] = static_cast<Byte>(v);
        v >>= 8;
    }
}

// floor(t * rate / 1e6) without overflowing for any t up to kMaxTime.
std::uint64_t sample_at(Micros t, std::uint32_t rate)
{
    const auto u = static_cast<std::uint64_t>(t);
    return u / 1000000 * rate + u % 1000000 * rate / 1000000;
}

Micros micros_of(std::uint64_t samples, std::uint32_t rate)
{
    const std::uint64_t seconds = std::min<std::uint64_t>(samples / rate, std::uint64_t{1} << 40);
    return static_cast<Micros>(seconds * 1000000 + samples % rate * 1000000 / rate);
}

Cut malformed(std::string detail)
{
    Cut cut;
    cut.status = Cut::Status::Malformed;
    cut.detail = std::move(detail);
    return cut;
}

struct StreamInfo {
    std::uint32_t max_block = 0;
    std::uint32_t max_frame = 0;
    std::uint32_t rate = 0;
    unsigned channels = 0;
    unsigned bits = 0;
    std::uint64_t total = 0;  // 0: unknown
};

struct Block {
    unsigned type;
    Offset offset;  // of the 4-byte block header
    std::uint32_t length;
    bool last;
};

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
std::optional<FrameHeader> parse_header(const Byte* b, std::size_t n, const StreamInfo& info)
{
    if (n < 6 || b[0] != 0xFF || (b[1] & 0xFE) != 0xF8) {
        return std::nullopt;
    }
    FrameHeader h{};
    h.variable = b[1] & 1;
    const unsigned size_code = b[2] >> 4;
    const unsigned rate_code = b[2] & 0x0F;
    const unsigned channel_code = b[3] >> 4;
    const unsigned bits_code = (b[3] >> 1) & 7;
    // §9.1.1-9.1.4: reserved codes and the reserved bit.
    if (size_code == 0 || rate_code == 15 || channel_code > 10 || bits_code == 3 || (b[3] & 1)) {
        return std::nullopt;
    }
    const unsigned channels = channel_code < 8 ? channel_code + 1 : 2;
    static constexpr unsigned kBits[8] = {0, 8, 12, 0, 16, 20, 24, 32};
    if (channels != info.channels || (bits_code != 0 && kBits[bits_code] != info.bits)) {
        return std::nullopt;
    }
    // §9.1.5: the coded number, UTF-8 style, 31 bits for frame numbers, 36 for samples.
    std::size_t p = 4;
    unsigned extra = 0;
    std::uint64_t v = b[p];
    if (v < 0x80) {
        extra = 0;
    }
    else if (v >= 0xC0 && v < 0xE0) { extra = 1; v &= 0x1F; }
    else if (v >= 0xE0 && v < 0xF0) { extra = 2; v &= 0x0F; }
    else if (v >= 0xF0 && v < 0xF8) { extra = 3; v &= 0x07; }
    else if (v >= 0xF8 && v < 0xFC) { extra = 4; v &= 0x03; }
    else if (v >= 0xFC && v < 0xFE) { extra = 5; v &= 0x01; }
    else if (v == 0xFE && h.variable) { extra = 6; v = 0; }
    else {
        return std::nullopt;
    }
    for (unsigned i = 1; i <= extra; ++i) {
        if (p + i >= n || (b[p + i] & 0xC0) != 0x80) {
            return std::nullopt;
        }
        v = (v << 6) | (b[p + i] & 0x3F);
    }
    h.number = v;
    h.number_length = 1 + extra;
    p += 1 + extra;
    if (size_code == 1) {
        h.block = 192;
    }
    else if (size_code <= 5) {
        h.block = 576u << (size_code - 2);
    }
    else if (size_code == 6) {
        h.block = b[p] + 1u;
        p += 1;
    }
    else if (size_code == 7) {
        h.block = static_cast<std::uint32_t>(be(b + p, 2)) + 1;
        p += 2;
    }
    else {
        h.block = 256u << (size_code - 8);
    }
    static constexpr std::uint32_t kRates[12] = {0,     88200, 176400, 192000, 8000,  16000,
                                                 22050, 24000, 32000,  44100,  48000, 96000};
    std::uint32_t rate = 0;
    if (rate_code < 12) {
        rate = kRates[rate_code];
    }
    else if (rate_code == 12) {
        rate = b[p] * 1000u;
        p += 1;
    }
    else {
        rate = static_cast<std::uint32_t>(be(b + p, 2)) * (rate_code == 14 ? 10 : 1);
        p += 2;
    }
    if (p >= n || (rate != 0 && rate != info.rate)) {
        return std::nullopt;
    }
    if (info.max_block != 0 && h.block > info.max_block) {
        return std::nullopt;
    }
    if (flac::crc8(b, p) != b[p]) {
        return std::nullopt;
    }
    h.length = static_cast<unsigned>(p + 1);
    return h;
}

// Reads through one fixed window; the budget bounds how many bytes a cut may examine.
class Scanner {
public:
    Scanner(ByteSource& src, const StreamInfo& info)
        : src_(src), size_(src.size()), info_(info), window_(buffer_bytes(kWindowBytes, size_))
    {
    }

    Offset size() const { return size_; }
    bool exhausted() const { return budget_ == 0; }

    // The header at off if it parses (parse_header) and agrees with the stream's numbering
    // once the first frame has set it.
    std::optional<FrameHeader> header_at(Offset off)
    {
        Byte b[kMaxHeaderBytes] = {};
        const std::size_t n = peek(off, b, sizeof b);
        auto h = parse_header(b, n, info_);
        if (h && numbered_ && h->variable != variable_) {
            return std::nullopt;
        }
        return h;
    }

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
    std::optional<Frame> frame_at(Offset off)
    {
        const auto h = header_at(off);
        if (!h) {
            return std::nullopt;
        }
        const std::uint64_t first = first_sample(*h);
        const Offset max_length = info_.max_frame != 0 ? Offset{info_.max_frame} * 2 + 64 : kMaxFrameBytes;
        const Offset limit = std::min(size_, off + max_length);
        const Offset min_end = off + h->length + info_.channels + 2;
        std::uint16_t crc = 0;
        for (Offset x = off; x < limit;) {
            // The CRC over the window's bytes at once, up to where it comes out zero.
            const Byte* p;
            std::size_t n;
            if (!span(x, limit, p, n)) {
                return std::nullopt;
            }
            const std::size_t quiet = x < min_end ? static_cast<std::size_t>(min_end - x) : 0;
            const std::size_t used = flac::crc16_to_zero(p, n, crc, quiet);
            budget_ -= used;
            x += used;
            if (crc != 0 || x < min_end) {
                continue;
            }
            const Frame frame{off, x - off, first, h->block};
            if (x == size_ || (end_sample_ != 0 && first + h->block == end_sample_)) {
                return frame;
            }
            const auto next = header_at(x);
            if (next && first_sample(*next) == first + h->block) {
                return frame;
            }
        }
        return std::nullopt;
    }

    // The first frame whose header starts in [from, to).
    std::optional<Frame> find_frame(Offset from, Offset to)
    {
        to = std::min(to, size_);
        for (Offset c = from; c < to;) {
            const Byte* p;
            std::size_t n;
            if (!span(c, to, p, n)) {
                return std::nullopt;
            }
            const auto* sync = static_cast<const Byte*>(std::memchr(p, 0xFF, n));
            if (!sync) {
                budget_ -= n;
                c += n;
                continue;
            }
            const auto k = static_cast<std::size_t>(sync - p);
            budget_ -= k + 1;
            c += k;
            if (auto f = frame_at(c)) {
                return f;
            }
            ++c;
        }
        return std::nullopt;
    }

    bool read(Offset off, Byte* out, std::size_t n)
    {
        return off <= size_ && n <= size_ - off && src_.read(off, out, n);
    }

private:
    // The window's bytes from off (refilled when off is outside it), at most up to `to` and at
    // most what the budget has left: false when a read fails or the budget is spent. Callers
    // take what they examine from budget_.
    bool span(Offset off, Offset to, const Byte*& p, std::size_t& n)
    {
        if (budget_ == 0) {
            return false;
        }
        if ((off < start_ || off >= start_ + length_) && !fill(off)) {
            return false;
        }
        p = window_.data() + (off - start_);
        n = static_cast<std::size_t>(std::min(to, start_ + length_) - off);
        n = static_cast<std::size_t>(std::min<Offset>(n, budget_));
        return true;
    }

    bool fill(Offset off)
    {
        if (off >= size_) {
            return false;
        }
        const std::size_t n = static_cast<std::size_t>(std::min<Offset>(window_.size(), size_ - off));
        if (!src_.read(off, window_.data(), n)) {
            length_ = 0;
            return false;
        }
        start_ = off;
        length_ = n;
        return true;
    }

    std::size_t peek(Offset off, Byte* out, std::size_t n)
    {
        if (off >= size_) {
            return 0;
        }
        n = static_cast<std::size_t>(std::min<Offset>(n, size_ - off));
        if (off < start_ || off + n > start_ + length_) {
            if (!fill(off)) {
                return 0;
            }
        }
        std::copy_n(window_.data() + (off - start_), n, out);
        return n;
    }

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

StreamInfo parse_stream_info(const Byte* s)
{
    StreamInfo info;
    info.max_block = static_cast<std::uint32_t>(be(s + 2, 2));
    info.max_frame = static_cast<std::uint32_t>(be(s + 7, 3));
    info.rate = static_cast<std::uint32_t>(be(s + 10, 3) >> 4);
    info.channels = ((s[12] >> 1) & 7) + 1;
    info.bits = (((s[12] & 1) << 4) | (s[13] >> 4)) + 1;
    info.total = be(s + 13, 5) & 0xFFFFFFFFFull;
    return info;
}

std::string block_header(unsigned type, bool last, std::uint32_t length)
{
    Byte h[4];
    h[0] = static_cast<Byte>(type | (last ? 0x80 : 0));
    put_be(h + 1, 3, length);
    return std::string(reinterpret_cast<const char*>(h), 4);
}

// RFC 9639 §8.5: the seek points at or after the cut, as the cut numbers samples and places
// frames. `moved` gives a frame's offset in the cut from its offset in the file, nothing when the
// point does not land on a frame of the cut. Empty when no point remains.
template <typename Moved>
std::string rebased_seek_table(Scanner& in, const Block& b, const Frame& cut, Offset audio_start, Moved moved)
{
    if (b.length > kMaxSeekTableBytes || b.length % 18 != 0) {
        return {};
    }
    std::vector<Byte> table(b.length);
    if (!in.read(b.offset + 4, table.data(), table.size())) {
        return {};
    }
    std::string points;
    for (std::size_t i = 0; i < table.size(); i += 18) {
        Byte* p = table.data() + i;
        const std::uint64_t sample = be(p, 8);
        const std::uint64_t offset = be(p + 8, 8);
        if (sample == kPlaceholderPoint || sample < cut.first || offset > in.size() - audio_start) {
            continue;
        }
        const std::optional<Offset> at = moved(audio_start + offset);
        if (!at) {
            continue;
        }
        put_be(p, 8, sample - cut.first);
        put_be(p + 8, 8, *at);
        points.append(reinterpret_cast<const char*>(p), 18);
    }
    return points;
}

// Sequential reads through one large buffer for the walk over the frames after the cut,
// counted against kMaxWalkBytes.
class ChunkReader {
public:
    explicit ChunkReader(ByteSource& src) : src_(src), size_(src.size()), buffer_(buffer_bytes(kWalkChunk, size_)) {}

    Offset size() const { return size_; }
    bool exhausted() const { return exhausted_; }

    // The bytes at off: n is how many the buffer holds from there, at least min(want, what the
    // file has). nullptr when a read fails or the budget is spent; n == 0 at the end of the file.
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

    std::optional<Offset> moved(Offset file_offset) const
    {
        const auto it = std::lower_bound(moves_.begin(), moves_.end(), std::make_pair(file_offset, Offset{0}));
        if (it == moves_.end() || it->first != file_offset) {
            return std::nullopt;
        }
        return it->second;
    }

    // Empty on success, else why the cut cannot be made.
    std::string run(Offset first)
    {
        FrameHeader h;
        if (!start_frame(first, h)) {
            return detail("first FLAC frame unreadable");
        }
        base_ = h.number;
        variable_ = h.variable;
        if (!begin(first, h)) {
            return detail("FLAC frame number out of range");
        }
        // Frames end where the next one's header starts: a header that parses, carries exactly
        // the next number and closes a CRC-16 of zero over the frame. A sync code inside audio
        // data fails one of these (RFC 9639 §9.1: the header itself may not be unique).
        const Offset max_frame = info_.max_frame != 0 ? Offset{info_.max_frame} * 2 + 64 : kMaxFrameBytes;
        std::optional<Offset> fallback;
        for (;;) {
            std::size_t n;
            const Byte* p = in_.at(pos_, 1, n);
            if (!p) {
                return detail("FLAC frames unreadable");
            }
            if (n != 0 && pos_ - start_ > max_frame && !fallback) {
                // No frame is this long: a damaged tail. Copy it unchanged after the last frame.
                break;
            }
            if (fallback && (n == 0 || pos_ - start_ > max_frame)) {
                // A damaged frame: its CRC-16 never came out zero, but the next frame's header was
                // there. Keep it (as damaged as it was) and go on from that header.
                const Offset next = *fallback;
                fallback.reset();
                if (!finish(next) || !start_frame(next, h) || !begin(next, h)) {
                    return detail("FLAC frames unreadable");
                }
                continue;
            }
            if (n == 0) {
                break;
            }
            const auto* q = static_cast<const Byte*>(std::memchr(p, 0xFF, n));
            const std::size_t skip = q ? static_cast<std::size_t>(q - p) : n;
            crc_ = flac::crc16(p, skip, crc_);
            pos_ += skip;
            if (!q) {
                continue;
            }
            if (pos_ >= start_ + header_.size() + info_.channels + 2) {
                FrameHeader next;
                if (header(pos_, next) && next.variable == variable_ && next.number == following()) {
                    if (crc_ == 0) {
                        if (!finish(pos_) || !begin(pos_, next)) {
                            return detail("FLAC frame unreadable or out of range");
                        }
                        continue;
                    }
                    if (!fallback) {
                        fallback = pos_;
                    }
                }
            }
            p = in_.at(pos_, 1, n);
            if (!p || n == 0) {
                return detail("FLAC frames unreadable");
            }
            crc_ = flac::crc16(p, 1, crc_);
            ++pos_;
        }
        // The last frame: up to where its CRC-16 last came out zero (trailing bytes, an ID3v1 tag
        // say, are copied unchanged), or the rest of the file if it never did (a damaged frame).
        const std::optional<Offset> end = last_end(max_frame);
        if (!end && in_.exhausted()) {
            return detail("FLAC frames unreadable");
        }
        const Offset last = end.value_or(in_.size());
        if (last < start_ + header_.size() + 2) {
            // Too short to hold a CRC-16: a truncated file. The frame stays as truncated as it was.
            append_memory(out_, std::move(pending_));
            append_file(out_, start_ + header_.size(), in_.size() - start_ - header_.size());
            return {};
        }
        if (!finish(last)) {
            return detail("FLAC frames unreadable");
        }
        append_memory(out_, std::move(pending_));
        append_file(out_, last, in_.size() - last);
        return {};
    }

private:
    std::string detail(const char* what) const
    {
        if (in_.exhausted()) {
            return "FLAC cut needs more than " + std::to_string(kMaxWalkBytes >> 20) + " MiB of frames renumbered";
        }
        if (frames_ > kMaxCutFrames) {
            return "FLAC cut needs more than " + std::to_string(kMaxCutFrames) + " frames renumbered";
        }
        return what;
    }

    std::uint64_t following() const { return number_ + (variable_ ? block_ : 1); }

    bool header(Offset off, FrameHeader& h)
    {
        std::size_t n;
        const Byte* p = in_.at(off, kMaxHeaderBytes, n);
        if (!p || n < 2 || (p[1] & 0xFE) != 0xF8) {
            return false;
        }
        Byte b[kMaxHeaderBytes] = {};
        std::copy_n(p, std::min(n, sizeof b), b);
        const auto parsed = parse_header(b, std::min(n, sizeof b), info_);
        if (!parsed) {
            return false;
        }
        h = *parsed;
        std::copy_n(b, h.length, next_header_);
        return true;
    }

    bool start_frame(Offset off, FrameHeader& h) { return header(off, h); }

    // The frame at off, whose header (h, its bytes in next_header_) was just read, begins.
    bool begin(Offset off, const FrameHeader& h)
    {
        if (h.number < base_ || ++frames_ > kMaxCutFrames) {
            return false;
        }
        start_ = off;
        number_ = h.number;
        block_ = h.block;
        header_.assign(reinterpret_cast<const char*>(next_header_), h.length);
        renumbered_ = flac::renumbered_header(next_header_, h.length, h.number_length, h.number - base_);
        if (renumbered_.empty()) {
            return false;
        }
        crc_ = flac::crc16(next_header_, h.length);
        pos_ = off + h.length;
        while (next_track_ < tracked_.size() && tracked_[next_track_] <= off) {
            if (tracked_[next_track_] == off) {
                moves_.emplace_back(off, written_);
            }
            ++next_track_;
        }
        written_ += renumbered_.size();
        pending_ += renumbered_;
        return true;
    }

    // The current frame ends at end: its header goes out with the previous frame's CRC-16, its
    // body as a file extent, and its own new CRC-16 waits for the next header.
    bool finish(Offset end)
    {
        const Offset body_start = start_ + header_.size();
        if (end < body_start + 2) {
            return false;
        }
        std::size_t n;
        const Byte* p = in_.at(end - 2, 2, n);
        if (!p || n < 2) {
            return false;
        }
        const auto old_crc = static_cast<std::uint16_t>(be(p, 2));
        const Offset body = end - 2 - body_start;
        const std::uint16_t crc =
            flac::renumbered_crc16(old_crc, reinterpret_cast<const Byte*>(header_.data()), header_.size(),
                                   reinterpret_cast<const Byte*>(renumbered_.data()), renumbered_.size(), body);
        append_memory(out_, std::move(pending_));
        append_file(out_, body_start, body);
        pending_.assign({static_cast<char>(crc >> 8), static_cast<char>(crc & 0xFF)});
        written_ += body + 2;
        return true;
    }

    // Where the current frame, the last, ends: at the end of the file when its CRC-16 comes out
    // zero there, else where it last does within `longest` bytes (trailing bytes such as an
    // ID3v1 tag follow), else nowhere (a damaged frame).
    std::optional<Offset> last_end(Offset longest)
    {
        if (crc_ == 0 && pos_ == in_.size()) {
            return pos_;
        }
        std::optional<Offset> end;
        std::uint16_t crc = 0;
        const Offset limit = std::min(in_.size(), start_ + longest);
        for (Offset x = start_; x < limit;) {
            std::size_t n;
            const Byte* p = in_.at(x, 1, n);
            if (!p) {
                return std::nullopt;
            }
            n = static_cast<std::size_t>(std::min<Offset>(n, limit - x));
            for (std::size_t i = 0; i < n; ++i) {
                crc = flac::crc16(p + i, 1, crc);
                if (crc == 0 && x + i + 1 >= start_ + header_.size() + 2) {
                    end = x + i + 1;
                }
            }
            x += n;
        }
        return end;
    }

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

// Bisects the frames for the one holding `target`, starting from a known frame at or before it.
// Invariant: lo.first <= target, and every frame starting at or after hi starts after target.
// Each round moves lo forward or hi back, so the loop ends.
std::optional<Frame> locate(Scanner& in, Frame lo, Offset hi, std::uint64_t target)
{
    while (target >= lo.first + lo.block) {
        const Offset next = lo.offset + lo.length;
        if (next >= hi) {
            return std::nullopt;
        }
        if (hi - next > kWalkSpan) {
            const Offset mid = next + (hi - next) / 2;
            const auto f = in.find_frame(mid, hi);
            if (!f || f->first > target) {
                hi = mid;
            }
            else {
                lo = *f;
            }
            continue;
        }
        // Frames are contiguous; a damaged one is passed over by searching for the next.
        auto f = in.frame_at(next);
        if (!f) {
            f = in.find_frame(next + 1, hi);
        }
        if (!f) {
            return std::nullopt;  // past the last frame
        }
        if (f->first > target) {
            return lo;  // the target fell in a gap of missing frames: start just before it
        }
        lo = *f;
    }
    return lo;
}

// The best SEEKTABLE hints (RFC 9639 §8.5): the frame of the last point at or before the target
// narrows lo, the first point after it narrows hi. Hints are checked, never trusted.
void apply_seek_table(Scanner& in, const Block& b, Offset audio_start, std::uint64_t target, Frame& lo,
                      Offset& hi)
{
    if (b.length > kMaxSeekTableBytes) {
        return;
    }
    std::vector<Byte> table(b.length);
    if (!in.read(b.offset + 4, table.data(), table.size())) {
        return;
    }
    const Offset audio_bytes = in.size() - audio_start;
    std::optional<std::uint64_t> below;
    std::optional<std::uint64_t> above;
    std::uint64_t below_sample = 0;
    std::uint64_t above_sample = 0;
    for (std::size_t i = 0; i + 18 <= table.size(); i += 18) {
        const std::uint64_t sample = be(table.data() + i, 8);
        const std::uint64_t offset = be(table.data() + i + 8, 8);
        if (sample == kPlaceholderPoint || offset >= audio_bytes) {
            continue;
        }
        if (sample <= target && (!below || sample > below_sample)) {
            below = offset;
            below_sample = sample;
        }
        else if (sample > target && (!above || sample < above_sample)) {
            above = offset;
            above_sample = sample;
        }
    }
    if (below && audio_start + *below > lo.offset) {
        if (const auto f = in.frame_at(audio_start + *below); f && f->first <= target && f->first >= lo.first) {
            lo = *f;
        }
    }
    if (above && audio_start + *above > lo.offset && audio_start + *above < hi) {
        if (const auto f = in.frame_at(audio_start + *above); f && f->first > target) {
            hi = f->offset;
        }
    }
}

}  // namespace

Cut cut_flac(ByteSource& src, Micros t)
{
    const Offset size = src.size();
    // Some taggers put an ID3v2 tag before "fLaC" (not RFC 9639, but common): step over it.
    Offset begin = 0;
    Byte id3[10];
    if (size >= sizeof id3 && src.read(0, id3, sizeof id3) && id3[0] == 'I' && id3[1] == 'D' && id3[2] == '3') {
        begin = 10 + ((Offset{id3[6]} & 0x7F) << 21 | (Offset{id3[7]} & 0x7F) << 14 | (Offset{id3[8]} & 0x7F) << 7 |
                      (Offset{id3[9]} & 0x7F));
        begin += (id3[5] & 0x10) ? 10 : 0;  // footer present
    }
    Byte head[4 + 4 + kStreamInfoBytes];
    if (begin > size || size - begin < sizeof head || !src.read(begin, head, sizeof head) ||
        std::string_view(reinterpret_cast<char*>(head), 4) != "fLaC") {
        return malformed("not a FLAC stream");
    }
    // RFC 9639 §8: metadata blocks, STREAMINFO first, until the one flagged last.
    std::vector<Block> blocks;
    Offset pos = begin + 4;
    for (bool last = false; !last;) {
        if (blocks.size() == kMaxMetadataBlocks) {
            return malformed("too many FLAC metadata blocks");
        }
        Byte h[4];
        if (pos > size || size - pos < 4 || !src.read(pos, h, 4)) {
            return malformed("FLAC metadata truncated");
        }
        const Block b{h[0] & 0x7Fu, pos, static_cast<std::uint32_t>(be(h + 1, 3)), (h[0] & 0x80) != 0};
        if (b.type == kInvalidBlock || b.length > size - pos - 4) {
            return malformed("FLAC metadata block invalid or past the end of the file");
        }
        if ((b.type == kStreamInfo) != blocks.empty() || (blocks.empty() && b.length != kStreamInfoBytes)) {
            return malformed("FLAC STREAMINFO missing or not first");
        }
        blocks.push_back(b);
        last = b.last;
        pos += 4 + Offset{b.length};
    }
    const Offset audio_start = pos;
    const StreamInfo info = parse_stream_info(head + 8);
    if (info.rate == 0) {
        return malformed("FLAC sample rate is 0");
    }

    Scanner in(src, info);
    // RFC 9639 §9: the first frame follows the metadata; it fixes the numbering and the
    // sample the stream starts at (non-zero when the file is itself a cut).
    const auto first_header = in.header_at(audio_start);
    if (!first_header) {
        return malformed("no FLAC frame after the metadata");
    }
    in.set_numbering(*first_header);
    const std::uint64_t stream_first = in.first_sample(*first_header);
    if (info.total != 0) {
        in.set_end_sample(stream_first + info.total);
    }
    const auto first = in.frame_at(audio_start);
    if (!first) {
        return malformed(in.exhausted() ? "FLAC scan budget exhausted" : "first FLAC frame invalid");
    }

    const std::uint64_t wanted = sample_at(std::max<Micros>(t, 0), info.rate);
    Cut cut;
    if (info.total != 0 && wanted >= info.total) {
        cut.status = Cut::Status::PastEnd;
        return cut;
    }
    const std::uint64_t target = stream_first + wanted;

    Frame lo = *first;
    Offset hi = size;
    for (const Block& b : blocks) {
        if (b.type == kSeekTable) {
            apply_seek_table(in, b, audio_start, target, lo, hi);
        }
    }
    const auto at = locate(in, lo, hi, target);
    if (!at) {
        if (in.exhausted()) {
            return malformed("FLAC scan budget exhausted");
        }
        cut.status = Cut::Status::PastEnd;
        return cut;
    }

    // STREAMINFO: what remains. The MD5 covers the whole stream, so it survives only a cut
    // at the first frame (RFC 9639 §8.2: zero means unknown).
    const std::uint64_t skipped = at->first - stream_first;
    const std::uint64_t remaining = info.total != 0 ? info.total - std::min(skipped, info.total) : 0;
    Byte stream_info[kStreamInfoBytes];
    std::copy_n(head + 8, kStreamInfoBytes, stream_info);
    stream_info[13] = static_cast<Byte>((stream_info[13] & 0xF0) | ((remaining >> 32) & 0x0F));
    put_be(stream_info + 14, 4, remaining & 0xFFFFFFFFu);
    if (skipped != 0) {
        std::fill(stream_info + 18, stream_info + kStreamInfoBytes, Byte{0});
    }

    // The frames. A cut at the stream's frame 0 keeps them as they are; any other is renumbered
    // from 0, since decoders time the stream from the first frame's number (RFC 9639 §9.1.5).
    Extents frames;
    std::vector<Offset> seek_targets;
    for (const Block& b : blocks) {
        if (b.type != kSeekTable || b.length > kMaxSeekTableBytes) {
            continue;
        }
        std::vector<Byte> table(b.length);
        if (in.read(b.offset + 4, table.data(), table.size())) {
            for (std::size_t i = 0; i + 18 <= table.size(); i += 18) {
                seek_targets.push_back(audio_start + std::min(be(table.data() + i + 8, 8), size));
            }
        }
    }
    std::sort(seek_targets.begin(), seek_targets.end());
    Renumberer renumber(src, info, frames);
    renumber.track(std::move(seek_targets));
    const auto header = in.header_at(at->offset);
    const bool renumbered = !header || header->number != 0;
    if (renumbered) {
        std::string why = renumber.run(at->offset);
        if (!why.empty()) {
            return malformed(std::move(why));
        }
    }
    else {
        append_file(frames, at->offset, size - at->offset);
    }
    const auto moved = [&](Offset file_offset) -> std::optional<Offset> {
        if (renumbered) {
            return renumber.moved(file_offset);
        }
        return file_offset >= at->offset ? std::optional<Offset>(file_offset - at->offset) : std::nullopt;
    };

    // Kept: tags and pictures (players show them), the rebased SEEKTABLE. Dropped: PADDING,
    // CUESHEET and APPLICATION data, whose positions or purpose a cut no longer matches.
    struct Part {
        const Block* block;
        std::string memory;  // a rebuilt body, or empty to copy the block from the file
    };
    std::vector<Part> parts;
    for (const Block& b : blocks) {
        if (b.type == kVorbisComment || b.type == kPicture) {
            parts.push_back({&b, {}});
        }
        else if (b.type == kSeekTable) {
            std::string points = rebased_seek_table(in, b, *at, audio_start, moved);
            if (!points.empty()) {
                parts.push_back({&b, std::move(points)});
            }
        }
    }

    Representation& rep = cut.rep;
    append_memory(rep.extents, "fLaC" + block_header(kStreamInfo, parts.empty(), kStreamInfoBytes) +
                                std::string(reinterpret_cast<const char*>(stream_info), kStreamInfoBytes));
    for (std::size_t i = 0; i < parts.size(); ++i) {
        const Block& b = *parts[i].block;
        const bool last = i + 1 == parts.size();
        if (!parts[i].memory.empty()) {
            const auto length = static_cast<std::uint32_t>(parts[i].memory.size());
            append_memory(rep.extents, block_header(b.type, last, length) + parts[i].memory);
        }
        else if (b.last == last) {
            append_file(rep.extents, b.offset, 4 + Offset{b.length});
        }
        else {
            // §8.1: only the last block emitted may carry the last-block flag.
            append_memory(rep.extents, block_header(b.type, last, b.length));
            append_file(rep.extents, b.offset + 4, b.length);
        }
    }
    for (auto& e : frames) {
        if (auto* f = std::get_if<FileExtent>(&e)) {
            append_file(rep.extents, f->offset, f->length);
        }
        else {
            append_memory(rep.extents, std::move(std::get<MemoryBlock>(e).bytes));
        }
    }
    rep.length = extents_length(rep.extents);

    cut.status = Cut::Status::Ok;
    cut.start = micros_of(skipped, info.rate);
    cut.duration = micros_of(remaining, info.rate);
    rep.etag_suffix = "-t" + std::to_string(cut.start);
    return cut;
}

}  // namespace audio_stream
