#include "wav.h"

#include <algorithm>
#include <cstring>
#include <optional>
#include <string>

#include "toolbox.h"

namespace audio_stream {
namespace {

constexpr std::uint16_t kFormatPcm = 0x0001;
constexpr std::uint16_t kFormatFloat = 0x0003;
constexpr std::uint16_t kFormatExtensible = 0xFFFE;
// A fmt chunk is 16 bytes (PCM), 18 (with cbSize) or 40 (EXTENSIBLE); anything much larger
// is not a WAVE we can describe, and the copy we keep must stay small.
constexpr std::uint32_t kMaxFmtSize = 1024;
constexpr std::uint32_t kMaxRiffSize = 0xFFFFFFFF;
// KSDATAFORMAT_SUBTYPE_PCM / _IEEE_FLOAT: the format tag, then this fixed GUID tail.
constexpr Byte kSubformatTail[14] = {0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80,
                                     0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71};

// A RIFF size field: sizes over 32 bits are written as 0xFFFFFFFF, which players read as "to
// the end of the stream".
void append_size(std::string& out, std::uint64_t v)
{
    Byte b[4];
    put_le32(b, static_cast<std::uint32_t>(std::min<std::uint64_t>(v, kMaxRiffSize)));
    out.append(reinterpret_cast<const char*>(b), sizeof b);
}

struct Format {
    std::uint32_t sample_rate = 0;
    std::uint16_t block_align = 0;
};

// Checks the fmt chunk body; returns the detail of what is wrong, or nullptr.
const char* check_fmt(const std::string& fmt, Format& out)
{
    const auto* p = reinterpret_cast<const Byte*>(fmt.data());
    std::uint16_t tag = le16(p);
    const std::uint16_t channels = le16(p + 2);
    const std::uint16_t bits = le16(p + 14);
    if (tag == kFormatExtensible) {
        // WAVEFORMATEXTENSIBLE: cbSize >= 22, then valid bits, channel mask, SubFormat GUID.
        if (fmt.size() < 40 || le16(p + 16) < 22) {
            return "WAVE_FORMAT_EXTENSIBLE fmt chunk too short";
        }
        if (std::memcmp(p + 26, kSubformatTail, sizeof kSubformatTail) != 0) {
            return "unknown WAVE_FORMAT_EXTENSIBLE subformat";
        }
        tag = le16(p + 24);
    }
    if (tag != kFormatPcm && tag != kFormatFloat) {
        return "WAVE format is neither PCM nor IEEE float";
    }
    out.sample_rate = le32(p + 4);
    out.block_align = le16(p + 12);
    if (channels == 0 || out.sample_rate == 0 || bits == 0 || out.block_align == 0) {
        return "fmt chunk has a zero channel count, rate, sample size or block size";
    }
    // A frame holds one sample per channel; anything else cannot be cut on frame boundaries.
    if (out.block_align % channels != 0 || out.block_align < channels * ((bits + 7u) / 8u)) {
        return "fmt block_align does not hold one sample per channel";
    }
    return nullptr;
}

// The fmt chunk and where the data chunk's bytes are: what the walk over the chunks finds.
struct Chunks {
    std::string fmt;
    Offset data_offset = 0;
    Offset data_length = 0;
};

// "RIFF", a size, "WAVE".
std::optional<Cut> check_riff(ByteSource& src)
{
    Byte riff[12];
    if (!src.read(0, riff, sizeof riff)) {
        return malformed("shorter than a RIFF header");
    }
    if (std::memcmp(riff, "RIFF", 4) != 0 || std::memcmp(riff + 8, "WAVE", 4) != 0) {
        return malformed("not a RIFF/WAVE file");
    }
    return std::nullopt;
}

// The fmt chunk's body, kept.
std::optional<Cut> read_fmt(ByteSource& src, Offset body, std::uint32_t len, Chunks& out)
{
    if (!out.fmt.empty()) {
        return malformed("two fmt chunks");
    }
    if (len < 16 || len > kMaxFmtSize) {
        return malformed("fmt chunk size out of range");
    }
    out.fmt.resize(len);
    if (!src.read(body, out.fmt.data(), len)) {
        return malformed("read error in fmt chunk");
    }
    return std::nullopt;
}

// Walks the chunks up to data. The RIFF size is not trusted (streamed files leave it wrong);
// every step advances at least 8 bytes and stays inside the file, so the walk ends.
std::optional<Cut> walk_chunks(ByteSource& src, Chunks& out)
{
    const Offset size = src.size();
    for (Offset pos = 12; size - pos >= 8;) {
        Byte head[8];
        if (!src.read(pos, head, sizeof head)) {
            return malformed("read error in chunk header");
        }
        const std::uint32_t len = le32(head + 4);
        const Offset body = pos + 8;
        if (std::memcmp(head, "data", 4) == 0) {
            if (out.fmt.empty()) {
                return malformed("data chunk before fmt chunk");
            }
            out.data_offset = body;
            out.data_length = std::min<Offset>(len, size - body);  // streamed: clip to the file
            return std::nullopt;
        }
        if (len > size - body) {
            return malformed("chunk size past the end of the file");
        }
        if (std::memcmp(head, "fmt ", 4) == 0) {
            if (auto stop = read_fmt(src, body, len, out)) {
                return stop;
            }
        }
        // RIFF: a chunk of odd size is followed by one pad byte.
        pos = body + len + (len & 1u);
        if (pos > size) {
            break;
        }
    }
    return malformed("no data chunk");
}

// The cut's header: RIFF, the fmt chunk as it was, the header of a data chunk of `data` bytes.
std::string cut_header(const std::string& fmt, std::uint64_t data)
{
    const std::uint64_t fmt_padded = fmt.size() + (fmt.size() & 1u);
    std::string header;
    header.reserve(20 + fmt_padded + 8);
    header.append("RIFF");
    // RIFF size: "WAVE", the fmt chunk, the data chunk with its pad.
    append_size(header, 4 + 8 + fmt_padded + 8 + data + (data & 1u));
    header.append("WAVE");
    header.append("fmt ");
    append_size(header, fmt.size());
    header.append(fmt);
    if (fmt.size() & 1u) {
        header.push_back('\0');
    }
    header.append("data");
    append_size(header, data);
    return header;
}

}  // namespace

Cut cut_wav(ByteSource& src, Micros t)
{
    Chunks chunks;
    if (auto stop = check_riff(src)) {
        return *stop;
    }
    if (auto stop = walk_chunks(src, chunks)) {
        return *stop;
    }
    Format format;
    if (const char* why = check_fmt(chunks.fmt, format)) {
        return malformed(why);
    }

    // The frame that holds t; a partial block at the end is dropped.
    const std::uint64_t first_frame = sample_at(t, format.sample_rate);
    const std::uint64_t frames = chunks.data_length / format.block_align;
    if (first_frame >= frames) {
        return past_end();
    }
    const std::uint64_t remaining = (frames - first_frame) * format.block_align;

    Cut cut;
    cut.status = Cut::Status::Ok;
    cut.rep.extents.push_back(MemoryBlock{cut_header(chunks.fmt, remaining)});
    cut.rep.extents.push_back(FileExtent{chunks.data_offset + first_frame * format.block_align, remaining});
    if (remaining & 1u) {
        cut.rep.extents.push_back(MemoryBlock{std::string(1, '\0')});  // the data chunk's pad byte
    }
    cut.rep.length = extents_length(cut.rep.extents);
    cut.start = samples_to_micros(first_frame, format.sample_rate);
    cut.duration = samples_to_micros(frames - first_frame, format.sample_rate);
    return cut;
}

AudioLayout layout_wav(ByteSource& src)
{
    AudioLayout l{src.size(), 0, src.size(), 0};
    Chunks chunks;
    Format format;
    if (check_riff(src) || walk_chunks(src, chunks) || check_fmt(chunks.fmt, format)) {
        return l;
    }
    l.audio_start = chunks.data_offset;
    l.audio_end = chunks.data_offset + chunks.data_length;
    l.duration = samples_to_micros(chunks.data_length / format.block_align, format.sample_rate);
    return l;
}

}  // namespace audio_stream
