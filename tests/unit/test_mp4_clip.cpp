// cut_mp4 with an END: clips of the generated sources (mp4_tools.h) judged by the box reader of
// mp4_box_tools.h against the original's tables, by ffprobe (durations, chapters) and by ffmpeg's
// decoded audio; and locate's end arithmetic on a track made by hand.
//
// ffmpeg 5.1 honours a clip's edit list for durations (ffprobe) and the start, but decodes
// whole packets: it plays the last kept packet to its end, never past it. Players that honour
// the edit's end (Apple's; GStreamer's qtdemux) stop at END's tick; where GStreamer's ALAC
// decoder is installed the test checks that too.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "src/formats/mp4/locate.h"
#include "src/formats/toolbox.h"
#include "tests/unit/mp4_tools.h"

namespace audio_stream {
namespace {

using namespace mp4_test;
using test_tools::TimeCase;

constexpr std::uint64_t kAacPacket = 1024;

const TimeCase kClips[] = {
    // In the middle: END inside a packet, and across a chapter's start (BookWithChapters).
    {"Clip7To12_5s", 7000000, Cut::Status::Ok, 12500000},
    // ?t=,5: no pre-roll before the first packet; the edit skips the priming only.
    {"ClipFromZeroTo5s", 0, Cut::Status::Ok, 5000000},
    // START and END in one packet: the pre-roll and that packet are kept.
    {"ClipOneMillisecond", 3000000, Cut::Status::Ok, 3001000},
    // Shorter than a tick of the chapter track (1 ms): its one chapter outlasts the audio, the
    // movie does not.
    {"ClipHalfAMillisecond", 3000000, Cut::Status::Ok, 3000500},
    // END inside the last packet: the AAC packet of 336 samples and the ALAC one of 1360 hold
    // 19.995 s, as does the last 48 kHz AAC packet.
    {"ClipEndInTheLastPacket", 7000000, Cut::Status::Ok, 19995000},
    // START and END inside the last packet: the pre-roll and that packet are kept.
    {"ClipInsideTheLastPacket", 19993000, Cut::Status::Ok, 19998000},
    // END past the end: the cut from START.
    {"ClipEndPastTheEnd", 7000000, Cut::Status::Ok, 25000000},
    {"ClipStartPastTheEnd", 20000000, Cut::Status::PastEnd, 25000000},
};

// What a clip keeps of one audio track, worked out from the original's tables.
struct Kept {
    std::uint64_t start_ticks = 0, end_ticks = 0;  // the presentation kept, in media ticks
    std::uint64_t first = 0, last = 0;             // samples
    std::uint64_t media_time = 0;                  // of the clip's edit
    std::uint64_t kept_ticks = 0;                  // of samples [first, last)
    bool to_the_end = false;                       // END at or past the track's end
};

Kept kept(const Tables& a, std::uint32_t movie_timescale, const TimeCase& c)
{
    Kept k;
    std::uint64_t total = 0;
    for (const auto d : a.deltas) {
        total += d;
    }
    const std::uint64_t media0 = static_cast<std::uint64_t>(a.edits.at(0).second);
    const std::uint64_t length = std::min(total - media0, a.edits[0].first * a.timescale / movie_timescale);
    k.start_ticks = sample_at(c.t, a.timescale);
    const std::uint64_t end = samples_before(c.end, a.timescale);
    k.to_the_end = end >= length;
    k.end_ticks = std::min(end, length);
    std::uint64_t at = 0, tick = 0;
    for (; tick + a.deltas[at] <= media0 + k.start_ticks; ++at) {
        tick += a.deltas[at];
    }
    const std::uint64_t roll = a.roll ? static_cast<std::uint64_t>(-*a.roll) : 0;
    k.first = at - std::min(at, roll);
    std::uint64_t first_tick = 0;
    for (std::uint64_t i = 0; i < k.first; ++i) {
        first_tick += a.deltas[i];
    }
    k.media_time = media0 + k.start_ticks - first_tick;
    k.last = k.first;
    for (std::uint64_t t = first_tick; k.last < a.deltas.size() && (k.to_the_end || t < media0 + k.end_ticks);) {
        t += a.deltas[k.last++];
    }
    for (std::uint64_t i = k.first; i < k.last; ++i) {
        k.kept_ticks += a.deltas[i];
    }
    return k;
}

class Mp4Clip : public test_tools::FormatCut<Mp4Format> {
protected:
    std::vector<Tables> before() const { return audio_tables(file().bytes); }
    bool open() const
    {
        const auto tracks = before();
        return std::all_of(tracks.begin(), tracks.end(), [&](const Tables& a) {
            return kept(a, movie_header(file().bytes).timescale, time_).to_the_end;
        });
    }
};

// END past the end of the audio is the cut from START: the same extents, the same name.
TEST_P(Mp4Clip, EndPastTheEndIsTheCutFromStart)
{
    if (!ok() || !open()) {
        return;
    }
    const Cut from_start = test_tools::served_cut(Mp4Format::kNames.type, file().bytes, time_.t);
    EXPECT_EQ(cut_.end, Span::kToTheEnd);
    EXPECT_EQ(cut_.rep.extents, from_start.rep.extents);
    EXPECT_EQ(cut_.rep.etag_suffix, from_start.rep.etag_suffix);
    EXPECT_EQ(cut_.duration, from_start.duration);
}

// Each audio track keeps the original's samples [first, last) byte for byte: from the one that
// plays at START less the pre-roll to the one that plays at END's last tick. Its edit presents
// END - START to the tick of the clip's movie timescale (the first track's); tkhd says the
// same, mdhd the ticks kept, mvhd the longest audio track (a chapter track, of one chapter tick
// at least, may last longer: ClipHalfAMillisecond).
TEST_P(Mp4Clip, KeepsTheSamplesFromStartToEndAndEveryDurationSaysSo)
{
    if (!ok() || open()) {
        return;
    }
    const auto a = before();
    const auto b = audio_tables(bytes_);
    ASSERT_EQ(b.size(), a.size());
    const MovieHeader movie = movie_header(bytes_);
    EXPECT_EQ(movie.timescale, a[0].timescale) << "a clip counts movie time in the first track's ticks";
    std::uint64_t longest = 0;
    for (const Tables& t : b) {
        ASSERT_EQ(t.edits.size(), 1u);
        longest = std::max(longest, t.edits[0].first);
    }
    EXPECT_EQ(movie.duration, longest) << "mvhd: the longest audio track's edit";
    for (std::size_t i = 0; i < a.size(); ++i) {
        const Kept k = kept(a[i], movie_header(file().bytes).timescale, time_);
        ASSERT_EQ(b[i].sizes.size(), k.last - k.first) << i;
        const auto from = sample_spans(a[i]);
        const auto to = sample_spans(b[i]);
        ASSERT_EQ(to.size(), b[i].sizes.size());
        for (std::size_t s = 0; s < to.size(); ++s) {
            ASSERT_EQ(bytes_.compare(to[s].first, to[s].second, file().bytes, from[k.first + s].first,
                                     from[k.first + s].second), 0) << "sample " << s;
        }
        const std::uint64_t presented = k.end_ticks - k.start_ticks;
        ASSERT_EQ(b[i].edits.size(), 1u);
        EXPECT_EQ(static_cast<std::uint64_t>(b[i].edits[0].second), k.media_time);
        EXPECT_EQ(b[i].edits[0].first, (presented * movie.timescale + a[i].timescale - 1) / a[i].timescale);
        EXPECT_EQ(b[i].track_duration, b[i].edits[0].first);
        EXPECT_EQ(b[i].media_duration, k.kept_ticks);
        EXPECT_EQ(b[i].roll_samples, b[i].roll ? b[i].sizes.size() : 0u);
    }
    // The cut's times: the first track's START and END ticks (END's rounded up).
    const Kept lead = kept(a[0], movie_header(file().bytes).timescale, time_);
    EXPECT_EQ(cut_.start, samples_to_micros(lead.start_ticks, src_.rate));
    EXPECT_EQ(cut_.end, samples_to_micros(samples_before(time_.end, src_.rate), src_.rate));
    EXPECT_EQ(cut_.duration, samples_to_micros(lead.end_ticks - lead.start_ticks, src_.rate));
    EXPECT_NEAR(probe_duration(path_), double(lead.end_ticks - lead.start_ticks) / src_.rate, 2.0 / src_.rate);
}

// What ffmpeg decodes: from START's sample (the edit hides the pre-roll) to the end of the last
// packet kept, every sample the original's (ALAC) or correlated (AAC). Where the edit starts in
// the last packet kept, ffmpeg 5.1 (libavformat/mov.c, mov_fix_index) takes that packet's
// length to be the edit's: it drops the packet when START lies that far into it, and else plays
// all of it from START, without a word either way.
TEST_P(Mp4Clip, DecodesFromStartToTheEndOfTheLastPacket)
{
    if (!ok() || open()) {
        return;
    }
    const auto a = before();
    const auto after = audio_tables(bytes_);
    for (int i = 0; i < static_cast<int>(a.size()); ++i) {
        const Tables& t = a[static_cast<std::size_t>(i)];
        const Kept k = kept(t, movie_header(file().bytes).timescale, time_);
        const unsigned channels = channels_of(path_, i);
        ASSERT_GT(channels, 0u);
        std::string messages;
        const auto clip = decode(path_, i, &messages);
        EXPECT_EQ(messages, "") << "ffmpeg decodes the clip without a word";
        const bool aac = std::string(src_.codec) == "aac";
        const std::uint64_t whole = aac ? (k.last - k.first) * kAacPacket : k.kept_ticks;
        const std::uint64_t last_at = k.kept_ticks - t.deltas[k.last - 1];  // the last packet's tick
        if (k.media_time >= last_at) {
            const std::uint64_t into = k.media_time - last_at;
            const std::uint64_t decoded = aac ? kAacPacket : t.deltas[k.last - 1];
            const std::uint64_t played = into >= k.end_ticks - k.start_ticks ? 0 : decoded - into;
            EXPECT_EQ(clip.size(), played * channels) << "ffmpeg 5.1 and an edit inside its last packet";
            continue;
        }
        ASSERT_EQ(clip.size(), (whole - k.media_time) * channels) << "stream " << i;
        EXPECT_GE(whole - k.media_time, k.end_ticks - k.start_ticks) << "END is played";
        EXPECT_LT(whole - k.media_time, k.end_ticks - k.start_ticks + (aac ? kAacPacket : 4096));
        const auto original = decode(file().path, i);
        const std::size_t from = k.start_ticks * channels;
        ASSERT_LE(from + clip.size(), original.size());
        if (src_.exact) {
            EXPECT_TRUE(std::equal(clip.begin(), clip.end(), original.begin() + static_cast<std::ptrdiff_t>(from)));
        }
        else {
            const std::size_t n = std::min<std::size_t>(clip.size(), std::size_t{44100} * channels);
            EXPECT_GT(correlation(original.data() + from, clip.data(), n), 0.99) << "stream " << i;
        }
        EXPECT_EQ(after[static_cast<std::size_t>(i)].sizes.size(), k.last - k.first);
    }
}

// A player that ends the presentation where the edit does (GStreamer's qtdemux, when its ALAC
// decoder is installed) plays END - START, to the sample. (GStreamer 1.22 drops the file's last
// packet where the edit's media time is not 0, in the cut from START as in a clip: END in the
// last packet is left to the tables.)
TEST_P(Mp4Clip, AnEditHonouringPlayerStopsAtEnd)
{
    static const bool gst = run("gst-inspect-1.0 avdec_alac").status == 0;
    if (!ok() || open() || !gst || std::string(src_.codec) != "alac") {
        return;
    }
    const Tables original = before().at(0);
    const Kept k = kept(original, movie_header(file().bytes).timescale, time_);
    if (k.last == original.sizes.size() && k.media_time != 0) {
        return;
    }
    const std::string raw = path_ + ".raw";
    const Command c = run("gst-launch-1.0 -q filesrc location='" + path_ + "' ! qtdemux ! decodebin ! audioconvert ! "
                          "audio/x-raw,format=S16LE,channels=1 ! filesink location='" + raw + "'");
    ASSERT_EQ(c.status, 0) << c.output;
    const double played = static_cast<double>(slurp(raw).size() / 2);
    std::filesystem::remove(raw);
    EXPECT_NEAR(played, double(k.end_ticks - k.start_ticks), 1.0);
}

// The chapters that overlap [START, END) stay, rebased, the first shortened at START and the
// last at END: as ffprobe reads them, in the chapter track (its durations too) and in chpl.
TEST_P(Mp4Clip, ChaptersOverlappingTheClipAreKeptAndClipped)
{
    if (!ok() || std::string(src_.name) != "BookWithChapters") {
        return;
    }
    const std::uint64_t from = static_cast<std::uint64_t>(cut_.start) / 1000;
    // The chapter track's milliseconds: START's, and as many whole ones as the clip lasts, one at
    // least (so past the audio for a clip shorter than a millisecond).
    const std::uint64_t length = static_cast<std::uint64_t>(cut_.end - cut_.start) / 1000;
    const std::uint64_t to = cut_.end == Span::kToTheEnd ? 20000 : from + std::max<std::uint64_t>(1, length);
    struct Expected {
        std::uint64_t start, end;  // ms of the clip
        std::string title;
    };
    std::vector<Expected> want;
    for (const Chapter& c : kChapters) {
        if (c.end > from && c.start < to) {
            want.push_back({std::max(c.start, from) - from, std::min(c.end, to) - from, c.title});
        }
    }
    ASSERT_FALSE(want.empty());
    const auto probed = probe_chapters(path_);
    ASSERT_EQ(probed.size(), want.size());
    for (std::size_t i = 0; i < want.size(); ++i) {
        EXPECT_NEAR(probed[i].start, double(want[i].start), 1.0) << i;
        EXPECT_NEAR(probed[i].end, double(want[i].end), 1.0) << i;
        EXPECT_EQ(probed[i].title, want[i].title);
    }
    const auto track = chapter_track(bytes_);
    const auto nero = chpl(bytes_);
    ASSERT_EQ(track.size(), want.size());
    ASSERT_EQ(nero.size(), want.size());
    for (std::size_t k = 0; k < want.size(); ++k) {
        EXPECT_NEAR(double(track[k].first), double(want[k].end - want[k].start), 1.0) << k;
        EXPECT_EQ(track[k].second, want[k].title);
        EXPECT_NEAR(double(nero[k].first) / 10000, double(want[k].start), 1.0) << k;
        EXPECT_EQ(nero[k].second, want[k].title);
    }
    // The chapter track's durations: mdhd its ticks, tkhd and its edit the same in movie ticks.
    const MovieHeader movie = movie_header(bytes_);
    for (const Box& trak : tracks(bytes_)) {
        const Tables t = tables(bytes_, trak);
        if (t.handler != "text") {
            continue;
        }
        std::uint64_t ticks = 0;
        for (const auto d : t.deltas) {
            ticks += d;
        }
        EXPECT_EQ(t.media_duration, ticks);
        EXPECT_NEAR(double(t.track_duration), double(ticks) * movie.timescale / t.timescale, 1.0);
        ASSERT_EQ(t.edits.size(), 1u);
        EXPECT_EQ(t.edits[0].first, t.track_duration);
        EXPECT_EQ(t.edits[0].second, 0);
    }
}

INSTANTIATE_TEST_SUITE_P(Sources, Mp4Clip, ::testing::ValuesIn(test_tools::all_cuts(kSources, kClips)),
                         test_tools::CutCaseName());

// Budget: a clip reads no more of the file than the cut from its START (the same boxes and
// tables, read once; the sample sizes, chunks and chapters only up to END), and END at or past
// the end of the audio reads exactly what that cut reads.
TEST(Mp4ClipShape, ReadsNoMoreThanTheCutFromStart)
{
    ASSERT_EQ(Mp4Files::errors(), "");
    for (const Source& s : kSources) {
        for (const TimeCase& c : kClips) {
            test_tools::CountingSource clip_in(Mp4Files::file(s).bytes);
            test_tools::CountingSource cut_in(Mp4Files::file(s).bytes);
            const Cut clip = test_tools::served_cut(Mp4Format::kNames.type, clip_in, c.span());
            const Cut cut = test_tools::served_cut(Mp4Format::kNames.type, cut_in, c.t);
            ASSERT_EQ(clip.status, cut.status) << s.name << " " << c.name;
            if (clip.end == Span::kToTheEnd) {
                EXPECT_EQ(clip_in.bytes_read, cut_in.bytes_read) << s.name << " " << c.name;
            }
            EXPECT_LE(clip_in.bytes_read, cut_in.bytes_read) << s.name << " " << c.name;
        }
    }
}

}  // namespace
}  // namespace audio_stream
