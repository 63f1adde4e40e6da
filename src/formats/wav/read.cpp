#include "read.h"

#include <algorithm>
#include <cstring>

namespace audio_stream::wav {

namespace {

// The fmt chunk's wFormatTag values a cut knows (Microsoft's mmreg.h).
enum FormatTag : std::uint16_t { kFormatPcm = 0x0001, kFormatFloat = 0x0003, kFormatExtensible = 0xFFFE };

// A fmt chunk is 16 bytes (PCM), 18 (with cbSize) or 40 (EXTENSIBLE); anything much larger
// is not a WAVE we can describe, and the copy we keep must stay small.
constexpr std::uint32_t kMaxFmtSize = 1024;
// KSDATAFORMAT_SUBTYPE_PCM / _IEEE_FLOAT: the format tag, then this fixed GUID tail.
constexpr Byte kSubformatTail[14] = {0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80,
                                     0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71};

// The fmt chunk's body: a format we cut, one sample per channel in a frame.
void check_fmt(Stream& s)
{
    const auto* p = reinterpret_cast<const Byte*>(s.fmt.data());
    std::uint16_t tag = le16(p);
    const std::uint16_t channels = le16(p + 2);
    const std::uint16_t bits = le16(p + 14);
    if (tag == kFormatExtensible) {
        // WAVEFORMATEXTENSIBLE: cbSize >= 22, then valid bits, channel mask, SubFormat GUID.
        if (s.fmt.size() < 40 || le16(p + 16) < 22) {
            refuse_malformed("WAVE_FORMAT_EXTENSIBLE fmt chunk too short");
        }
        if (std::memcmp(p + 26, kSubformatTail, sizeof kSubformatTail) != 0) {
            refuse_malformed("unknown WAVE_FORMAT_EXTENSIBLE subformat");
        }
        tag = le16(p + 24);
    }
    if (tag != kFormatPcm && tag != kFormatFloat) {
        refuse_malformed("WAVE format is neither PCM nor IEEE float");
    }
    s.sample_rate = le32(p + 4);
    s.block_align = le16(p + 12);
    if (channels == 0 || s.sample_rate == 0 || bits == 0 || s.block_align == 0) {
        refuse_malformed("fmt chunk has a zero channel count, rate, sample size or block size");
    }
    // A frame holds one sample per channel; anything else cannot be cut on frame boundaries.
    if (s.block_align % channels != 0 || s.block_align < channels * ((bits + 7u) / 8u)) {
        refuse_malformed("fmt block_align does not hold one sample per channel");
    }
}

// "RIFF", a size, "WAVE".
void check_riff(ByteSource& src)
{
    Byte riff[12];
    if (!src.read(0, riff, sizeof riff)) {
        refuse_malformed("shorter than a RIFF header");
    }
    if (std::memcmp(riff, "RIFF", 4) != 0 || std::memcmp(riff + 8, "WAVE", 4) != 0) {
        refuse_malformed("not a RIFF/WAVE file");
    }
}

// The fmt chunk's body, kept.
void read_fmt(ByteSource& src, Offset body, std::uint32_t len, Stream& s)
{
    if (!s.fmt.empty()) {
        refuse_malformed("two fmt chunks");
    }
    if (len < 16 || len > kMaxFmtSize) {
        refuse_malformed("fmt chunk size out of range");
    }
    s.fmt.resize(len);
    if (!src.read(body, s.fmt.data(), len)) {
        refuse_malformed("read error in fmt chunk");
    }
}

// Walks the chunks up to data. The RIFF size is not trusted (streamed files leave it wrong);
// every step advances at least 8 bytes and stays inside the file, so the walk ends.
void walk_chunks(ByteSource& src, Stream& s)
{
    const Offset size = src.size();
    unsigned chunks = 0;
    for (Offset pos = 12; size - pos >= 8;) {
        Byte head[8];
        if (!src.read(pos, head, sizeof head)) {
            refuse_malformed("read error in chunk header");
        }
        const std::uint32_t len = le32(head + 4);
        const Offset body = pos + 8;
        if (std::memcmp(head, "data", 4) == 0) {
            if (s.fmt.empty()) {
                refuse_malformed("data chunk before fmt chunk");
            }
            s.data_offset = body;
            s.data_length = std::min<Offset>(len, size - body);  // streamed: clip to the file
            return;
        }
        if (len > size - body) {
            refuse_malformed("chunk size past the end of the file");
        }
        if (++chunks > kMaxChunks) {
            refuse_malformed("more than " + std::to_string(kMaxChunks) + " chunks before the data chunk");
        }
        if (std::memcmp(head, "fmt ", 4) == 0) {
            read_fmt(src, body, len, s);
        }
        // RIFF: a chunk of odd size is followed by one pad byte.
        pos = body + len + (len & 1u);
        if (pos > size) {
            break;
        }
    }
    refuse_malformed("no data chunk");
}

}  // namespace

Stream read_stream(ByteSource& src)
{
    Stream s;
    check_riff(src);
    walk_chunks(src, s);
    check_fmt(s);
    return s;
}

}  // namespace audio_stream::wav
