// Small windows: a response whose file bytes fit in a few pages is cheaper to read into memory
// and write with its headers in one writev than to hand to sendfile, whose setup cost per call
// and per partly used page dominates small unaligned windows. Above the threshold, sendfile
// wins (no copy); the threshold is AudioStreamReadThreshold (config_values.h), measured in
// BENCHMARKS.md. The read itself is read_exactly (file_read.h).
#ifndef AUDIO_STREAM_SMALL_WINDOW_H
#define AUDIO_STREAM_SMALL_WINDOW_H

#include "representation.h"

namespace audio_stream {

// True when the body's file bytes should be read into memory: there are some, and together
// (all parts of a multipart answer count, so a request never buffers more than the threshold)
// they are at most `threshold`. A threshold of 0 never reads.
bool read_into_memory(const Extents& body, Offset threshold);

}  // namespace audio_stream

#endif
