// The bytes of one file one listener has received today: a few disjoint ranges, kept in the
// shared cache between their requests (range reassembly), with a compact text encoding.
#ifndef AUDIO_STREAM_STATS_COVERAGE_H
#define AUDIO_STREAM_STATS_COVERAGE_H

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "../representation.h"

namespace audio_stream::stats {

// Bytes [first, end) of a file.
struct FileRange {
    Offset first;
    Offset end;
    bool operator==(const FileRange& o) const { return first == o.first && end == o.end; }
};

class Coverage {
public:
    // Ranges kept: a listener who jumps around more than this loses its smallest ranges (an
    // undercount, never an overcount), and the cache entry stays under 1.3 KiB.
    static constexpr std::size_t kMaxRanges = 32;

    // Joins overlapping and touching ranges; empty ranges are ignored.
    void add(FileRange r);
    Offset covered() const;
    const std::vector<FileRange>& ranges() const { return ranges_; }

    // "first-end,first-end..." in decimal; decode refuses anything else (a damaged or hostile
    // cache entry is treated as absent), including more than kMaxRanges ranges.
    std::string encode() const;
    static std::optional<Coverage> decode(std::string_view text);

private:
    std::vector<FileRange> ranges_;  // sorted, disjoint, not touching
};

}  // namespace audio_stream::stats

#endif
