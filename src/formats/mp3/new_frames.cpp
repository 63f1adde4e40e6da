#include "new_frames.h"

#include <algorithm>
#include <cstring>

namespace audio_stream {
namespace mp3 {

namespace {

constexpr std::size_t kLameCrcAt = 34;
constexpr std::size_t kXingFields = 16;  // "Xing"/"Info", flags, frames, bytes

// CRC-16/ARC (polynomial 0x8005, reflected): the LAME tag's CRC.
std::uint16_t crc16_arc(const unsigned char* p, std::size_t n)
{
    std::uint16_t crc = 0;
    for (std::size_t i = 0; i < n; ++i) {
        crc ^= p[i];
        for (int b = 0; b < 8; ++b) {
            crc = (crc & 1) ? static_cast<std::uint16_t>((crc >> 1) ^ 0xA001) : static_cast<std::uint16_t>(crc >> 1);
        }
    }
    return crc;
}

// Xing TOC entry i: where i% of the frames starts, in 1/256 of all the bytes (this frame's too).
void put_toc(unsigned char* p, const NewTag& in, std::uint64_t size, std::uint64_t bytes)
{
    for (std::size_t i = 0; i < kTocSize; ++i) {
        p[i] = static_cast<unsigned char>(std::min<std::uint64_t>(255, mul_div(size + in.toc[i], 256, bytes)));
    }
}

// The quality field at p, then the LAME extension: the original's, with the new delay and
// padding (bytes 21-23: 12 bits each), music length (28-31), no music CRC, and its own CRC over
// the frame up to it.
void put_lame(unsigned char* f, std::size_t p, const NewTag& in, std::uint64_t bytes)
{
    const bool original = in.original && in.original->lame;
    put_be32(f + p, original ? in.original->quality : 0);
    unsigned char* ext = f + p + 4;
    if (original) {
        std::memcpy(ext, in.original->lame_ext.data(), kLameSize);
    }
    else {
        std::memcpy(ext, "LAME", 4);  // the rest of the version, gains, flags: 0
    }
    put_be(ext + 21, 3, (in.delay & 0xFFFu) << 12 | (in.padding & 0xFFFu));
    put_be32(ext + 28, static_cast<std::uint32_t>(bytes));
    ext[32] = ext[33] = 0;
    put_be(ext + kLameCrcAt, 2, crc16_arc(f, p + 4 + kLameCrcAt));
}

}  // namespace

std::optional<std::string> xing_frame(const NewTag& in)
{
    const std::size_t payload = kXingFields + (in.lame ? 4 + kLameSize : 0);
    // Constant streams keep their bitrate when it holds the tag (the TOC is optional there);
    // otherwise the smallest bitrate that holds tag and TOC.
    const bool own = in.constant && holds(in.audio_raw, in.bitrate_index, payload);
    const unsigned index = own ? in.bitrate_index : bitrate_for(in.audio_raw, 0, payload + kTocSize);
    const std::uint64_t size = size_like(in.audio_raw, index);
    const std::uint64_t bytes = size + in.audio_bytes;
    if (index == 0 || bytes > 0xFFFFFFFF || in.frames > 0xFFFFFFFF) {
        return std::nullopt;
    }
    const bool toc = holds(in.audio_raw, index, payload + kTocSize);
    const std::uint32_t raw = header_like(in.audio_raw, index);
    std::string frame(size, '\0');
    auto* f = reinterpret_cast<unsigned char*>(frame.data());
    put_be32(f, raw);
    // The Xing header follows the side information (the frame has no CRC).
    std::size_t p = 4 + parse_mp3_header(raw)->side_info;
    std::memcpy(f + p, in.constant ? "Info" : "Xing", 4);
    put_be32(f + p + 4, kXingFrames | kXingBytes | (toc ? kXingToc : 0) | (in.lame ? kXingQuality : 0));
    put_be32(f + p + 8, static_cast<std::uint32_t>(in.frames));
    put_be32(f + p + 12, static_cast<std::uint32_t>(bytes));
    p += kXingFields;
    if (toc) {
        put_toc(f + p, in, size, bytes);
        p += kTocSize;
    }
    if (in.lame) {
        put_lame(f, p, in, bytes);
    }
    return frame;
}

std::optional<std::string> reservoir_frame(std::uint32_t audio_raw, const std::string& tail)
{
    const unsigned index = bitrate_for(audio_raw, bitrate_index_of(audio_raw), tail.size());
    if (index == 0) {
        return std::nullopt;
    }
    std::string frame(size_like(audio_raw, index), '\0');
    put_be32(reinterpret_cast<unsigned char*>(frame.data()), header_like(audio_raw, index));
    frame.replace(frame.size() - tail.size(), tail.size(), tail);
    return frame;
}

}  // namespace mp3
}  // namespace audio_stream
