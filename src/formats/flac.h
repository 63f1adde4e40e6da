// Time-seek cuts of native FLAC files (RFC 9639).
#ifndef AUDIO_STREAM_FORMATS_FLAC_H
#define AUDIO_STREAM_FORMATS_FLAC_H

#include "../audio_layout.h"
#include "cut.h"

namespace audio_stream {

// "fLaC", a rewritten STREAMINFO (total samples = what remains, MD5 zeroed), the VORBIS_COMMENT
// and PICTURE blocks as file extents, a SEEKTABLE keeping the points at or after the cut (samples
// and offsets rebased), then the frames from the one holding sample floor(t * rate) to the end of
// the file, renumbered from 0 (RFC 9639 §9.1.5) so that decoders time the cut from 0:00. Each renumbered frame costs two
// extents: its rewritten header (with the previous frame's CRC-16) in memory, its body from the
// file. Finding the frames reads the whole rest of the file once, so a cut is refused (Malformed)
// past kMaxCutFrames frames or kMaxWalkBytes bytes (flac_renumber.cpp); the search for the frame
// at t keeps its own fixed budget against hostile input.
Cut cut_flac(ByteSource& src, Micros t);

// The audio starts after the metadata blocks; STREAMINFO's total samples give the duration (0
// when it says unknown or the metadata does not parse).
AudioLayout layout_flac(ByteSource& src);

}  // namespace audio_stream

#endif
