// GoogleTest printers for the src/ value types, so a failure shows values instead of bytes.
// Found by ADL, hence in namespace audio_stream; inline, as every test file includes this.
#ifndef AUDIO_STREAM_TESTS_UNIT_PRINTERS_H
#define AUDIO_STREAM_TESTS_UNIT_PRINTERS_H

#include <ostream>

#include "src/byte_range.h"
#include "src/piece_window.h"
#include "src/representation.h"
#include "src/stats/coverage.h"

namespace audio_stream {

inline void PrintTo(const FileExtent& e, std::ostream* os)
{
    *os << "FileExtent{" << e.offset << ", " << e.length << "}";
}

inline void PrintTo(const MemoryBlock& m, std::ostream* os)
{
    *os << "MemoryBlock{\"";
    for (char c : m.bytes) {
        if (c == '\r') {
            *os << "\\r";
        }
        else if (c == '\n') {
            *os << "\\n";
        }
        else {
            *os << c;
        }
    }
    *os << "\"}";
}

inline void PrintTo(const RangeSpec& s, std::ostream* os)
{
    switch (s.kind) {
    case RangeSpec::Kind::Closed: *os << "Closed{" << s.first << ", " << s.last << "}"; break;
    case RangeSpec::Kind::Open: *os << "Open{" << s.first << "}"; break;
    case RangeSpec::Kind::Suffix: *os << "Suffix{" << s.last << "}"; break;
    }
}

inline void PrintTo(const ByteRange& r, std::ostream* os)
{
    *os << "ByteRange{" << r.first << ", " << r.last << "}";
}

inline void PrintTo(PieceScope scope, std::ostream* os)
{
    *os << (scope == PieceScope::Media ? "PieceScope::Media" : "PieceScope::All");
}

namespace stats {

inline void PrintTo(const FileRange& r, std::ostream* os)
{
    *os << "FileRange[" << r.first << ", " << r.end << ")";
}

}  // namespace stats

}  // namespace audio_stream

#endif
