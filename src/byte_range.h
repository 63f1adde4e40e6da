// The Range header (RFC 9110 §14.1-14.2): parse, then resolve against a representation length.
// Pure functions over plain values; no APR, no httpd.
#ifndef AUDIO_STREAM_BYTE_RANGE_H
#define AUDIO_STREAM_BYTE_RANGE_H

#include <cstddef>
#include <string_view>
#include <vector>

#include "representation.h"

namespace audio_stream {

// One range-spec. Numbers saturate at kHuge instead of overflowing: any real file is shorter.
struct RangeSpec {
    enum class Kind { Closed, Open, Suffix };  // a-b, a-, -n
    Kind kind;
    Offset first;   // Closed, Open
    Offset last;    // Closed: last-pos; Suffix: suffix-length; Open: unused (0)
    bool operator==(const RangeSpec& o) const
    {
        return kind == o.kind && first == o.first && last == o.last;
    }
};

inline constexpr Offset kHuge = ~Offset{0};

struct ParsedRange {
    enum class Status {
        Ok,       // specs holds at least one range-spec
        Invalid,  // not a bytes ranges-specifier: ignore the header (RFC 9110 §14.2)
        TooMany,  // more range-specs than the caller allows: ignore the header
    };
    Status status;
    std::vector<RangeSpec> specs;
};

// Parses a Range header value. At most max_specs range-specs are kept (0 = no limit); one more
// stops the parse with TooMany, so the work is bounded whatever the header's length.
ParsedRange parse_range(std::string_view header, std::size_t max_specs);

// An inclusive byte range inside a representation.
struct ByteRange {
    Offset first;
    Offset last;
    Offset length() const { return last - first + 1; }
    bool operator==(const ByteRange& o) const { return first == o.first && last == o.last; }
};

struct ResolvedRanges {
    bool satisfiable;               // false: 416
    std::vector<ByteRange> ranges;  // sorted, non-overlapping, non-adjacent, non-empty
};

// Resolves specs against `length`: clips last-pos, turns suffixes into ranges, drops the
// unsatisfiable ones, then sorts and coalesces overlapping or adjacent ranges (RFC 9110 §14.3
// lets a server coalesce "regardless of the order" they were asked in).
ResolvedRanges resolve_ranges(const std::vector<RangeSpec>& specs, Offset length);

}  // namespace audio_stream

#endif
