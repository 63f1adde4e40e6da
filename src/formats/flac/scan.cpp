#include "scan.h"

#include <cstring>

#include "frame.h"

namespace audio_stream {
namespace flac {

namespace {

constexpr std::size_t kWindowBytes = 64 * 1024;

struct CodedNumber {
    std::uint64_t value;
    unsigned length;  // bytes
};

// §9.1.5: the number at b[4], UTF-8 style: 31 bits for frame numbers, 36 for sample numbers.
// The lead byte's leading ones count the bytes: none for one byte, 2 to 6 for 2 to 6 bytes, 7
// (0xFE) for 7 bytes, only when numbered by sample; 1 (a continuation byte) and 8 are invalid.
std::optional<CodedNumber> coded_number(const Byte* b, std::size_t n, bool by_sample)
{
    const Byte lead = b[4];
    unsigned ones = 0;
    while (ones < 8 && (lead & (0x80u >> ones)) != 0) {
        ++ones;
    }
    if (ones == 1 || ones == 8 || (ones == 7 && !by_sample)) {
        return std::nullopt;
    }
    const unsigned extra = ones == 0 ? 0 : ones - 1;
    std::uint64_t v = lead & (0x7Fu >> ones);
    for (unsigned i = 1; i <= extra; ++i) {
        if (4 + i >= n || (b[4 + i] & 0xC0) != 0x80) {
            return std::nullopt;
        }
        v = (v << 6) | (b[4 + i] & 0x3F);
    }
    return CodedNumber{v, 1 + extra};
}

// A field of the frame header that may take bytes after the fixed part (§9.1.1, §9.1.2).
struct Field {
    std::uint32_t value;
    unsigned bytes;  // taken from where the caller pointed
};

// §9.1.1: samples in the frame, from the code or from the 8 or 16 bits at p.
Field block_size(unsigned code, const Byte* p)
{
    if (code == 1) {
        return {192, 0};
    }
    if (code <= 5) {
        return {576u << (code - 2), 0};
    }
    if (code == 6) {
        return {p[0] + 1u, 1};
    }
    if (code == 7) {
        return {be16(p) + 1u, 2};
    }
    return {256u << (code - 8), 0};
}

// §9.1.2: the sample rate, from the code or from the bits at p; 0 when the header leaves it
// to STREAMINFO.
Field sample_rate(unsigned code, const Byte* p)
{
    static constexpr std::uint32_t kRates[12] = {0,     88200, 176400, 192000, 8000,  16000,
                                                 22050, 24000, 32000,  44100,  48000, 96000};
    if (code < 12) {
        return {kRates[code], 0};
    }
    if (code == 12) {
        return {p[0] * 1000u, 1};
    }
    return {be16(p) * (code == 14 ? 10u : 1u), 2};
}

}  // namespace

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
    const auto number = coded_number(b, n, h.variable);
    if (!number) {
        return std::nullopt;
    }
    h.number = number->value;
    h.number_length = number->length;
    std::size_t p = 4 + number->length;
    const Field block = block_size(size_code, b + p);
    p += block.bytes;
    const Field rate = sample_rate(rate_code, b + p);
    p += rate.bytes;
    h.block = block.value;
    const bool rate_differs = rate.value != 0 && rate.value != info.rate;
    if (p >= n || rate_differs || (info.max_block != 0 && h.block > info.max_block)) {
        return std::nullopt;
    }
    if (flac::crc8(b, p) != b[p]) {
        return std::nullopt;
    }
    h.length = static_cast<unsigned>(p + 1);
    return h;
}

Scanner::Scanner(ByteSource& src, const StreamInfo& info)
    : src_(src), size_(src.size()), info_(info), window_(buffer_bytes(kWindowBytes, size_))
{
}

std::optional<FrameHeader> Scanner::header_at(Offset off)
{
    Byte b[kMaxHeaderBytes] = {};
    const std::size_t n = peek(off, b, sizeof b);
    auto h = parse_header(b, n, info_);
    if (h && numbered_ && h->variable != variable_) {
        return std::nullopt;
    }
    return h;
}

std::optional<Frame> Scanner::frame_at(Offset off)
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

bool Scanner::span(Offset off, Offset to, const Byte*& p, std::size_t& n)
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

bool Scanner::fill(Offset off)
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

std::size_t Scanner::peek(Offset off, Byte* out, std::size_t n)
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

}  // namespace flac
}  // namespace audio_stream
