// Where a cut or clip of an MP3 stream lies: the file's frames W..L it keeps, the bit reservoir
// frame W needs, and what its new Xing/Info frame and LAME tag say. The locate layer's result,
// which the write layer turns into bytes.
#ifndef AUDIO_STREAM_FORMATS_MP3_LOCATE_H
#define AUDIO_STREAM_FORMATS_MP3_LOCATE_H

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "frame_map.h"
#include "timeline.h"

namespace audio_stream {
namespace mp3 {

// The reservoir (at most 511 bytes) is looked for in this many frames before frame W.
inline constexpr std::size_t kReservoirFrames = 24;

// File bytes holding part of the bit reservoir.
struct Piece {
    Offset offset = 0;
    std::uint32_t length = 0;
};

// The main data of frame W that lies before it (main_data_begin bytes, ISO/IEC 11172-3
// §2.4.1.7): the ends of the frames before W.
struct Reservoir {
    std::uint32_t bytes = 0;
    std::uint32_t missing = 0;  // its first bytes, before the frames looked at (zeros are written)
    std::vector<Piece> pieces;  // the file bytes holding the rest, the last first
    std::string tail;           // its bytes when in_file(): `missing` zeros, then the pieces'
    bool in_file() const { return missing < bytes; }
};

struct Clip {
    Timeline timeline;
    Ends ends;
    Trim trim;
    Offset first_offset = 0;       // frame W
    Offset audio_end = 0;          // the end of frame L (to the end: of the audio)
    Reservoir reservoir;           // the last lead frame ends with it when it is in the file
    std::uint64_t frames = 0;      // in the clip, the lead frames included
    Offset audio_bytes = 0;        // of the lead frames and frames W..L
    bool constant = true;          // frames W..L have one bitrate
    unsigned bitrate_index = 0;    // frame W's
    // Bytes from the clip's first audio byte to its frame at i% of its frames.
    std::array<Offset, kTocSize> toc{};
};

// The clip of `span`: its frames found by arithmetic when the stream is CBR, else (or where
// START's cannot be found so) through the stream's index, from `indexes` or made by one walk on
// first use; a CBR clip whose END's frame cannot be found so runs to the end (the cut from
// START). Frame W's reservoir bytes are read. Refuses (PastEnd) a START at or past the end of
// the audio, (Malformed) a stream without audio frames, that cannot be indexed or read.
Clip locate(Reader& r, const Stream& s, const Span& span, IndexSource& indexes);

}  // namespace mp3
}  // namespace audio_stream

#endif
