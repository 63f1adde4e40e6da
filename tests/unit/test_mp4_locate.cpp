// The MP4 locator's arithmetic on a track made by hand: the samples, chunks and bytes a cut or
// a clip keeps, the edit that presents them, and the stts queries beneath (tables.h).
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "src/formats/mp4/locate.h"
#include "src/formats/toolbox.h"

namespace audio_stream {
namespace {

using namespace mp4;

// A Runs table of (count, value) entries, as read from an stts.
Runs runs_of(const std::vector<std::pair<std::uint32_t, std::uint32_t>>& entries)
{
    Runs r;
    r.header = 8;
    r.entries = static_cast<std::uint32_t>(entries.size());
    r.payload.assign(8, '\0');
    for (const auto& [count, value] : entries) {
        Byte b[8];
        put_be32(b, count);
        put_be32(b + 4, value);
        r.payload.append(reinterpret_cast<const char*>(b), sizeof b);
    }
    return r;
}

// An AAC track as ffmpeg writes one: 44.1 kHz, 100 packets of 1024 ticks and a last one of 336,
// the edit skipping 1024 ticks of priming; 10 samples of 10 bytes a chunk (the last holds one),
// chunk c at 1000 + 100 c.
Track aac_track()
{
    Track t;
    t.kind = Kind::Audio;
    t.timescale = 44100;
    t.edit = Edit{true, 1024, 0};
    t.stts = runs_of({{100, 1024}, {1, 336}});
    t.samples = 101;
    t.ticks = 100 * 1024 + 336;
    t.chunks.runs = {{0, 10, 1}, {10, 1, 1}};
    for (Offset c = 0; c < 11; ++c) {
        t.chunks.offsets.push_back(1000 + 100 * c);
    }
    t.stsz = Stsz{10, 0, 101};
    t.roll = 1;
    return t;
}

class Mp4Locate : public ::testing::Test {
protected:
    AudioSpan locate(const Span& span, bool clip) { return locate_audio(src_, track_, 1000, span, clip); }
    std::string bytes_ = std::string(4096, '\0');
    MemorySource src_{bytes_};
    Track track_ = aac_track();
};

// [1 s, 2 s): START plays at media tick 1024 + 44100 (sample 44), the pre-roll adds sample 43;
// END's last tick, 1024 + 88199, is in sample 87. Chunks 4 (less 3 samples) to 8 (8 samples).
TEST_F(Mp4Locate, AClipKeepsTheSamplesFromThePreRollToTheOnePlayingAtEnd)
{
    const AudioSpan a = locate(Span{1000000, 2000000}, true);
    EXPECT_EQ(a.start_ticks, 44100u);
    EXPECT_EQ(a.end_ticks, 88200u);
    EXPECT_EQ(a.presented(), 44100u);
    EXPECT_EQ(a.first, 43u);
    EXPECT_EQ(a.last, 88u);
    EXPECT_EQ(a.media_time, 1024u + 44100 - 43 * 1024);
    EXPECT_EQ(a.kept_ticks, 45u * 1024);
    EXPECT_EQ(a.chunks.first_chunk, 4u);
    EXPECT_EQ(a.chunks.dropped, 3u);
    EXPECT_EQ(a.chunks.last_chunk, 8u);
    EXPECT_EQ(a.chunks.kept_in_last, 8u);
    EXPECT_EQ(a.chunks.offsets, (std::vector<Offset>{1430, 1500, 1600, 1700, 1800}));
    EXPECT_EQ(a.chunks.data_start, 1430u);
    EXPECT_EQ(a.chunks.data_end, 1880u);
}

// END one microsecond after START: END's tick rounded up is one tick on, and the clip keeps
// the pre-roll and the sample playing at START.
TEST_F(Mp4Locate, AClipOfOneTickKeepsOneSampleAndItsPreRoll)
{
    const AudioSpan a = locate(Span{1000000, 1000001}, true);
    EXPECT_EQ(a.end_ticks - a.start_ticks, 1u);
    EXPECT_EQ(a.first, 43u);
    EXPECT_EQ(a.last, 45u);
    EXPECT_EQ(a.chunks.first_chunk, a.chunks.last_chunk);
    EXPECT_EQ(a.chunks.dropped, 3u);
    EXPECT_EQ(a.chunks.kept_in_last, 5u);
    EXPECT_EQ(a.chunks.offsets, (std::vector<Offset>{1430}));
    EXPECT_EQ(a.chunks.data_end, 1450u);
}

// END in the last (short) sample keeps it, in a chunk of its own; the edit still ends at END.
TEST_F(Mp4Locate, EndInTheLastSampleKeepsItAndEndsTheEditAtEnd)
{
    // 101500 ticks of presentation, of 101712: in the last sample, [101376, 101712).
    const AudioSpan a = locate(Span{1000000, samples_to_micros(101500, 44100) + 1}, true);
    EXPECT_EQ(a.end_ticks, 101501u);
    EXPECT_EQ(a.last, 101u);
    EXPECT_EQ(a.chunks.last_chunk, 10u);
    EXPECT_EQ(a.chunks.kept_in_last, 1u);
    EXPECT_EQ(a.kept_ticks, 57u * 1024 + 336);
    EXPECT_EQ(a.chunks.data_end, 2010u);
}

// No END, or one past the end: every sample to the end of the media, the presentation to the
// edit's end.
TEST_F(Mp4Locate, TheCutFromStartKeepsEverySampleToTheEnd)
{
    for (const bool clip : {false, true}) {
        const AudioSpan a = locate(Span{1000000, clip ? Micros{50000000} : Span::kToTheEnd}, clip);
        EXPECT_EQ(a.end_ticks, 100u * 1024 + 336 - 1024) << clip;
        EXPECT_EQ(a.last, 101u);
        EXPECT_EQ(a.chunks.last_chunk, 10u);
        EXPECT_EQ(a.chunks.kept_in_last, 1u);
        EXPECT_EQ(a.kept_ticks, 58u * 1024 + 336 - 1024);
    }
}

// START at or past the end of the presentation: PastEnd, whatever END.
TEST_F(Mp4Locate, StartAtTheEndIsPastEnd)
{
    const Micros end = samples_to_micros(101712, 44100) + 1;
    const Cut cut = as_cut([&] {
        locate(Span{end, end + 1000}, true);
        return Cut{};
    });
    EXPECT_EQ(cut.status, Cut::Status::PastEnd);
}

// An audio track of 44.1 kHz as long as a clip of more than 2^31 of its ticks needs: 3 samples
// of 2^30 ticks (24348 s each), 10 bytes each, in one chunk at 1000; no edit, no pre-roll.
Track long_track()
{
    Track t;
    t.kind = Kind::Audio;
    t.timescale = 44100;
    t.stts = runs_of({{3, 1u << 30}});
    t.samples = 3;
    t.ticks = std::uint64_t{3} << 30;
    t.chunks.runs = {{0, 3, 1}};
    t.chunks.offsets = {1000};
    t.stsz = Stsz{10, 0, 3};
    return t;
}

// A clip counts movie time in its first audio track's ticks when the file's clock (here 1000 Hz)
// is coarser, so that its edit ends on END's sample; but not when the clip lasts 2^31 of those
// ticks or more (13.5 hours at 44.1 kHz): version 0 headers hold 32 bits. Then the movie keeps
// the file's timescale, every duration rounded up to its milliseconds.
TEST(Mp4LocateClock, AClipOf2To31TicksOrMoreKeepsTheFilesMovieTimescale)
{
    const std::string bytes(4096, '\0');
    MemorySource src(bytes);
    Movie movie;
    movie.timescale = 1000;
    movie.tracks = {long_track()};
    // 40000 s: 1764000000 ticks, below 2^31 = 2147483648.
    const Plan fits = mp4::locate(src, movie, Span{0, Micros{40000} * 1000000});
    ASSERT_TRUE(fits.clip());
    EXPECT_EQ(fits.movie_timescale, 44100u);
    EXPECT_EQ(fits.tracks[0].duration, 1764000000u);
    EXPECT_EQ(fits.movie_duration, 1764000000u);
    // 50000 s: 2205000000 ticks, past 2^31 (and short of the track's 3221225472).
    const Plan coarse = mp4::locate(src, movie, Span{0, Micros{50000} * 1000000});
    ASSERT_TRUE(coarse.clip());
    EXPECT_EQ(coarse.movie_timescale, 1000u) << "the file's";
    EXPECT_EQ(coarse.tracks[0].duration, 50000000u);
    EXPECT_EQ(coarse.movie_duration, 50000000u);
    EXPECT_EQ(coarse.tracks[0].audio.presented(), 2205000000u) << "the edit still presents END's tick";
    EXPECT_EQ(coarse.end, Micros{50000} * 1000000);
}

// stts queries: the sample playing at a tick (runs of no duration play at no tick), and how
// many samples start before one: those of no duration count like any other, when they start
// strictly before it (the three at tick 20 are not before 20, they are before 21).
TEST(Mp4Tables, SampleAtTickAndSamplesBeforeTick)
{
    const Runs stts = runs_of({{2, 10}, {3, 0}, {2, 5}});  // samples start at 0, 10, 20 (x3), 20, 25
    EXPECT_EQ(sample_at_tick(stts, 0), 0u);
    EXPECT_EQ(sample_at_tick(stts, 19), 1u);
    EXPECT_EQ(sample_at_tick(stts, 20), 5u);
    EXPECT_EQ(sample_at_tick(stts, 29), 6u);
    EXPECT_EQ(sample_at_tick(stts, 30), 7u) << "past the end: the sample count";
    EXPECT_EQ(samples_before_tick(stts, 0), 0u);
    EXPECT_EQ(samples_before_tick(stts, 1), 1u);
    EXPECT_EQ(samples_before_tick(stts, 10), 1u);
    EXPECT_EQ(samples_before_tick(stts, 11), 2u);
    EXPECT_EQ(samples_before_tick(stts, 20), 2u);
    EXPECT_EQ(samples_before_tick(stts, 21), 6u);
    EXPECT_EQ(samples_before_tick(stts, 26), 7u);
    EXPECT_EQ(samples_before_tick(stts, 1000), 7u);
}

TEST(Mp4Tables, RescaleRoundsToNearestOrUp)
{
    EXPECT_EQ(rescale(45, 44100, 1000), 1u);
    EXPECT_EQ(rescale_up(45, 44100, 1000), 2u);
    EXPECT_EQ(rescale_up(44100, 44100, 1000), 1000u);
    EXPECT_EQ(rescale_up(44101, 44100, 1000), 1001u);
    EXPECT_EQ(rescale_up(5, 0, 1000), 0u);
}

}  // namespace
}  // namespace audio_stream
