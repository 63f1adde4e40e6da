// The Xing/Info/VBRI frame that may lead an MP3 stream, as the original has it: its frame count
// and the LAME extension (LAME, Lavf or Lavc) with the encoder delay and end padding that
// gapless players trim. The read layer of the MP3 cutter.
#ifndef AUDIO_STREAM_FORMATS_MP3_XING_H
#define AUDIO_STREAM_FORMATS_MP3_XING_H

#include <array>
#include <cstddef>
#include <cstdint>

#include "frame.h"

namespace audio_stream {
namespace mp3 {

inline constexpr std::size_t kLameSize = 36;  // LAME extension: version string .. tag CRC
// Xing header flags: which optional fields follow.
inline constexpr std::uint32_t kXingFrames = 1, kXingBytes = 2, kXingToc = 4, kXingQuality = 8;
inline constexpr std::size_t kTocSize = 100;  // Xing TOC: one byte per percent

struct VbrTag {
    bool found = false;        // Xing, Info or VBRI: the first frame carries no audio
    bool info = false;         // "Info": the encoder wrote a constant bitrate
    std::uint32_t frames = 0;  // 0: not given
    bool lame = false;         // a LAME extension with encoder delay and padding
    std::array<unsigned char, kLameSize> lame_ext{};
    std::uint32_t quality = 0;
    unsigned delay = 0;
    unsigned padding = 0;
};

// The Xing, Info or VBRI tag in the first frame, at pos with header h (found: false if none).
VbrTag read_vbr_tag(Reader& r, Offset pos, const Mp3Header& h);

}  // namespace mp3
}  // namespace audio_stream

#endif
