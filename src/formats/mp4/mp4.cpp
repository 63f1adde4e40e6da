// MP4 audio (ISO/IEC 14496-12 boxes: .m4a, .m4b, audio-only .mp4): time-seek cuts and clips,
// and the layout download counting needs.
// read.h (boxes, movie, tracks and their tables) -> locate.h (the samples and chapters of a
// span) -> write.h (the moov rewritten, the mdat).
#include "../formats.h"

#include <optional>

#include "caps.h"
#include "duration.h"
#include "write.h"

namespace audio_stream {

// The cut of the MP4 file in `src` over `span`: ftyp, a rewritten moov, then an mdat holding
// the chapter titles that remain and the file's sample bytes kept (one file extent), so moov
// always comes before mdat (at t=0 a file whose moov is at its end comes out as its faststart
// copy, with the same samples).
//
// Each audio track starts at the sample that plays at START, less the pre-roll its codec needs
// (the file's sgpd 'roll' group, else one AAC packet; none for ALAC, FLAC, AC-3); a new edit
// list hides the pre-roll so playback starts at START itself, to the tick of the track's
// timescale. A clip ends with the sample that plays at END's last tick: the edit's duration is
// END - START rounded up to a tick of the movie timescale (the first audio track's, for a clip,
// where the file's is coarser), so players that honour it (Apple's, ffmpeg's durations) stop
// at END; decoders that play whole packets play to the end of that sample. stts, ctts, sbgp
// and stsz keep the runs and sizes of the samples kept (the whole runs and the sizes as file
// extents), stsc and stco/co64 the chunks holding them (co64 when an offset may pass 2^32),
// stss the sync samples among them; mvhd, tkhd, mdhd and elst carry the new durations.
// Chapters (a QuickTime chapter track referenced by tref 'chap', and Nero's udta 'chpl') that
// overlap the span are kept, rebased to start at 0, the first and last shortened to it;
// iTunSMPB (iTunes gapless info, wrong after a cut) is dropped; other metadata and cover art
// are copied. An END at or past the end of the audio makes the cut from START.
//
// Unsupported: fragmented files (moof, mvex), compressed moov (cmov), a video or other track
// that is not audio or chapters, stz2 sizes, encrypted samples, edit lists of more than one
// edit, codecs other than AAC, ALAC, FLAC, AC-3, E-AC-3 without a roll group. Malformed: boxes
// or tables that do not fit or disagree, and past the caps (caps.h): a moov over kMaxMoov, more
// than kMaxTracks tracks, 65536 boxes in the moov, 2^21 chunks a track, 1024 chapters.
Cut cut_mp4(ByteSource& src, const Span& span)
{
    return as_cut([&] {
        mp4::BoxWalk walk(src);
        const mp4::Movie movie = mp4::read_movie(walk);
        return mp4::write_cut(walk, movie, mp4::locate(src, movie, span));
    });
}

// MP4's floor: 8 kbit/s, the lowest bitrate AAC encoders offer (HE-AAC v2 in Apple's and
// Fraunhofer's encoders); ALAC, FLAC, AC-3 and E-AC-3 run far above it.
constexpr std::uint64_t kFloorBitrate = 8000;

// The audio is the largest `mdat` box's payload (wherever the `moov` is: before it, as after
// faststart, or after it, as ffmpeg writes by default); the duration is the first audio track's
// by its sample tables (duration.h: stts over the mdhd timescale; never the mvhd or mdhd
// duration, which can say anything), of the first `moov`. Walks at most 1024 top-level boxes
// by their headers, then that moov's tracks down to their stts (within the request's budget of
// steps). Duration 0 when a box runs past the end of the file, or no audio track's stts can be
// read.
AudioLayout layout_mp4(ByteSource& src)
{
    using namespace mp4;
    const Offset size = src.size();
    AudioLayout l{size, 0, size, 0};
    std::optional<Box> mdat;
    std::optional<Box> moov;  // the first one (a file has one)
    Offset at = 0;
    for (int i = 0; i < kMaxTopBoxes && at < size; ++i) {
        const auto b = box_at(src, at, size);
        if (!b) {
            return l;  // not boxes to the end: not a file to trust
        }
        if (is(*b, "mdat") && (!mdat || b->end - b->payload > mdat->end - mdat->payload)) {
            mdat = b;
        }
        if (is(*b, "moov") && !moov) {
            moov = b;
        }
        at = b->end;
    }
    const Micros duration = moov ? audio_duration(src, *moov) : 0;
    if (mdat && duration > 0) {
        l.audio_start = mdat->payload;
        l.audio_end = mdat->end;
        l.duration = duration;
        l.floor_bitrate = kFloorBitrate;
    }
    return l;
}

}  // namespace audio_stream
