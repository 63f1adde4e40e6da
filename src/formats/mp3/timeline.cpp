#include "timeline.h"

#include <algorithm>

namespace audio_stream {
namespace mp3 {

namespace {

constexpr std::uint64_t kMinFrames = 6;  // in a clip, lead frames included, where the fields allow

// The samples the decoder yields before START's in a cut from frame W led by `lead` frames.
std::uint64_t before_start(const Timeline& tl, const Ends& ends, std::uint64_t lead)
{
    return tl.decoded(ends.sample) + lead * tl.spf - ends.whole * tl.spf;
}

}  // namespace

Timeline timeline_of(const Mp3Header& head, const VbrTag& tag, std::uint64_t frames)
{
    Timeline tl;
    tl.rate = head.sample_rate;
    tl.spf = head.samples;
    tl.frames = frames;
    tl.gapless = tag.lame && std::uint64_t{tag.delay} + tag.padding < frames * tl.spf;
    tl.delay = tl.gapless ? tag.delay : 0;
    tl.padding = tl.gapless ? tag.padding : 0;
    return tl;
}

Ends locate_ends(const Timeline& tl, const Span& span)
{
    Ends e;
    e.sample = sample_at(span.start, tl.rate);
    if (e.sample >= tl.samples()) {
        refuse_past_end();
    }
    // START's sample comes out of granule g, which overlaps the granule before it, whose
    // synthesis overlaps the one before that (ISO/IEC 11172-3 §2.4.3.4: IMDCT overlap-add, then
    // the polyphase filterbank): the frame holding granule g - 2 is decoded whole. The frame
    // holding START itself on the encoder's timeline is never before it.
    const std::uint64_t g = tl.decoded(e.sample) / kGranule;
    const std::uint64_t holding = (e.sample + tl.delay) / tl.spf;
    e.whole = std::min(g >= 2 ? (g - 2) / (tl.spf / kGranule) : 0, holding);
    e.last = tl.frames - 1;
    if (span.open()) {
        return e;
    }
    // END: the clip keeps samples [START, e). Decoders yield sample e - 1 from frame `reach`;
    // main_data_begin points backwards only, so nothing after it is needed.
    const std::uint64_t end = std::max(samples_before(span.end, tl.rate), e.sample + 1);
    if (end >= tl.samples()) {
        return e;
    }
    const std::uint64_t reach = (tl.decoded(end) + tl.spf - 1) / tl.spf - 1;
    if (reach >= tl.frames) {
        return e;  // no decoder yields it: the frames are all there is
    }
    // A short clip keeps frames past `reach`, as many as its padding can count, up to six in
    // all (three at least: the 12 bits hold three frames of 1152): see trim_for.
    const std::uint64_t counted = (tl.decoded(end) + kMaxLameField - kDecoderDelay) / tl.spf - 1;
    e.to_the_end = false;
    e.end = end;
    e.last = std::min(std::max(reach, std::min(counted, e.whole + kMinFrames - 1)), tl.frames - 1);
    return e;
}

Trim trim_for(const Timeline& tl, const Ends& ends, bool reservoir_lead)
{
    Trim t;
    t.lead = reservoir_lead ? 1 : 0;
    if (!ends.to_the_end) {
        // A clip needs a LAME tag to carry its end padding. Its start within the decoder delay
        // of a stream without one (W = 0) would need a negative delay: a silent frame first
        // makes it spf - 529 + START's sample, and the start stays exact.
        if (before_start(tl, ends, t.lead) < kDecoderDelay) {
            t.lead = 1;
        }
        // ffmpeg recognises an MP3 for sure by seven frame headers in a row (mp3_read_probe:
        // 51, above what any other probe reaches by chance; the Xing/Info frame is one); with
        // fewer, two zero bytes and one of 0x80-0x83 anywhere make h263's probe tie with it,
        // and a file of a short clip is not opened. Silent frames first make up six, as many as
        // the 12-bit delay can count.
        const std::uint64_t kept = ends.last - ends.whole + 1;
        const std::uint64_t room = (kMaxLameField + kDecoderDelay - before_start(tl, ends, 0)) / tl.spf;
        t.lead = std::max(t.lead, std::min(kept < kMinFrames ? kMinFrames - kept : 0, room));
    }
    const std::uint64_t before = before_start(tl, ends, t.lead);
    // Without a LAME tag and within the decoder delay of the start, a cut is the stream
    // untrimmed, as the original plays.
    t.lame = tl.gapless || before >= kDecoderDelay;
    t.delay = t.lame ? std::min(before - kDecoderDelay, kMaxLameField) : 0;
    if (!ends.to_the_end) {
        // Frames W..L yield decoded samples up to (L + 1) * spf; those from e's on are padding:
        // at least 529 (the decoder yields through e - 1), at most 4095 (locate_ends).
        t.padding = (ends.last + 1) * tl.spf - tl.decoded(ends.end) + kDecoderDelay;
    }
    else {
        // The original's padding; without one, the decoder delay that decoders never flush.
        t.padding = tl.gapless ? tl.padding : t.lame ? kDecoderDelay : 0;
    }
    return t;
}

}  // namespace mp3
}  // namespace audio_stream
