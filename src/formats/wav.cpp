#include "wav.h"

#include <algorithm>
#include <cstring>
#include <string>

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
constexpr unsigned char kSubformatTail[14] = {0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80,
                                              0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71};

std::uint16_t le16(const unsigned char* p) { return static_cast<std::uint16_t>(p[0] | p[1] << 8); }

std::uint32_t le32(const unsigned char* p)
{
    return static_cast<std::uint32_t>(p[0]) | static_cast<std::uint32_t>(p[1]) << 8 |
           static_cast<std::uint32_t>(p[2]) << 16 | static_cast<std::uint32_t>(p[3]) << 24;
}

void put_le32(std::string& out, std::uint64_t v)
{
    const auto x = static_cast<std::uint32_t>(std::min<std::uint64_t>(v, kMaxRiffSize));
    for (int i = 0; i < 4; ++i) {
        out.push_back(static_cast<char>((x >> (8 * i)) & 0xFF));
    }
}

Cut malformed(const char* why)
{
    Cut cut;
    cut.status = Cut::Status::Malformed;
    cut.detail = why;
    return cut;
}

// frames * 1e6 / rate without overflow for any frame count a file can hold.
Micros frames_to_micros(std::uint64_t frames, std::uint32_t rate)
{
    return static_cast<Micros>(frames / rate * 1000000 + frames % rate * 1000000 / rate);
}

struct Format {
    std::uint32_t sample_rate = 0;
    std::uint16_t block_align = 0;
};

// Checks the fmt chunk body; returns the detail of what is wrong, or nullptr.
const char* check_fmt(const std::string& fmt, Format& out)
{
    const auto* p = reinterpret_cast<const unsigned char*>(fmt.data());
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

}  // namespace

Cut cut_wav(ByteSource& src, Micros t)
{
    const Offset size = src.size();
    unsigned char riff[12];
    if (!src.read(0, riff, sizeof riff)) {
        return malformed("shorter than a RIFF header");
    }
    if (std::memcmp(riff, "RIFF", 4) != 0 || std::memcmp(riff + 8, "WAVE", 4) != 0) {
        return malformed("not a RIFF/WAVE file");
    }

    // Walk the chunks up to data. The RIFF size is not trusted (streamed files leave it wrong);
    // every step advances at least 8 bytes and stays inside the file, so the walk ends.
    std::string fmt;
    Offset data_offset = 0;
    Offset data_length = 0;
    bool have_data = false;
    for (Offset pos = 12; size - pos >= 8;) {
        unsigned char head[8];
        if (!src.read(pos, head, sizeof head)) {
            return malformed("read error in chunk header");
        }
        const std::uint32_t len = le32(head + 4);
        const Offset body = pos + 8;
        if (std::memcmp(head, "data", 4) == 0) {
            if (fmt.empty()) {
                return malformed("data chunk before fmt chunk");
            }
            data_offset = body;
            data_length = std::min<Offset>(len, size - body);  // streamed: clip to the file
            have_data = true;
            break;
        }
        if (len > size - body) {
            return malformed("chunk size past the end of the file");
        }
        if (std::memcmp(head, "fmt ", 4) == 0) {
            if (!fmt.empty()) {
                return malformed("two fmt chunks");
            }
            if (len < 16 || len > kMaxFmtSize) {
                return malformed("fmt chunk size out of range");
            }
            fmt.resize(len);
            if (!src.read(body, fmt.data(), len)) {
                return malformed("read error in fmt chunk");
            }
        }
        // RIFF: a chunk of odd size is followed by one pad byte.
        pos = body + len + (len & 1u);
        if (pos > size) {
            break;
        }
    }
    if (!have_data) {
        return malformed("no data chunk");
    }
    Format format;
    if (const char* why = check_fmt(fmt, format)) {
        return malformed(why);
    }

    // The frame that holds t: floor(t * rate / 1e6), split so that it cannot overflow.
    const auto secs = static_cast<std::uint64_t>(t / 1000000);
    const auto frac = static_cast<std::uint64_t>(t % 1000000);
    const std::uint64_t first_frame = secs * format.sample_rate + frac * format.sample_rate / 1000000;
    const std::uint64_t frames = data_length / format.block_align;  // a partial block is dropped
    if (first_frame >= frames) {
        Cut cut;
        cut.status = Cut::Status::PastEnd;
        return cut;
    }
    const std::uint64_t remaining = (frames - first_frame) * format.block_align;
    const std::uint64_t fmt_padded = fmt.size() + (fmt.size() & 1u);
    const std::uint64_t data_pad = remaining & 1u;

    std::string header;
    header.reserve(20 + fmt_padded + 8);
    header.append("RIFF");
    // RIFF size: "WAVE", the fmt chunk, the data chunk with its pad; sizes over 32 bits are
    // written as 0xFFFFFFFF, which players read as "to the end of the stream".
    put_le32(header, 4 + 8 + fmt_padded + 8 + remaining + data_pad);
    header.append("WAVE");
    header.append("fmt ");
    put_le32(header, fmt.size());
    header.append(fmt);
    if (fmt.size() & 1u) {
        header.push_back('\0');
    }
    header.append("data");
    put_le32(header, remaining);

    Cut cut;
    cut.status = Cut::Status::Ok;
    cut.rep.extents.push_back(MemoryBlock{std::move(header)});
    cut.rep.extents.push_back(FileExtent{data_offset + first_frame * format.block_align, remaining});
    if (data_pad) {
        cut.rep.extents.push_back(MemoryBlock{std::string(1, '\0')});
    }
    cut.rep.length = extents_length(cut.rep.extents);
    cut.start = frames_to_micros(first_frame, format.sample_rate);
    cut.duration = frames_to_micros(frames - first_frame, format.sample_rate);
    cut.rep.etag_suffix = "-t" + std::to_string(cut.start);
    return cut;
}

}  // namespace audio_stream
