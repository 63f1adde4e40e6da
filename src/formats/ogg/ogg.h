// Time-seek cuts of Ogg Vorbis and Ogg Opus files (RFC 3533, Vorbis I §A, RFC 7845).
#ifndef AUDIO_STREAM_FORMATS_OGG_H
#define AUDIO_STREAM_FORMATS_OGG_H

#include "../../audio_layout.h"
#include "../../cut.h"

namespace audio_stream {

// The header pages as they are, then the audio pages from a packet at or before t, each with
// its granule position rebased to the cut, its sequence number following the headers', the
// last one flagged end-of-stream, and its CRC recomputed from the old one (CRC linearity: the
// audio is never read). Each rewritten page header costs a small MemoryBlock and a FileExtent.
//
// Vorbis starts at a page boundary at least half a long block before t (decoders produce audio
// from the second packet on, as after any seek), and its granule positions are rebased to t:
// the first page's is then lower than the samples decoded from it, which tells decoders to
// discard those before t (Vorbis I §A.2), so the output starts at t. Opus starts at the
// packet 80 ms (RFC 7845 §4.6 pre-roll) before t, and the OpusHead pre-skip is set so that
// the output starts exactly at t.
//
// The codec is read from the first packet; other codecs and multiplexed streams are Malformed.
// A chained file is cut within its first logical stream.
Cut cut_ogg(ByteSource& src, const Span& span);

// The audio starts after the header pages; the duration is the last page's granule position
// (less the Opus pre-skip), found within the last kMaxPage bytes; 0 when none is.
AudioLayout layout_ogg(ByteSource& src);

}  // namespace audio_stream

#endif
