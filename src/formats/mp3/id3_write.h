// The ID3v2 tags of an MP3 cut or clip: each tag the file starts with, as it is when nothing in
// it describes the original's timeline, else rewritten by its edits (id3.h). The write layer.
#ifndef AUDIO_STREAM_FORMATS_MP3_ID3_WRITE_H
#define AUDIO_STREAM_FORMATS_MP3_ID3_WRITE_H

#include <cstdint>

#include "id3.h"

namespace audio_stream {
namespace mp3 {

// Where the cut lies on the original's timeline, in milliseconds (the unit of ID3 chapters):
// [start_ms, end_ms).
struct TagWindow {
    std::uint64_t start_ms = 0;
    std::uint64_t end_ms = 0;
};

// The tags of a cut over `w`, appended to `out`. A rewritten tag has the original's version, no
// extended header, no padding and no footer; its frames are the original's in their order, less
// those dropped: TLEN says the cut's length; a CHAP that overlaps the cut is kept with its times
// rebased to it (start at 0 for the one holding its start, ends within it) and its byte offsets
// set to 0xFFFFFFFF ("unused"), the others are dropped; a CTOC lists the chapters that remain.
// Unchanged frames and the embedded frames of chapters (titles, images) are file extents.
void emit_id3(Extents& out, const Id3& id3, const TagWindow& w);

}  // namespace mp3
}  // namespace audio_stream

#endif
