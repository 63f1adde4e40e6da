// The tags around an MP3 stream: ID3v2 at the start (where they end and whether a cut may keep
// them: not when they describe the original's timeline), ID3v1 and APEv2 at the end (where the
// audio stops). The read layer of the MP3 cutter.
#ifndef AUDIO_STREAM_FORMATS_MP3_ID3_H
#define AUDIO_STREAM_FORMATS_MP3_ID3_H

#include "reader.h"

namespace audio_stream {
namespace mp3 {

struct Id3 {
    Offset end = 0;     // first byte after the ID3v2 tags
    bool keep = false;  // every tag can go into the cut
};

// Where the ID3v2 tags at the start of the file end and whether a cut may keep them all.
// Refuses (Malformed) a tag whose header is bad or that runs past the end of the file.
Id3 read_id3v2(Reader& r);

// Where the audio after `start` ends: before an ID3v1 tag and an APEv2 tag, if any (the file's
// end when there are none).
Offset trailing_tags_start(Reader& r, Offset start);

}  // namespace mp3
}  // namespace audio_stream

#endif
