#include "codec.h"

#include <algorithm>
#include <cstring>

namespace audio_stream {
namespace ogg {

namespace {

constexpr std::uint32_t kOpusRate = 48000;

}  // namespace

std::optional<StreamHeader> identify(const Byte* p, Offset n)
{
    // Vorbis I §4.2.2: the identification header; RFC 7845 §5.1: OpusHead.
    if (n >= 30 && std::memcmp(p, "\x01vorbis", 7) == 0) {
        const auto rate = static_cast<std::uint32_t>(le(p + 12, 4));
        if (le(p + 7, 4) != 0 || p[11] == 0 || rate == 0 || (p[29] & 1) == 0) {
            return std::nullopt;
        }
        // Byte 28: blocksize_0 and blocksize_1 as exponents of 2, 6 to 13 (Vorbis I §4.2.2).
        const unsigned long_exponent = std::min(std::max(p[28] >> 4, 6), 13);
        return StreamHeader{Codec::Vorbis, rate, 0, std::int64_t{1} << long_exponent, p[28]};
    }
    if (n >= 19 && std::memcmp(p, "OpusHead", 8) == 0) {
        if ((p[8] >> 4) != 0 || p[9] == 0) {
            return std::nullopt;
        }
        return StreamHeader{Codec::Opus, kOpusRate, static_cast<std::int64_t>(le(p + 10, 2))};
    }
    return std::nullopt;
}

namespace {

// Bit i of p (Vorbis packs bits from the least significant of each byte), and n bits from i.
unsigned bit_at(const Byte* p, std::uint64_t i) { return p[i >> 3] >> (i & 7) & 1; }

std::uint32_t bits_at(const Byte* p, std::uint64_t i, unsigned n)
{
    std::uint32_t v = 0;
    for (unsigned k = 0; k < n; ++k) {
        v |= bit_at(p, i + k) << k;
    }
    return v;
}

}  // namespace

std::optional<VorbisModes> vorbis_modes(const Byte* tail, Offset n, Byte blocksizes)
{
    constexpr unsigned kEntry = 41;  // blockflag 1, windowtype 16, transformtype 16, mapping 8
    VorbisModes m;
    m.block[0] = std::int64_t{1} << std::min(std::max(blocksizes & 15, 6), 13);
    m.block[1] = std::int64_t{1} << std::min(std::max(blocksizes >> 4, 6), 13);
    // The framing bit: the last bit set.
    std::uint64_t end = n * 8;
    while (end > 0 && bit_at(tail, end - 1) == 0) {
        --end;
    }
    if (end == 0) {
        return std::nullopt;
    }
    const std::uint64_t framing = end - 1;
    unsigned found = 0;
    for (unsigned count = 1; count <= 64 && framing >= std::uint64_t{count} * kEntry + 6; ++count) {
        const std::uint64_t entry = framing - std::uint64_t{count} * kEntry;
        if (bits_at(tail, entry + 1, 16) != 0 || bits_at(tail, entry + 17, 16) != 0 || bits_at(tail, entry + 33, 8) > 63) {
            break;
        }
        if (bits_at(tail, entry - 6, 6) + 1 == count) {
            found = count;
        }
    }
    if (found == 0) {
        return std::nullopt;
    }
    m.count = found;
    const std::uint64_t first = framing - std::uint64_t{found} * kEntry;
    for (unsigned i = 0; i < found; ++i) {
        m.long_modes |= std::uint64_t{bit_at(tail, first + std::uint64_t{i} * kEntry)} << i;
    }
    while ((1u << m.bits) < found) {  // ilog(count - 1)
        ++m.bits;
    }
    return m;
}

std::optional<VorbisBlock> vorbis_block(const VorbisModes& m, const Byte* p, Offset n)
{
    if (n == 0 || m.count == 0 || (p[0] & 1) != 0 || 1 + m.bits + 1 > 8) {
        return std::nullopt;
    }
    const unsigned mode = (p[0] >> 1) & ((1u << m.bits) - 1);
    if (mode >= m.count) {
        return std::nullopt;
    }
    VorbisBlock b;
    const bool long_block = (m.long_modes >> mode) & 1;
    b.size = m.block[long_block];
    if (long_block) {
        b.previous = m.block[(p[0] >> (1 + m.bits)) & 1];
    }
    return b;
}

std::int64_t opus_samples(const Byte* p, Offset n)
{
    if (n == 0) {
        return 0;
    }
    const unsigned config = p[0] >> 3;
    static constexpr std::int64_t kSilk[4] = {480, 960, 1920, 2880};
    static constexpr std::int64_t kCelt[4] = {120, 240, 480, 960};
    const std::int64_t frame = config < 12 ? kSilk[config & 3] : config < 16 ? 480 << (config & 1) : kCelt[config & 3];
    std::int64_t frames = 1;
    switch (p[0] & 3) {
    case 0: frames = 1; break;
    case 1:
    case 2: frames = 2; break;
    default: frames = n >= 2 ? (p[1] & 0x3F) : 0; break;
    }
    const std::int64_t total = frame * frames;
    return total <= 5760 ? total : 0;
}

std::optional<std::int64_t> opus_page_samples(const Byte* body, const Page& page, std::size_t from)
{
    std::int64_t sum = 0;
    for (const Packet& k : packets(page, from)) {
        const std::int64_t d = k.complete ? opus_samples(body + k.offset, k.length) : 0;
        if (k.complete && d == 0) {
            return std::nullopt;
        }
        sum += d;
    }
    return sum;
}

}  // namespace ogg
}  // namespace audio_stream
