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
    Offset lead;              // bytes of the reservoir frame before the file's frames (0: none)
    Offset audio_bytes;       // from the cut's first frame to the end of the audio
    const Walk* walk;
    const VbrTag* original;
    bool lame;                // write a LAME extension: the original's, else a fresh one
    unsigned delay;           // LAME extension values for the cut (12 bits each)
    unsigned padding;
};

// A fresh Xing ("Info" when constant) frame: same version, sample rate, mode and flags as the
// first audio frame, no CRC, silent side information (main_data_begin 0, no granule data).
// The LAME extension is the original's with the cut's delay, padding, length and CRC; a stream
// without one gets one named "LAME" (the name that ffmpeg and Firefox look for), all else 0.
std::optional<std::string> xing_frame(const NewTag& in);

// A silent frame (as the Xing frame's side information) of the stream whose first audio frame
// header is `audio_raw`, whose main data ends with `tail`: the bit reservoir that the next frame
// reads. The audio's own bitrate when it holds `tail`, else the smallest that does; nullopt
// when none does (more than 511 bytes).
std::optional<std::string> reservoir_frame(std::uint32_t audio_raw, const std::string& tail);

}  // namespace mp3
}  // namespace audio_stream

#endif
