// The tags around an MP3 stream: ID3v2 at the start (where they end, and what a cut changes in
// them: the frames that describe the original's timeline), ID3v1 and APEv2 at the end (where the
// audio stops). The read layer of the MP3 cutter; id3_write.h writes the tags of a cut.
#ifndef AUDIO_STREAM_FORMATS_MP3_ID3_H
#define AUDIO_STREAM_FORMATS_MP3_ID3_H

#include <cstdint>
#include <string>
#include <vector>

#include "reader.h"

namespace audio_stream {
namespace mp3 {

// Frames per tag, tags, frames rewritten or dropped, and bytes of element IDs (chapters' and
// tables of contents') that a cut reads; past any of them the tags are left out of the cut
// (which costs only metadata). Podcast tools write one tag, tens of chapters, IDs of a few bytes.
// A rewritten tag's memory is then at most 512 frame heads and 16 KiB of IDs (under 32 KiB).
inline constexpr unsigned kMaxId3Frames = 4096;
inline constexpr unsigned kMaxId3Tags = 16;
inline constexpr unsigned kMaxId3Edits = 512;
inline constexpr std::size_t kMaxChapterIdBytes = 16 * 1024;

// What a cut does to one ID3v2 frame; the frames between edits are copied as they are.
struct Id3Edit {
    enum class Kind : std::uint8_t {
        Drop,     // bound to the original's timeline or bytes (SYLT, ETCO, SYTC, POSS, MLLT, ASPI,
                  // SEEK), or iTunes gapless data (iTunSMPB), wrong for any cut
        Length,   // TLEN: the cut's duration
        Chapter,  // CHAP: its times rebased to the cut, its byte offsets "unused"; gone outside it
        Toc,      // CTOC: its child list less the chapters gone
    };
    Kind kind = Kind::Drop;
    Offset offset = 0;                 // the frame's header
    Offset length = 0;                 // header and body
    unsigned char status = 0;          // the frame's status flags (v2.3, v2.4), kept
    std::string id;                    // Chapter, Toc: the element ID
    std::uint32_t start_ms = 0;        // Chapter
    std::uint32_t end_ms = 0;          // Chapter
    unsigned char toc_flags = 0;       // Toc: top-level, ordered
    std::vector<std::string> children; // Toc
    Offset rest = 0;                   // Chapter, Toc: their embedded frames, copied as they are
};

struct Id3Tag {
    Offset offset = 0;            // its header
    Offset total = 0;             // header, extended header, frames, padding, footer
    unsigned char major = 0;
    unsigned char minor = 0;
    Offset frames = 0;            // its first frame
    Offset frames_end = 0;        // past its last frame: its padding, or its end
    std::vector<Id3Edit> edits;   // in file order; none: the tag goes into a cut as it is
};

struct Id3 {
    Offset end = 0;              // first byte after the ID3v2 tags
    bool keep = false;           // the tags go into a cut (as they are, or by their edits)
    std::vector<Id3Tag> tags;    // when kept
};

// Where the ID3v2 tags at the start of the file end, and how a cut keeps them. Refuses
// (Malformed) a tag whose header is bad or that runs past the end of the file. A tag a cut cannot
// vouch for (v2.2/v2.3 unsynchronisation, an unknown version, a bad frame, a chapter frame
// compressed, encrypted or unreadable, past the caps above) leaves every tag out.
Id3 read_id3v2(Reader& r);

// Where the audio after `start` ends: before an ID3v1 tag and an APEv2 tag, if any (the file's
// end when there are none).
Offset trailing_tags_start(Reader& r, Offset start);

}  // namespace mp3
}  // namespace audio_stream

#endif
