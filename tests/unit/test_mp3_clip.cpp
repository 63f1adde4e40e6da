// MP3 clips (?t=START,END): the end arithmetic of timeline.h on its own, then clips of the
// generated files (mp3_tools.h) decoded by ffmpeg against the original. A clip is [ID3v2] + a
// fresh Xing/Info frame whose LAME tag trims START..END exactly + the frames W..L (test_mp3.cpp
// covers the cut from START alone).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "src/formats/mp3/timeline.h"
#include "src/formats/toolbox.h"
#include "tests/unit/mp3_tools.h"
#include "tests/unit/printers.h"

namespace audio_stream {
namespace {

using namespace test_tools;
using namespace mp3_test;

// ---- the end arithmetic (timeline.h) --------------------------------------------------------

// A gapless MPEG-1 stream at 44.1 kHz as ffmpeg's libmp3lame writes it: 767 frames, encoder
// delay 576, padding 1008 (20 s: 882000 samples).
mp3::Timeline gapless44k()
{
    mp3::Timeline tl;
    tl.rate = 44100;
    tl.spf = 1152;
    tl.frames = 767;
    tl.gapless = true;
    tl.delay = 576;
    tl.padding = 1008;
    return tl;
}

// The same frames without a LAME tag: the decoder's timeline, untrimmed.
mp3::Timeline plain44k()
{
    mp3::Timeline tl = gapless44k();
    tl.gapless = false;
    tl.delay = tl.padding = 0;
    return tl;
}

// What a gapless player plays of a clip: its frames less the LAME tag's delay and padding.
std::uint64_t played(const mp3::Timeline& tl, const mp3::Ends& e, const mp3::Trim& t)
{
    return (e.last - e.whole + 1 + t.lead) * tl.spf - t.delay - t.padding;
}

// 7 s -> 12.5 s: START's sample 308700 is yielded at 309805 (delay + 529 later), in granule 537;
// W holds granule 535: frame 267. END: e = 551250, yielded up to 552355, so L = 479 (whose
// output ends at 552960) and the padding is 552960 - 552355 + 529.
TEST(Mp3ClipArithmetic, AMiddleClipKeepsTheFramesThroughEndAndPadsToItsLastSample)
{
    const mp3::Timeline tl = gapless44k();
    const mp3::Ends e = mp3::locate_ends(tl, Span{7000000, 12500000});
    EXPECT_EQ(e.sample, 308700u);
    EXPECT_EQ(e.whole, 267u);
    EXPECT_FALSE(e.to_the_end);
    EXPECT_EQ(e.end, 551250u);
    EXPECT_EQ(e.last, 479u);
    const mp3::Trim t = mp3::trim_for(tl, e, false);
    EXPECT_TRUE(t.lame);
    EXPECT_EQ(t.lead, 0u);
    EXPECT_EQ(t.delay, 309805u - 267 * 1152 - 529);
    EXPECT_EQ(t.padding, 1134u);
    EXPECT_EQ(played(tl, e, t), 551250u - 308700u);
    // A lead frame carrying the reservoir comes before W: the delay grows by its samples.
    const mp3::Trim led = mp3::trim_for(tl, e, true);
    EXPECT_EQ(led.lead, 1u);
    EXPECT_EQ(led.delay, t.delay + 1152);
    EXPECT_EQ(led.padding, t.padding);
}

// END inside the last frame is a clip of the same frames as the cut, with its own padding; END
// at the end of the audio (882000 samples) or past it is the cut to the end.
TEST(Mp3ClipArithmetic, EndInTheLastFrameIsAClipAndEndAtTheEndIsNot)
{
    const mp3::Timeline tl = gapless44k();
    ASSERT_EQ(tl.samples(), 882000u);
    const mp3::Ends in_last = mp3::locate_ends(tl, Span{7000000, 19999000});
    EXPECT_FALSE(in_last.to_the_end);
    EXPECT_EQ(in_last.last, 766u);
    EXPECT_EQ(mp3::trim_for(tl, in_last, false).padding, 767u * 1152 - (881956 + 1105) + 529);
    for (const Micros end : {Micros{20000000}, Micros{20000001}, Micros{25000000}, Span::kToTheEnd}) {
        const mp3::Ends e = mp3::locate_ends(tl, Span{7000000, end});
        EXPECT_TRUE(e.to_the_end) << end;
        EXPECT_EQ(e.last, 766u) << end;
        EXPECT_EQ(mp3::trim_for(tl, e, false).padding, 1008u) << "the original's padding";
    }
    // The last sample itself (881999 starts at 19999977 us): a clip one sample short of the end.
    const mp3::Ends last = mp3::locate_ends(tl, Span{7000000, 19999977});
    EXPECT_FALSE(last.to_the_end);
    EXPECT_EQ(last.end, 881999u);
}

// A padding under the decoder delay: the end of the audio is not decoded by any decoder, so an
// END there is the cut to the end (the frames are all there is).
TEST(Mp3ClipArithmetic, EndThatNoDecoderYieldsIsTheCutToTheEnd)
{
    mp3::Timeline tl = gapless44k();
    tl.padding = 100;  // 767 * 1152 - 576 - 100 = 882908 samples; the decoder yields up to 883584
    const std::uint64_t last = tl.samples() - 1;
    ASSERT_GT(tl.decoded(last + 1), tl.frames * tl.spf);
    const Micros before_last = samples_to_micros(last, tl.rate);
    EXPECT_TRUE(mp3::locate_ends(tl, Span{7000000, before_last}).to_the_end);
    EXPECT_FALSE(mp3::locate_ends(tl, Span{7000000, before_last - 20000}).to_the_end);
}

// Without a LAME tag the decoder's timeline is the player's. A clip from 10 ms (sample 441,
// inside the decoder delay) needs a negative delay: a silent lead frame makes it 441 + 1152 -
// 529, and the start stays exact. The cut from 10 ms is the whole stream untrimmed, as before.
TEST(Mp3ClipArithmetic, ClipInsideTheDecoderDelayWithoutLameTagGetsASilentLeadFrame)
{
    const mp3::Timeline tl = plain44k();
    const mp3::Ends e = mp3::locate_ends(tl, Span{10000, 300000});
    EXPECT_EQ(e.whole, 0u);
    EXPECT_EQ(e.end, 13230u);
    EXPECT_EQ(e.last, 11u);  // ceil(13230 / 1152) - 1
    const mp3::Trim t = mp3::trim_for(tl, e, false);
    EXPECT_TRUE(t.lame);
    EXPECT_EQ(t.lead, 1u);
    EXPECT_EQ(t.delay, 441u + 1152 - 529);
    EXPECT_EQ(t.padding, 12u * 1152 - 13230 + 529);
    EXPECT_EQ(played(tl, e, t), 13230u - 441u);
    const mp3::Trim cut = mp3::trim_for(tl, mp3::locate_ends(tl, Span{10000}), false);
    EXPECT_FALSE(cut.lame);
    EXPECT_EQ(cut.lead, 0u);
    EXPECT_EQ(cut.delay + cut.padding, 0u);
}

// ?t=,0.001: END's samples come out of frame 0, but a clip keeps six frames where the 12-bit
// fields allow (ffmpeg recognises an MP3 for sure by seven frame headers): frames 1-3 after it
// as its padding can count (3987 <= 4095), two silent frames before it in its delay.
TEST(Mp3ClipArithmetic, AShortClipKeepsSixFrames)
{
    const mp3::Timeline tl = gapless44k();
    const mp3::Ends e = mp3::locate_ends(tl, Span{0, 1000});
    EXPECT_EQ(e.whole, 0u);
    EXPECT_EQ(e.end, 45u);
    EXPECT_EQ(e.last, 3u);
    const mp3::Trim t = mp3::trim_for(tl, e, false);
    EXPECT_EQ(t.lead, 2u);
    EXPECT_EQ(t.delay, 576u + 2 * 1152);
    EXPECT_EQ(t.padding, 4u * 1152 - (45 + 1105) + 529);
    EXPECT_EQ(played(tl, e, t), 45u);
    // In the middle: START at 1.5 s is yielded at 67255, in granule 116: W = 57; END's last
    // sample comes out of frame 58, the padding counts up to frame 60; two silent frames first
    // (one of them the reservoir's when frame W needs one).
    const mp3::Ends mid = mp3::locate_ends(tl, Span{1500000, 1501000});
    EXPECT_EQ(mid.whole, 57u);
    EXPECT_EQ(mid.last, 60u);
    EXPECT_EQ(mp3::trim_for(tl, mid, false).lead, 2u);
    EXPECT_EQ(mp3::trim_for(tl, mid, true).lead, 2u);
}

// Every clip, gapless or not, MPEG-1 or MPEG-2, with or without a reservoir frame: the LAME tag
// trims it to exactly e - START's sample, its padding (529 at least) and delay fit 12 bits, it
// has six frames, and L is the first frame whose decoded output reaches e (or keeps it six).
TEST(Mp3ClipArithmetic, EveryClipTrimsToItsSamplesAndItsFieldsFitTwelveBits)
{
    mp3::Timeline mpeg2 = gapless44k();
    mpeg2.rate = 22050;
    mpeg2.spf = 576;
    mpeg2.frames = 768;
    mpeg2.padding = 792;
    for (const mp3::Timeline& tl : {gapless44k(), plain44k(), mpeg2}) {
        for (Micros start = 0; start < 19000000; start += 187341) {
            for (const Micros length : {Micros{1}, Micros{1000}, Micros{26122}, Micros{777777}}) {
                const mp3::Ends e = mp3::locate_ends(tl, Span{start, start + length});
                ASSERT_FALSE(e.to_the_end) << start;
                ASSERT_GE(e.last, e.whole + 2);
                // Frame L's output reaches e; L - 1's does not, unless L keeps a short clip long.
                EXPECT_GE((e.last + 1) * tl.spf, tl.decoded(e.end));
                EXPECT_TRUE(e.last <= e.whole + 5 || e.last * tl.spf < tl.decoded(e.end)) << start;
                for (const bool reservoir : {false, true}) {
                    const mp3::Trim t = mp3::trim_for(tl, e, reservoir && e.whole > 0);
                    ASSERT_TRUE(t.lame);
                    EXPECT_EQ(played(tl, e, t), e.end - e.sample) << start << "+" << length;
                    EXPECT_GE(t.padding, 529u);
                    EXPECT_LE(t.padding, 4095u);
                    EXPECT_LE(t.delay, 4095u);
                    EXPECT_GE(e.last - e.whole + 1 + t.lead, 6u) << start << "+" << length;
                }
            }
        }
    }
}

TEST(Mp3ClipArithmetic, StartAtOrPastTheEndIsPastEndWhateverTheEnd)
{
    const mp3::Timeline tl = gapless44k();
    for (const Span span : {Span{20000000}, Span{20000000, 20000001}, Span{30000000, 40000000}}) {
        try {
            mp3::locate_ends(tl, span);
            ADD_FAILURE() << span.start;
        }
        catch (const Refusal& r) {
            EXPECT_EQ(r.status, Cut::Status::PastEnd);
        }
    }
}

// ---- clips of the generated files ------------------------------------------------------------

const TimeCase kClips[] = {
    {"ClipFromZeroTo5s", 0, Cut::Status::Ok, 5000000},  // ?t=,5
    {"Clip7sTo12500ms", 7000000, Cut::Status::Ok, 12500000},
    {"ClipOfOneMillisecond", 1500000, Cut::Status::Ok, 1501000},
    // At 44.1 kHz (gapless) START's sample is the 21st before a decoded frame's end, END's in the next.
    {"ClipOfOneMillisecondAcrossFrames", 2612699, Cut::Status::Ok, 2613699},
    {"ClipOfOneMicrosecond", 3000000, Cut::Status::Ok, 3000001},
    {"ClipOfTheFirstMillisecond", 0, Cut::Status::Ok, 1000},
    {"ClipFrom10msInsideTheDecoderDelay", 10000, Cut::Status::Ok, 300000},
    {"ClipEndInTheLastFrame", 7000000, Cut::Status::Ok, 19999000},
    {"ClipEndPastTheEnd", 7000000, Cut::Status::Ok, 25000000},
};

class Mp3Clip : public FormatCut<Mp3Format> {};

// How many samples ffmpeg (5.1) yields before the first one a LAME tag keeps. It trims both
// ends with one skip field per packet (AV_PKT_DATA_SKIP_SAMPLES): libavformat/demux.c puts
// delay + 529 on the first packet and, on each packet past the first sample to drop, what of it
// to drop; libavcodec/decode.c takes the skip from each packet's field. So the first packet
// dropping samples at the end resets the skip still left: when the first sample kept and the
// first dropped come out of one frame that is not the clip's first, ffmpeg plays that frame
// from its start. The end stays exact.
std::uint64_t ffmpeg_early_start(const XingView& x)
{
    const std::uint64_t spf = x.header.samples;
    const std::uint64_t from = x.delay + 529;
    const std::uint64_t to = std::uint64_t{x.frames} * spf - x.padding + 529;
    const std::uint64_t dropping = to / spf * spf;  // where the packet holding sample `to` starts
    return dropping > 0 && from > dropping ? from - dropping : 0;
}

// The clip: ID3v2 first, a fresh Xing/Info frame counting exactly its frames and bytes, whose
// LAME tag trims exactly START..END, then frames W..L. ffmpeg decodes it without a word, ends
// it on END's sample exactly and starts it on START's (but for the case above), and its
// samples are the original's at both ends.
TEST_P(Mp3Clip, EndsOnEndsSampleAndDecodesToTheOriginal)
{
    ASSERT_EQ(errors(), "");
    const Fixture& f = file();
    const unsigned ch = src_.channels;
    const std::uint64_t total = f.samples.size() / ch;
    const std::uint64_t s = sample_at(time_.t, f.rate);
    const std::uint64_t e = samples_before(time_.end, f.rate);
    if (e >= total) {
        MemorySource again(f.bytes);
        const Cut open = served_cut("audio/mpeg", again, time_.t);
        EXPECT_EQ(cut_.rep.extents, open.rep.extents) << "an END past the end is the cut from START";
        EXPECT_EQ(cut_.rep.etag_suffix, open.rep.etag_suffix);
        EXPECT_EQ(cut_.end, Span::kToTheEnd);
        EXPECT_EQ(cut_.start, open.start);
        EXPECT_EQ(cut_.duration, open.duration);
        return;
    }
    EXPECT_EQ(cut_.start, samples_to_micros(s, f.rate));
    EXPECT_EQ(cut_.end, samples_to_micros(e, f.rate));
    EXPECT_EQ(cut_.duration, samples_to_micros(e - s, f.rate));

    const std::size_t id3 = id3_size(f.bytes);
    EXPECT_EQ(bytes_.substr(0, id3), f.bytes.substr(0, id3));
    const XingView x = read_xing(bytes_, id3);
    ASSERT_TRUE(x.ok);
    ASSERT_TRUE(x.lame) << "a clip's end padding is in its LAME tag";
    const bool gapless = std::string(src_.tag) != "";
    EXPECT_EQ(x.lame_name, gapless ? read_xing(f.bytes, id3).lame_name : "LAME");
    const std::vector<std::size_t> frames = frame_offsets(bytes_, id3 + x.header.size);
    ASSERT_GE(frames.size(), 6u) << "seven frame headers in a row: ffmpeg knows an MP3";
    EXPECT_EQ(x.frames, frames.size());
    EXPECT_EQ(frames.back() + parse_mp3_header(be32(bytes_, frames.back()))->size, bytes_.size())
        << "the clip ends with its last frame";
    EXPECT_EQ(x.bytes, bytes_.size() - id3);
    const unsigned spf = x.header.samples;
    EXPECT_EQ(std::uint64_t{x.frames} * spf - x.delay - x.padding, e - s) << "what a gapless player plays";
    EXPECT_GE(x.padding, 529u);
    EXPECT_LE(x.padding, 4095u);

    // ffprobe (5.1) counts every frame of the Xing count, whatever the LAME tag trims.
    EXPECT_NEAR(probe_duration(path_), static_cast<double>(x.frames) * spf / f.rate, 1e-5);
    std::string messages;
    const std::vector<std::int16_t> b = decode_s16(path_, messages);
    EXPECT_EQ(messages, "") << "ffmpeg must decode the clip without a message";
    const std::uint64_t early = ffmpeg_early_start(x);
    ASSERT_EQ(b.size() / ch, e - s + early);
    // The first 0.2 s from START (from where ffmpeg starts, not before the original's first
    // sample) and the last 0.2 s before END are the original's.
    const std::uint64_t n = b.size() / ch;
    const std::uint64_t head = std::min<std::uint64_t>(n, f.rate / 5);
    const std::uint64_t skip = early > s ? early - s : 0;
    EXPECT_EQ(differing(b, skip * ch, f.samples, (s + skip - early) * ch, (head - std::min(head, skip)) * ch), 0u);
    const std::uint64_t tail = std::min<std::uint64_t>(head, e);
    EXPECT_EQ(differing(b, (n - tail) * ch, f.samples, (e - tail) * ch, tail * ch), 0u);
}

INSTANTIATE_TEST_SUITE_P(Generated, Mp3Clip, ::testing::ValuesIn(all_cuts(kSources, kClips)), CutCaseName());

// END inside the last frame of a gapless file: the clip keeps the cut's frames (the same audio
// extent) and only its LAME padding differs, so that decoders stop at END.
void expect_same_frames_as_the_cut(const Source& s, const Fixture& f)
{
    const Cut cut = served_cut("audio/mpeg", f.bytes, Span{7000000});
    const Cut clip = served_cut("audio/mpeg", f.bytes, Span{7000000, 19999000});
    ASSERT_EQ(clip.status, Cut::Status::Ok) << s.name;
    EXPECT_NE(clip.end, Span::kToTheEnd) << s.name;
    EXPECT_EQ(clip.rep.extents.back(), cut.rep.extents.back()) << s.name;
    const std::size_t id3 = id3_size(f.bytes);
    const XingView a = read_xing(materialise(cut, f.bytes), id3);
    const XingView b = read_xing(materialise(clip, f.bytes), id3);
    EXPECT_EQ(a.frames, b.frames) << s.name;
    EXPECT_EQ(a.delay, b.delay) << s.name;
    EXPECT_EQ(a.padding, read_xing(f.bytes, id3).padding) << s.name;
    const std::uint64_t e = samples_before(19999000, f.rate);
    EXPECT_EQ(b.padding, a.padding + (f.samples.size() / s.channels - e)) << s.name << ": END that many samples early";
}

TEST_F(Mp3Files, ClipEndingInTheLastFrameKeepsTheCutsFramesWithItsOwnPadding)
{
    ASSERT_EQ(errors(), "");
    for (const Source& s : kSources) {
        if (!std::string(s.tag).empty()) {  // gapless: 19.999 s is in the last frame
            expect_same_frames_as_the_cut(s, fixture(s.name));
        }
    }
}

// Trailing ID3v1 and APEv2 tags follow the clip's last frame, as they follow a cut's; the
// frame and byte counts are those of the clip without them.
TEST_F(Mp3Files, ClipKeepsTheTrailingTagsAfterItsLastFrame)
{
    ASSERT_EQ(errors(), "");
    const std::string& plain = fixture("VbrStereo44k").bytes;
    const std::string ape_footer = std::string("APETAGEX") + std::string("\xD0\x07\0\0", 4) +
                                   std::string("\x28\0\0\0", 4) + std::string(16, '\0');
    const std::string tags = std::string(8, 'a') + ape_footer + "TAG" + std::string(125, 'x');
    const std::string tagged = plain + tags;
    for (const Span span : {Span{0, 5000000}, Span{7000000, 12500000}}) {
        const Cut a = served_cut("audio/mpeg", plain, span);
        const Cut b = served_cut("audio/mpeg", tagged, span);
        ASSERT_EQ(b.status, Cut::Status::Ok) << b.detail;
        expect_invariants(b, tagged.size(), span);
        EXPECT_EQ(materialise(b, tagged), materialise(a, plain) + tags);
        EXPECT_EQ(a.end, b.end);
        EXPECT_EQ(a.duration, b.duration);
    }
}

}  // namespace
}  // namespace audio_stream
