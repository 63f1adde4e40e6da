// ID3v2 tags at the start of an MP3 file: where they end and whether a cut may keep them
// (not when they describe the original's timeline). Internal to the MP3 cutter.
#ifndef AUDIO_STREAM_FORMATS_MP3_ID3_H
#define AUDIO_STREAM_FORMATS_MP3_ID3_H

#include "../../cut.h"

namespace audio_stream {
namespace mp3 {

class Reader;

struct Id3 {
    const char* error = nullptr;
    Offset end = 0;     // first byte after the ID3v2 tags
    bool keep = false;  // every tag can go into the cut
};

// Where the ID3v2 tags at the start of the file end and whether a cut may keep them all;
// error is set when one is malformed or runs past the end of the file.
Id3 read_id3v2(Reader& r);

}  // namespace mp3
}  // namespace audio_stream

#endif
