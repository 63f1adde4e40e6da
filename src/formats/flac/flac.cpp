// Time-seek cuts and clips of native FLAC files (RFC 9639).
// metadata.h, scan.h, index.h (the stream and its frames, read once: the seek index) ->
// locate.h (the frames of a span) -> renumber.h, write.h (the cut) -> here.
#include "../formats.h"

#include <algorithm>
#include <cstdint>
#include <memory>

#include "index.h"
#include "locate.h"
#include "metadata.h"
#include "write.h"

namespace audio_stream {

// "fLaC", a rewritten STREAMINFO (total samples = what the cut holds, MD5 zeroed), the
// VORBIS_COMMENT and PICTURE blocks as file extents, a SEEKTABLE keeping the points inside the
// cut (samples and offsets rebased), then the frames from the one holding sample
// floor(START * rate) to the end of the file, renumbered from 0 (RFC 9639 §9.1.5) so that
// decoders time the cut from 0:00. Each renumbered frame costs two extents: its rewritten
// header (with the previous frame's CRC-16) in memory, its body from the file.
//
// With an END before the end of the audio, a clip: frames cannot be cut inside, so the frames
// end with the one holding sample e - 1, e = ceil(END * rate) (no bytes after it), and
// STREAMINFO's total samples say e - (the first frame's first sample). sox 14.4.2 honours it
// and stops at END, to the sample; ffmpeg 5.1, flac 1.4.2 and GStreamer 1.22 decode the whole
// last frame (7 s -> 12.5 s at 44.1 kHz in 4096-sample frames: 244050 samples, 245760 from
// them). ffprobe's duration is the total. cut.end is e as a time.
//
// Finding the frames reads the whole audio once: that walk is the file's seek index
// (flac::FrameIndex, from `indexes`), made once per file, refused (Malformed) past
// kMaxWalkBytes bytes or kMaxIndexFrames frames; a cut or clip from it reads only the metadata
// and is refused past kMaxCutFrames frames to renumber (a clip counts only its own).
Cut cut_flac(ByteSource& src, const Span& span, IndexSource& indexes)
{
    return as_cut([&] {
        const flac::Stream s = flac::read_stream(src);
        const auto index = flac::stream_index(src, s, indexes);
        return flac::write_cut(src, s, *index, flac::locate(s.info, *index, span));
    });
}

// The same with an index of its own, made for this cut alone.
Cut cut_flac(ByteSource& src, const Span& span)
{
    IndexSource none;
    return cut_flac(src, span, none);
}

namespace {

// RFC 9639 §9.1: a frame holds at most 65535 samples, in a header of at least 6 bytes (sync and
// flags, a coded number, CRC-8), a subframe of at least a byte per channel, and a CRC-16.
constexpr std::uint64_t kMaxFrameSamples = 65535;
std::uint64_t smallest_frame(const flac::StreamInfo& info) { return 6 + info.channels + 2; }

// The lowest sample rate of real recordings (telephone speech): a STREAMINFO rate below it
// does not lower the floor.
constexpr std::uint64_t kLowestRate = 8000;

// Whether `audio` bytes can hold STREAMINFO's total samples: as many of the smallest frames as
// fit, each of 65535 samples. Past that the total is a lie (frames are not walked for a layout).
bool holds(const flac::StreamInfo& info, Offset audio)
{
    return info.total / kMaxFrameSamples <= audio / smallest_frame(info);
}

}  // namespace

// The audio starts after the metadata blocks; STREAMINFO's total samples give the duration (0
// when it says unknown, the audio bytes cannot hold it, or the metadata does not parse). The
// floor is a bit a sample at the stream's rate (8 kHz at least): a subframe that is not of one
// constant value codes every sample in at least a bit (a Rice code's stop bit, RFC 9639
// §9.2.7), so only digital silence comes below it.
AudioLayout layout_flac(ByteSource& src)
{
    AudioLayout l{src.size(), 0, src.size(), 0};
    parses([&] {
        const flac::Stream s = flac::read_stream(src);
        l.audio_start = s.audio_start;
        const bool known = s.info.total > 0 && holds(s.info, l.audio_end - l.audio_start);
        l.duration = known ? samples_to_micros(s.info.total, s.info.rate) : 0;
        l.floor_bitrate = std::max<std::uint64_t>(s.info.rate, kLowestRate);
    });
    return l;
}

}  // namespace audio_stream
