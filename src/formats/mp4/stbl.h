// Writing a cut's sample tables (ISO/IEC 14496-12 §8.5.1 stbl): an audio track's over the
// samples it keeps, a chapter track's over the chapters it keeps. Chunk offsets are written as
// slots that the mdat's place fills in (write.h): the moov comes first, and its length moves
// every chunk.
#ifndef AUDIO_STREAM_FORMATS_MP4_STBL_H
#define AUDIO_STREAM_FORMATS_MP4_STBL_H

#include <cstddef>
#include <vector>

#include "locate.h"
#include "writer.h"

namespace audio_stream::mp4 {

// A chunk offset table (stco or co64) whose values wait for the mdat's place.
struct PendingOffsets {
    enum class Of {
        FileBytes,      // values: file offsets of kept audio bytes, copied as one extent
        ChapterTitles,  // value: where a chapter track's titles start among the chapter bytes
    };
    Of of;
    Writer::Slot first;  // of the first value
    std::size_t width;   // 4 (stco) or 8 (co64)
    std::vector<Offset> values;
};

// What the writers of a cut share: the boxes read, the body written, whether chunk offsets are
// 64-bit, and the offset tables written so far.
struct Out {
    BoxWalk& walk;
    Writer w;
    bool wide = false;
    std::vector<PendingOffsets> pending;
};

void write_audio_stbl(Out& out, const Track& t, const AudioSpan& a);
// `titles_at`: where this track's titles start among the chapter bytes of the mdat.
void write_chapter_stbl(Out& out, const Track& t, const std::vector<ChapterSample>& chapters, Offset titles_at);

}  // namespace audio_stream::mp4

#endif
