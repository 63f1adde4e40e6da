// The frames a cut or clip writes before the file's: a fresh Xing/Info frame whose counts, TOC
// and LAME tag describe the clip, and the silent lead frame that carries the bit reservoir of
// the first file frame. The write layer of the MP3 cutter.
#ifndef AUDIO_STREAM_FORMATS_MP3_NEW_FRAMES_H
#define AUDIO_STREAM_FORMATS_MP3_NEW_FRAMES_H

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "xing.h"

namespace audio_stream {
namespace mp3 {

struct NewTag {
    std::uint32_t audio_raw = 0;    // the first audio frame's header: the new frame copies its fields
    std::uint64_t frames = 0;       // audio frames after the new frame
    Offset audio_bytes = 0;         // their bytes
    bool constant = true;           // of one bitrate: "Info"
    unsigned bitrate_index = 0;     // theirs, when constant
    std::array<Offset, kTocSize> toc{};  // bytes from the first audio frame to the one at i%
    const VbrTag* original = nullptr;    // the original's tag: its LAME extension is kept
    bool lame = false;              // write a LAME extension (the original's, else a fresh one)
    unsigned delay = 0;             // its encoder delay and end padding (12 bits each)
    unsigned padding = 0;
};

// A fresh Xing ("Info" when constant) frame: same version, sample rate, mode and flags as the
// first audio frame, no CRC, silent side information (main_data_begin 0, no granule data), at
// the audio's bitrate when constant and that holds the tag, else the smallest that holds the tag
// and its TOC. The LAME extension is the original's with the new delay, padding, length and CRC;
// a stream without one gets one named "LAME" (the name that ffmpeg and Firefox look for), all
// else 0. nullopt when the counts do not fit 32 bits.
std::optional<std::string> xing_frame(const NewTag& in);

// A silent frame (as the Xing frame's side information) of the stream whose first audio frame
// header is `audio_raw`, whose main data ends with `tail`: the bit reservoir that the next frame
// reads. The audio's own bitrate when it holds `tail`, else the smallest that does; nullopt
// when none does (more than 511 bytes).
std::optional<std::string> reservoir_frame(std::uint32_t audio_raw, const std::string& tail);

}  // namespace mp3
}  // namespace audio_stream

#endif
