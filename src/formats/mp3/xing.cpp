#include "xing.h"

#include <algorithm>
#include <cstring>

#include "reader.h"
#include "walk.h"

namespace audio_stream {
namespace mp3 {
namespace {

constexpr std::size_t kLameCrcAt = 34;
constexpr std::uint32_t kXingFrames = 1, kXingBytes = 2, kXingToc = 4, kXingQuality = 8;

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

// The header of a frame like the audio frame `audio_raw` at bitrate `index`: no CRC, no
// padding, no private bit, no mode extension; version, sample rate, mode and flags kept.
std::uint32_t raw_for(std::uint32_t audio_raw, unsigned index)
{
    return (audio_raw & 0xFFFE0CCF) | 0x00010000u | index << 12;
}

unsigned size_for(std::uint32_t audio_raw, unsigned index)
{
    const auto h = parse_mp3_header(raw_for(audio_raw, index));
    return h ? h->size : 0u;
}

}  // namespace

VbrTag read_vbr_tag(Reader& r, Offset pos, const Mp3Header& h)
{
    VbrTag tag;
    const unsigned char* f = r.at(pos, h.size);
    if (!f) {
        return tag;
    }
    // The Xing tag follows the side information (its frame has no CRC), VBRI is at 36.
    std::size_t p = 4 + h.side_info;
    if (h.size >= p + 8 && (std::memcmp(f + p, "Xing", 4) == 0 || std::memcmp(f + p, "Info", 4) == 0)) {
        tag.found = true;
        tag.info = f[p] == 'I';
        const std::uint32_t flags = be32(f + p + 4);
        p += 8;
        if (flags & kXingFrames) {
            if (h.size < p + 4) {
                return tag;
            }
            tag.frames = be32(f + p);
            p += 4;
        }
        p += (flags & kXingBytes ? 4 : 0) + (flags & kXingToc ? 100 : 0);
        if (flags & kXingQuality) {
            if (h.size < p + 4) {
                return tag;
            }
            tag.quality = be32(f + p);
            p += 4;
        }
        if (h.size >= p + kLameSize &&
            (std::memcmp(f + p, "LAME", 4) == 0 || std::memcmp(f + p, "Lavf", 4) == 0 ||
             std::memcmp(f + p, "Lavc", 4) == 0)) {
            tag.lame = true;
            std::memcpy(tag.lame_ext.data(), f + p, kLameSize);
            // LAME tag bytes 21-23: encoder delay (12 bits), end padding (12 bits).
            const std::uint32_t v = be24(f + p + 21);
            tag.delay = v >> 12;
            tag.padding = v & 0xFFF;
        }
    }
    else if (h.size >= 36 + 18 && std::memcmp(f + 36, "VBRI", 4) == 0) {
        tag.found = true;
        tag.frames = be32(f + 36 + 14);
    }
    return tag;
}

std::optional<std::string> xing_frame(const NewTag& in)
{
    const bool lame = in.lame;
    const std::size_t base = 4 + in.audio.side_info;
    const std::size_t payload = 16 + (lame ? 4 + kLameSize : 0);
    auto size_for = [&](unsigned index) { return mp3::size_for(in.audio_raw, index); };
    // Constant streams keep their bitrate when it holds the tag (the TOC is optional there);
    // otherwise the smallest bitrate that holds tag and TOC.
    unsigned index = 0;
    bool toc = true;
    if (in.walk->constant && size_for(in.walk->bitrate_index) >= base + payload) {
        index = in.walk->bitrate_index;
        toc = size_for(index) >= base + payload + 100;
    }
    for (unsigned i = 1; index == 0 && i < 15; ++i) {
        if (size_for(i) >= base + payload + 100) {
            index = i;
        }
    }
    const std::uint64_t size = index == 0 ? 0 : size_for(index);
    const std::uint64_t bytes = size + in.audio_bytes;
    if (index == 0 || bytes > 0xFFFFFFFF || in.frames > 0xFFFFFFFF) {
        return std::nullopt;
    }

    std::string frame(size, '\0');
    auto* f = reinterpret_cast<unsigned char*>(frame.data());
    put_be32(f, raw_for(in.audio_raw, index));
    std::size_t p = base;
    std::memcpy(f + p, in.walk->constant ? "Info" : "Xing", 4);
    put_be32(f + p + 4, kXingFrames | kXingBytes | (toc ? kXingToc : 0) | (lame ? kXingQuality : 0));
    put_be32(f + p + 8, static_cast<std::uint32_t>(in.frames));
    put_be32(f + p + 12, static_cast<std::uint32_t>(bytes));
    p += 16;
    if (toc) {
        // Entry i: where i% of the cut's frames starts, in 1/256 of the bytes.
        for (unsigned i = 0; i < 100; ++i) {
            // The reservoir frame, if any, is the cut's frame 0, before the walk's frames.
            const std::uint64_t rel = in.frames * i / 100;
            const std::uint64_t lead_frames = in.lead > 0 ? 1 : 0;
            const Offset at = in.walk->constant ? mul_div(in.audio_bytes, i, 100)
                              : rel < lead_frames ? 0
                                                  : in.lead + in.walk->toc.at(rel - lead_frames) - in.walk->first_offset;
            f[p + i] = static_cast<unsigned char>(std::min<std::uint64_t>(255, mul_div(size + at, 256, bytes)));
        }
        p += 100;
    }
    if (lame) {
        put_be32(f + p, in.original->lame ? in.original->quality : 0);
        p += 4;
        unsigned char* ext = f + p;
        if (in.original->lame) {
            std::memcpy(ext, in.original->lame_ext.data(), kLameSize);
        }
        else {
            std::memcpy(ext, "LAME", 4);  // the rest of the version, gains, flags: 0
        }
        const std::uint32_t v = (in.delay & 0xFFF) << 12 | (in.padding & 0xFFF);
        put_be(ext + 21, 3, v);
        put_be32(ext + 28, static_cast<std::uint32_t>(bytes));  // music length
        ext[32] = ext[33] = 0;                                   // music CRC: not computed
        const std::uint16_t crc = crc16_arc(f, p + kLameCrcAt);
        put_be(ext + kLameCrcAt, 2, crc);
    }
    return frame;
}

std::optional<std::string> reservoir_frame(std::uint32_t audio_raw, const std::string& tail)
{
    const auto audio = parse_mp3_header(audio_raw);
    if (!audio) {
        return std::nullopt;
    }
    const std::size_t base = 4 + audio->side_info;
    auto holds = [&](unsigned index) { return size_for(audio_raw, index) >= base + tail.size(); };
    unsigned index = holds(audio->bitrate_index) ? audio->bitrate_index : 0;
    for (unsigned i = 1; index == 0 && i < 15; ++i) {
        if (holds(i)) {
            index = i;
        }
    }
    if (index == 0) {
        return std::nullopt;
    }
    std::string frame(size_for(audio_raw, index), '\0');
    put_be32(reinterpret_cast<unsigned char*>(frame.data()), raw_for(audio_raw, index));
    frame.replace(frame.size() - tail.size(), tail.size(), tail);
    return frame;
}

}  // namespace mp3
}  // namespace audio_stream
