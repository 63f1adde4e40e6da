#include "scan.h"

#include <cstring>

#include "frame.h"

namespace audio_stream {
namespace flac {

namespace {

constexpr std::size_t kWindowBytes = 64 * 1024;

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
        h.block = be16(b + p) + 1u;
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
        rate = be16(b + p) * (rate_code == 14 ? 10u : 1u);
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
