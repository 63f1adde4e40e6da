// A track's sample tables (ISO/IEC 14496-12 §8.6, §8.7) as the reader keeps them, and the
// questions locating a span asks of them: which sample plays at a tick, how many start before
// one, which chunk holds a sample, how many bytes samples take. Only the tables that grow with
// the chunks are held; stsz is read in windows as it is needed.
#ifndef AUDIO_STREAM_FORMATS_MP4_TABLES_H
#define AUDIO_STREAM_FORMATS_MP4_TABLES_H

#include <cstdint>
#include <string>
#include <vector>

#include "box.h"

namespace audio_stream::mp4 {

// A table of (count, value) runs over the samples: stts (§8.6.1.2), ctts (§8.6.1.3), sbgp
// (§8.9.2), read whole (the moov is capped).
struct Runs {
    Box box;
    std::size_t header = 0;  // payload bytes before the first run
    std::uint32_t entries = 0;
    std::string payload;
    std::uint32_t count(std::uint32_t i) const { return be32(at(i)); }
    std::uint32_t value(std::uint32_t i) const { return be32(at(i) + 4); }
    const Byte* at(std::uint32_t i) const
    {
        return reinterpret_cast<const Byte*>(payload.data()) + header + std::size_t{8} * i;
    }
    // File offset of run i.
    Offset file_at(std::uint32_t i) const { return box.payload + header + Offset{8} * i; }
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

// stts: the sample presented at media tick m (the first whose end passes m; the sample count
// when none does), and how many samples start before m.
std::uint64_t sample_at_tick(const Runs& stts, std::uint64_t m);
std::uint64_t samples_before_tick(const Runs& stts, std::uint64_t m);

// An stsc entry (§8.7.4), its chunk 0-based here.
struct Stsc {
    std::uint32_t first_chunk;
    std::uint32_t per_chunk;
    std::uint32_t description;
};

// The chunks (stco/co64, §8.7.5) and the stsc runs that fill them.
struct Chunks {
    std::vector<Stsc> runs;
    std::vector<Offset> offsets;
};

// The chunk that holds sample k, and the first sample of that chunk. Malformed past the last.
struct ChunkOf {
    std::uint64_t chunk;
    std::uint64_t first_sample;
};
ChunkOf chunk_of(const Chunks& c, std::uint64_t k);

// Chunks visited in order from a first one, each with the stsc run that describes it.
class ChunkCursor {
public:
    ChunkCursor(const Chunks& c, std::uint64_t chunk);
    std::uint64_t chunk() const { return chunk_; }
    const Stsc& run() const { return c_.runs[run_]; }
    void next();

private:
    const Chunks& c_;
    std::uint64_t chunk_;
    std::size_t run_ = 0;
};

// stsz (§8.7.3): every sample `fixed` bytes, or (fixed 0) a table of 4-byte sizes at `table`.
struct Stsz {
    std::uint32_t fixed = 0;
    Offset table = 0;
    std::uint64_t count = 0;
};

// The sizes of samples, read from the file in windows.
class SampleSizes {
public:
    SampleSizes(ByteSource& src, const Stsz& stsz) : src_(src), stsz_(stsz) {}
    // The bytes of samples [first, first + count), summed.
    Offset sum(std::uint64_t first, std::uint64_t count);
    std::uint32_t size(std::uint64_t sample) { return static_cast<std::uint32_t>(sum(sample, 1)); }

private:
    ByteSource& src_;
    const Stsz& stsz_;
    std::string window_;
    std::uint64_t window_first_ = 0;
};

// `ticks` of timescale `from` in timescale `to`: rounded to nearest, or up. Saturating.
std::uint64_t rescale(std::uint64_t ticks, std::uint32_t from, std::uint32_t to);
std::uint64_t rescale_up(std::uint64_t ticks, std::uint32_t from, std::uint32_t to);

}  // namespace audio_stream::mp4

#endif
