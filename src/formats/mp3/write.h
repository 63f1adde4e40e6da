// Writing an MP3 cut or clip: the original's ID3v2 tags (when none is tied to its timeline),
// the new Xing/Info frame and the lead frames in memory, then the file's frames W..L as one
// extent: to the end of the file for a cut (trailing tags included), else to the end of frame
// L, followed by the trailing ID3v1/APEv2 tags. The write layer of the MP3 cutter.
#ifndef AUDIO_STREAM_FORMATS_MP3_WRITE_H
#define AUDIO_STREAM_FORMATS_MP3_WRITE_H

#include "locate.h"

namespace audio_stream {
namespace mp3 {

// Reads nothing (locate read the reservoir's bytes for the lead frame). Refuses (Malformed)
// where no bitrate holds the reservoir or the counts do not fit the Xing frame.
Cut write_cut(const Stream& s, const Clip& c);

}  // namespace mp3
}  // namespace audio_stream

#endif
