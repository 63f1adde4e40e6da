// Small windows: a response whose file bytes fit in a few pages is cheaper to read into memory
// and write with its headers in one writev than to hand to sendfile, whose setup cost per call
// and per partly used page dominates small unaligned windows. Above the threshold, sendfile
// wins (no copy); the threshold is AudioStreamReadThreshold, measured in BENCHMARKS.md.
#ifndef AUDIO_STREAM_SMALL_WINDOW_H
#define AUDIO_STREAM_SMALL_WINDOW_H

#include <cstddef>
#include <optional>
#include <string_view>

#include "apr_file_io.h"
#include "representation.h"

namespace audio_stream {

// The largest threshold we accept: the buffer of one request is at most this.
inline constexpr Offset kMaxReadThreshold = Offset{16} << 20;

// AudioStreamReadThreshold: a size as parse_size takes it ("64K"), at most kMaxReadThreshold;
// 0 means "always sendfile". nullopt if bad.
std::optional<Offset> parse_read_threshold(std::string_view text);

// The bytes of the body that come from the file (memory blocks excluded).
Offset file_bytes(const Extents& body);

// One past the last file byte the body needs (0 when it needs none).
Offset file_end(const Extents& body);

// True when the body's file bytes should be read into memory: there are some, and together
// (all parts of a multipart answer count, so a request never buffers more than the threshold)
// they are at most `threshold`. A threshold of 0 never reads.
bool read_into_memory(const Extents& body, Offset threshold);

// Reads exactly `len` bytes at `offset` with pread (the file position is left alone, so the
// same descriptor may be shared). APR_SUCCESS; APR_EOF when the file ends first (it shrank
// after the stat whose size the response promises); else the read error.
apr_status_t read_exactly(apr_file_t* file, Offset offset, char* buf, std::size_t len);

}  // namespace audio_stream

#endif
