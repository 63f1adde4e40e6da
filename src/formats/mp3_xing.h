// The Xing/Info/VBRI frame that leads an MP3 stream: reading the original's (frame count,
// LAME extension with encoder delay and padding) and writing a fresh one for a cut.
// Internal to the MP3 cutter.
#ifndef AUDIO_STREAM_FORMATS_MP3_XING_H
#define AUDIO_STREAM_FORMATS_MP3_XING_H

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "mp3.h"

namespace audio_stream {
namespace mp3 {

class Reader;
struct Walk;

inline constexpr std::size_t kLameSize = 36;  // LAME extension: version string .. tag CRC

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

struct NewTag {
    std::uint32_t audio_raw;  // header of the first audio frame: the new frame copies its fields
    Mp3Header audio;
    std::uint64_t frames;     // audio frames in the cut
    Offset audio_bytes;       // from the cut's first frame to the end of the audio
    const Walk* walk;
    const VbrTag* original;
    unsigned delay;           // LAME extension values for the cut
    unsigned padding;
};

// A fresh Xing ("Info" when constant) frame: same version, sample rate, mode and flags as the
// first audio frame, no CRC, silent side information (main_data_begin 0, no granule data).
std::optional<std::string> xing_frame(const NewTag& in);

}  // namespace mp3
}  // namespace audio_stream

#endif
