// An MP3 file as the cutter reads it: the tags around the audio, the first frame (the Xing/Info/
// VBRI frame when there is one) and the first audio frame, and whether the stream is constant
// enough to find its frames by arithmetic. What the read layer gives the locator.
#ifndef AUDIO_STREAM_FORMATS_MP3_STREAM_H
#define AUDIO_STREAM_FORMATS_MP3_STREAM_H

#include <cstdint>

#include "frame.h"
#include "id3.h"
#include "xing.h"

namespace audio_stream {
namespace mp3 {

// Where the audio lies between the tags.
struct Tags {
    Id3 id3;           // ID3v2 at the start
    Offset limit = 0;  // the end of the audio: where ID3v1/APEv2 start, else the file's end
};

// Refuses (Malformed) a bad ID3v2 tag.
Tags read_tags(Reader& r);

struct Stream {
    Tags tags;
    Offset size = 0;              // of the file
    std::uint32_t ref = 0;        // the first frame's header: what every frame shares with it
    Mp3Header head{};
    VbrTag tag;                   // in the first frame
    Offset audio = 0;             // the first audio frame (after the Xing/Info/VBRI frame)
    std::uint32_t audio_raw = 0;  // its header (the first frame's if it has none): new frames copy it
    Mp3Header audio_head{};
    bool cbr = false;             // an Info frame counts the frames, and their bytes agree within 1%
};

// The stream between `tags`. Refuses (Malformed) a file without Layer III frames.
Stream read_stream(Reader& r, const Tags& tags);

}  // namespace mp3
}  // namespace audio_stream

#endif
