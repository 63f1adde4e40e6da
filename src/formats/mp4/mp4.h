// MP4 audio (ISO/IEC 14496-12 boxes: .m4a, .m4b, audio-only .mp4): time-seek cuts and the
// layout download counting needs.
#ifndef AUDIO_STREAM_FORMATS_MP4_H
#define AUDIO_STREAM_FORMATS_MP4_H

#include "../../audio_layout.h"
#include "../../byte_source.h"
#include "../../cut.h"

namespace audio_stream {

// The cut of the MP4 file in `src` at time t: ftyp, a rewritten moov, then an mdat holding the
// chapter titles that remain and the file's sample bytes from the first one kept on (one file
// extent), so moov always comes before mdat (at t=0 a file whose moov is at its end comes out
// as its faststart copy, with the same samples).
//
// Each audio track starts at the sample that plays at t, less the pre-roll its codec needs (the
// file's sgpd 'roll' group, else one AAC packet; none for ALAC, FLAC, AC-3); a new edit list
// hides the pre-roll so playback starts at t itself, to the tick of the track's timescale.
// stts, ctts, sbgp and stsz keep their tails as file extents, stsc and stco/co64 are written
// anew (co64 when an offset passes 2^32), mvhd/tkhd/mdhd carry the new durations. Chapters (a
// QuickTime chapter track referenced by tref 'chap', and Nero's udta 'chpl') that end after t
// are kept, rebased to start at 0; iTunSMPB (iTunes gapless info, wrong after a cut) is dropped;
// other metadata and cover art are copied.
//
// Unsupported: fragmented files (moof, mvex), compressed moov (cmov), a video or other track
// that is not audio or chapters, stz2 sizes, encrypted samples, edit lists of more than one
// edit, codecs other than AAC, ALAC, FLAC, AC-3, E-AC-3 without a roll group. Malformed: boxes
// or tables that do not fit or disagree, and past the caps: a moov over kMaxMoov, more than
// kMaxTracks tracks, 65536 boxes in the moov, 2^21 chunks a track, 1024 chapters.
Cut cut_mp4(ByteSource& src, const Span& span);

// The audio is the largest `mdat` box's payload (wherever the `moov` is: before it, as after
// faststart, or after it, as ffmpeg writes by default); the duration is the movie header's
// (`moov`/`mvhd`; the first `moov`'s). Walks at most 1024 top-level boxes and 1024 children of
// the first `moov`, only by their headers: at most 2048 small reads whatever the file. Duration
// 0 when a box runs past the end of the file, `mvhd` is missing, or its timescale or duration
// is 0 or unknown.
AudioLayout layout_mp4(ByteSource& src);

namespace mp4 {
constexpr Offset kMaxMoov = Offset{64} << 20;
constexpr int kMaxTracks = 16;
}  // namespace mp4

}  // namespace audio_stream

#endif
