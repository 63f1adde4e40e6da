#include "xing.h"

#include <cstring>

namespace audio_stream {
namespace mp3 {

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
        p += (flags & kXingBytes ? 4 : 0) + (flags & kXingToc ? kTocSize : 0);
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

}  // namespace mp3
}  // namespace audio_stream
