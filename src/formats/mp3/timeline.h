// The player's timeline of an MP3 stream and the arithmetic of a span on it: which frames a cut
// or clip keeps, and what its LAME tag must tell gapless decoders to trim at both ends. Sample
// counts only, no bytes: the rules of the locate layer, tested on their own.
//
// Gapless decoders (ffmpeg's libavformat/mp3dec.c, Firefox's MP3 demuxer) keep, of what the
// decoder yields, [delay + 529, frames * spf - padding + 529): the LAME tag's encoder delay and
// end padding, shifted by the decoder's own delay of 529 samples (the synthesis filterbank's
// 528, plus one, as LAME counts it). A stream without a LAME tag plays all the decoder yields.
#ifndef AUDIO_STREAM_FORMATS_MP3_TIMELINE_H
#define AUDIO_STREAM_FORMATS_MP3_TIMELINE_H

#include <cstdint>

#include "xing.h"

namespace audio_stream {
namespace mp3 {

inline constexpr std::uint64_t kDecoderDelay = 529;
inline constexpr std::uint64_t kMaxLameField = 4095;  // the LAME tag's delay and padding: 12 bits
inline constexpr std::uint64_t kGranule = 576;        // samples a granule: 2 a frame (MPEG-1), else 1

struct Timeline {
    std::uint32_t rate = 0;
    std::uint64_t spf = 0;     // samples per frame
    std::uint64_t frames = 0;  // audio frames in the stream
    bool gapless = false;      // the LAME tag's delay and padding are honoured
    std::uint64_t delay = 0;   // the LAME tag's, when gapless (else 0)
    std::uint64_t padding = 0;

    // Where the decoder yields sample s of the player's timeline.
    std::uint64_t decoded(std::uint64_t s) const { return gapless ? s + delay + kDecoderDelay : s; }
    // How many samples a player plays.
    std::uint64_t samples() const { return frames * spf - delay - padding; }
};

// The timeline of a stream of `frames` audio frames led by a frame with header `head` and tag
// `tag`: gapless when its LAME extension leaves samples to play (else it does not describe
// this stream, which then plays untrimmed).
Timeline timeline_of(const Mp3Header& head, const VbrTag& tag, std::uint64_t frames);

// Where a span lies in the frames (numbered from the first audio frame).
struct Ends {
    std::uint64_t sample = 0;  // START's sample on the player's timeline
    std::uint64_t whole = 0;   // W: the first frame kept, decoded whole
    bool to_the_end = true;    // no END, or one at or past the end of the audio
    std::uint64_t end = 0;     // e = samples_before(END) on the player's timeline (a clip's)
    std::uint64_t last = 0;    // L: the last frame kept (the stream's last when to the end)
};

// The ends of `span`. Refuses (PastEnd) a START at or past the end of the audio.
Ends locate_ends(const Timeline& tl, const Span& span);

// What the cut's new LAME tag says, and the silent frames it writes before the file's.
struct Trim {
    bool lame = false;          // a LAME tag is written (else: the stream untrimmed, as the original)
    std::uint64_t lead = 0;     // silent frames before the file's (the last carries the reservoir)
    std::uint64_t delay = 0;    // the LAME tag's encoder delay and end padding
    std::uint64_t padding = 0;
};

// The trim of the cut or clip from frame ends.whole to ends.last; `reservoir_lead`: a frame
// carrying frame W's bit reservoir leads the file's frames. A clip gets more silent frames
// first where its start needs them, or to make it six frames long.
Trim trim_for(const Timeline& tl, const Ends& ends, bool reservoir_lead);

}  // namespace mp3
}  // namespace audio_stream

#endif
