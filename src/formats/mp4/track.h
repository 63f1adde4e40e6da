// One track of an MP4 movie, read into validated sample tables, and the arithmetic of cutting
// it at a time: which sample it starts from, which chunks remain, where their bytes are. Only
// tables that grow with the chunks (stsc, stco/co64) are held; the sample sizes (stsz) are read
// in windows as they are needed and the tables that grow with the samples (stts, ctts, sbgp,
// stsz) are written back as their first changed entry and a file extent of the rest.
#ifndef AUDIO_STREAM_FORMATS_MP4_TRACK_H
#define AUDIO_STREAM_FORMATS_MP4_TRACK_H

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "box.h"

namespace audio_stream::mp4 {

constexpr std::uint64_t kMaxChunks = std::uint64_t{1} << 21;
constexpr std::uint64_t kMaxChapters = 1024;
// ctts and sbgp boxes in one stbl (a file has one ctts and a sample-to-group box or two).
constexpr std::size_t kMaxSampleGroups = 16;
constexpr Offset kMaxChapterSample = 4096;

// A table of (count, value) runs over the samples: stts, ctts, sbgp.
struct Runs {
    Box box;
    std::size_t header = 0;  // payload bytes before the first run
    std::uint32_t entries = 0;
    std::string payload;     // read whole (the moov is capped)
    std::uint32_t count(std::uint32_t i) const { return be32(at(i)); }
    std::uint32_t value(std::uint32_t i) const { return be32(at(i) + 4); }
    const Byte* at(std::uint32_t i) const
    {
        return reinterpret_cast<const Byte*>(payload.data()) + header + std::size_t{8} * i;
    }
};

// Where sample `k` falls in a Runs table: the run holding it, how many samples of that run are
// left from it on, and the sum of the values of the samples before it (ticks, for stts).
// entry == entries when the table covers fewer than k + 1 samples.
struct RunsAt {
    std::uint32_t entry = 0;
    std::uint32_t left = 0;
    std::uint64_t before = 0;
};
RunsAt runs_at(const Runs& r, std::uint64_t k);

struct Stsc {
    std::uint32_t first_chunk;  // 0-based here
    std::uint32_t per_chunk;
    std::uint32_t description;
};

enum class Kind { Audio, Chapters, Other };

struct Track {
    Box trak, tkhd, mdhd, stbl;
    std::vector<Box> trak_kids, mdia_kids, minf_kids, stbl_kids;
    std::uint32_t id = 0;
    char handler[4] = {};
    char codec[4] = {};  // the first sample description's format
    Kind kind = Kind::Other;
    std::uint32_t timescale = 0;
    bool tkhd_v1 = false, mdhd_v1 = false;
    // The edit: media time of the first presented tick and the presented length in movie
    // ticks (0: to the end of the media).
    bool has_edit = false;
    std::uint64_t edit_media_time = 0;
    std::uint64_t edit_duration = 0;
    std::vector<std::uint32_t> chapter_refs;  // tref/chap
    Runs stts;
    std::vector<Runs> others;  // ctts and sbgp: skipped like stts
    bool has_ctts = false;
    std::uint64_t samples = 0;
    std::uint64_t ticks = 0;  // sum of stts
    std::vector<Stsc> stsc;
    std::vector<Offset> chunks;
    std::uint32_t sample_size = 0;  // stsz: all samples this size, or 0 and a table at...
    Offset sizes_at = 0;            // ...this file offset
    std::uint32_t roll = 0;         // samples of pre-roll the codec needs
    bool has_roll_group = false;    // an sgpd/sbgp 'roll' pair is there
    Box stss;                       // type all zero when absent
};

// Reads a trak. Malformed for tables that do not agree (sample counts of stts, stsc and stsz,
// chunk numbers, description indexes), Unsupported for what the cutter does not cut (stz2,
// encrypted samples, edit lists of more than one edit or another rate).
Track read_track(BoxWalk& walk, const Box& trak);

// The sizes of samples, read from the file in windows.
class SampleSizes {
public:
    SampleSizes(ByteSource& src, const Track& t) : src_(src), t_(t) {}
    // The bytes of samples [first, first + count), summed.
    Offset sum(std::uint64_t first, std::uint64_t count);
    std::uint32_t size(std::uint64_t sample) { return static_cast<std::uint32_t>(sum(sample, 1)); }

private:
    ByteSource& src_;
    const Track& t_;
    std::string window_;
    std::uint64_t window_first_ = 0;
};

// Where a cut of a track starts and what it keeps.
struct TrackCut {
    std::uint64_t first = 0;        // first sample kept
    std::uint64_t skipped = 0;      // ticks of the samples before it
    std::uint64_t media_time = 0;   // of the new edit: ticks of the kept samples not presented
    std::uint64_t presented = 0;    // ticks presented (media timescale)
    std::uint64_t start_ticks = 0;  // t in media ticks
    std::uint64_t chunk = 0;        // chunk holding `first`, and how many samples of it go
    std::uint32_t dropped_in_chunk = 0;
    std::vector<Offset> offsets;    // file offsets of the kept chunks, the first moved to `first`
    Offset data_start = 0;          // the first kept byte
    Offset data_end = 0;            // one past the last
};

// The cut of an audio track at t, nullopt when t is past its presentation.
std::optional<TrackCut> cut_track(ByteSource& src, const Track& t, std::uint32_t movie_timescale, Micros at);

// A chapter track's samples from `at` on: each sample's bytes and its ticks, the first shortened
// to begin at `at`.
struct ChapterSample {
    std::string bytes;
    std::uint64_t ticks;
};
std::vector<ChapterSample> cut_chapters(ByteSource& src, const Track& t, Micros at);

// Movie ticks of `ticks` media ticks, rounded to nearest.
std::uint64_t rescale(std::uint64_t ticks, std::uint32_t from, std::uint32_t to);

}  // namespace audio_stream::mp4

#endif
