// cut_mp4: a cut is a faststart MP4 (ftyp, moov, mdat) that plays from t. Files are made at
// test time with ffmpeg (AAC with the moov at the end and first, ALAC, an .m4b with chapters,
// two audio tracks, co64 offsets), cut in memory, written out, and judged by the box reader of
// mp4_box_tools.h, ffprobe, ffmpeg and the decoded audio. The tests on one file each are in
// test_mp4_files.cpp and test_mp4_hostile.cpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "src/formats/toolbox.h"
#include "tests/unit/mp4_tools.h"
#include "tests/unit/printers.h"

namespace audio_stream {
namespace {

using namespace mp4_test;
using test_tools::TimeCase;

constexpr std::uint64_t kPacket = 1024;  // AAC samples per packet

const TimeCase kTimes[] = {
    {"AtZero", 0, Cut::Status::Ok},
    {"At50ms", 50000, Cut::Status::Ok},
    {"At1_5s", 1500000, Cut::Status::Ok},
    {"At7s", 7000000, Cut::Status::Ok},
    {"At12_345678s", 12345678, Cut::Status::Ok},
    {"At19_9s", 19900000, Cut::Status::Ok},
    {"AtEnd", 20000000, Cut::Status::PastEnd},
    {"At1000s", 1000000000, Cut::Status::PastEnd},
};

class Mp4Cut : public test_tools::FormatCut<Mp4Format> {};

// ISO/IEC 14496-12 §6.2: ftyp first; the cut always puts moov before mdat (a faststart file),
// and every sample of every track lies inside the mdat's payload.
TEST_P(Mp4Cut, FtypMoovMdatAndEverySampleInsideTheMdat)
{
    if (!ok()) {
        return;
    }
    const auto top = top_boxes(bytes_);
    std::vector<std::string> order;
    for (const Box& b : top) {
        order.push_back(b.type);
    }
    ASSERT_EQ(order, (std::vector<std::string>{"ftyp", "moov", "mdat"}));
    ASSERT_EQ(top.back().end, bytes_.size());
    const Box& mdat = top[2];
    std::size_t samples = 0;
    for (const Box& trak : tracks(bytes_)) {
        const Tables t = tables(bytes_, trak);
        ASSERT_EQ(t.deltas.size(), t.sizes.size()) << t.handler;
        const auto spans = sample_spans(t);
        ASSERT_EQ(spans.size(), t.sizes.size()) << "stsc covers every sample exactly";
        std::uint32_t in_chunks = 0;
        for (const std::uint32_t n : t.per_chunk) {
            in_chunks += n;
        }
        EXPECT_EQ(in_chunks, t.sizes.size());
        for (const auto& [at, size] : spans) {
            ASSERT_GE(at, mdat.payload);
            ASSERT_LE(at + size, mdat.end);
        }
        EXPECT_FALSE(t.co64) << "offsets below 2^32 stay in stco";
        samples += spans.size();
    }
    EXPECT_GT(samples, 0u);
}

// Each audio track's samples are the original's from the one playing at t, less at most the
// codec's pre-roll, byte for byte; the new edit list hides the pre-roll, to the sample.
TEST_P(Mp4Cut, SamplesAreTheOriginalsFromThePreRollBeforeT)
{
    if (!ok()) {
        return;
    }
    const std::string& original = file().bytes;
    const auto before = audio_tables(original);
    const auto after = audio_tables(bytes_);
    ASSERT_EQ(after.size(), before.size());
    for (std::size_t i = 0; i < after.size(); ++i) {
        const Tables& a = before[i];
        const Tables& b = after[i];
        ASSERT_EQ(b.timescale, a.timescale);
        ASSERT_LE(b.sizes.size(), a.sizes.size());
        const std::size_t first = a.sizes.size() - b.sizes.size();
        const auto from = sample_spans(a);
        const auto to = sample_spans(b);
        for (std::size_t k = 0; k < to.size(); ++k) {
            ASSERT_EQ(to[k].second, from[first + k].second);
            ASSERT_EQ(bytes_.compare(to[k].first, to[k].second, original, from[first + k].first, from[first + k].second),
                      0)
                << "sample " << k;
        }
        // The original's edit skips its priming; the cut's skips that plus what lies between
        // the first sample kept and t.
        ASSERT_EQ(a.edits.size(), 1u);
        ASSERT_EQ(b.edits.size(), 1u);
        const std::uint64_t t_media = a.edits[0].second + sample_at(time_.t, a.timescale);
        std::uint64_t first_tick = 0;
        for (std::size_t k = 0; k < first; ++k) {
            first_tick += a.deltas[k];
        }
        EXPECT_EQ(static_cast<std::uint64_t>(b.edits[0].second), t_media - first_tick);
        const bool aac = std::string(src_.codec) == "aac";
        const std::uint64_t pre_roll = aac && t_media >= kPacket ? kPacket : 0;
        // The sample holding t, and the one before it for AAC (a roll distance of -1).
        EXPECT_GE(t_media - first_tick, pre_roll);
        EXPECT_LT(t_media - first_tick, pre_roll + a.deltas[first]);
        if (aac) {
            EXPECT_EQ(b.roll, std::optional<std::int16_t>(-1));
            EXPECT_EQ(b.roll_samples, b.sizes.size());
        }
        // Durations: elst (movie timescale) and tkhd agree, mdhd counts the samples kept.
        EXPECT_EQ(b.track_duration, b.edits[0].first);
        std::uint64_t ticks = 0;
        for (const auto d : b.deltas) {
            ticks += d;
        }
        EXPECT_EQ(b.media_duration, ticks);
    }
}

// The cut starts at t's sample; ffprobe gives it the original's duration less the start.
TEST_P(Mp4Cut, StartsAtTAndLastsTheRest)
{
    if (!ok()) {
        return;
    }
    const std::uint64_t first = sample_at(time_.t, src_.rate);
    EXPECT_EQ(cut_.start, samples_to_micros(first, src_.rate));
    const double expected = file().duration - static_cast<double>(first) / src_.rate;
    EXPECT_NEAR(probe_duration(path_), expected, double(kPacket) / src_.rate);
    EXPECT_NEAR(static_cast<double>(cut_.duration) / 1e6, expected, double(kPacket) / src_.rate);
}

// What ffmpeg decodes from the cut is the original's audio from t's sample (Apple's priming
// and the pre-roll hidden by the edit list): identical for ALAC, correlated above 0.99 for
// AAC (a lossy decoder converged by its pre-roll), and as long within a packet.
TEST_P(Mp4Cut, DecodesToTheOriginalFromTsSample)
{
    if (!ok()) {
        return;
    }
    const auto audio = audio_tables(file().bytes);
    for (int i = 0; i < static_cast<int>(audio.size()); ++i) {
        const unsigned channels = channels_of(path_, i);
        ASSERT_GT(channels, 0u);
        const std::uint64_t first = sample_at(time_.t, audio[static_cast<std::size_t>(i)].timescale) * channels;
        std::string messages;
        const auto a = decode(file().path, i);
        const auto b = decode(path_, i, &messages);
        EXPECT_EQ(messages, "") << "ffmpeg decodes the cut without a word";
        ASSERT_LE(first, a.size());
        const std::size_t rest = a.size() - first;
        EXPECT_NEAR(static_cast<double>(b.size()), static_cast<double>(rest), double(kPacket * channels)) << i;
        const std::size_t n = std::min<std::size_t>({b.size(), rest, std::size_t{44100} * channels});
        ASSERT_GT(n, 0u);
        if (src_.exact) {
            ASSERT_EQ(b.size(), rest);
            EXPECT_TRUE(std::equal(b.begin(), b.end(), a.begin() + static_cast<std::ptrdiff_t>(first)));
        }
        else {
            EXPECT_GT(correlation(a.data() + first, b.data(), n), 0.99) << "stream " << i;
        }
    }
}

// Chapters that end after t stay, the first shortened to start at 0, the rest rebased: as
// ffprobe reads them, in the chapter track and in Nero's chpl.
TEST_P(Mp4Cut, ChaptersAreRebased)
{
    if (!ok() || std::string(src_.name) != "BookWithChapters") {
        return;
    }
    const std::uint64_t t_ms = static_cast<std::uint64_t>(cut_.start) / 1000;
    std::vector<std::pair<std::uint64_t, std::string>> expected;  // start ms, title
    for (const Chapter& c : kChapters) {
        if (c.end * 1000 > static_cast<std::uint64_t>(cut_.start)) {
            expected.emplace_back(c.start * 1000 > static_cast<std::uint64_t>(cut_.start) ? c.start - t_ms : 0, c.title);
        }
    }
    ASSERT_FALSE(expected.empty());
    // ffprobe.
    const auto probed = probe_chapters(path_);
    ASSERT_EQ(probed.size(), expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) {
        EXPECT_NEAR(probed[i].start, double(expected[i].first), 1.0) << i;
        EXPECT_EQ(probed[i].title, expected[i].second);
    }
    // The chapter track: titles and durations, summing to the cut's length.
    const auto track = chapter_track(bytes_);
    ASSERT_EQ(track.size(), expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) {
        EXPECT_EQ(track[i].second, expected[i].second);
        const std::uint64_t end = i + 1 < expected.size() ? expected[i + 1].first : 20000 - t_ms;
        EXPECT_NEAR(double(track[i].first), double(end - expected[i].first), 1.0) << i;
    }
    // The chapter track is referenced by the audio track's tref 'chap'.
    const auto audio = audio_tables(bytes_);
    ASSERT_EQ(audio.size(), 1u);
    EXPECT_EQ(audio[0].chap_refs.size(), 1u);
    // Nero's chpl, in 100 ns units.
    const auto nero = chpl(bytes_);
    ASSERT_EQ(nero.size(), expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) {
        EXPECT_NEAR(double(nero[i].first) / 10000, double(expected[i].first), 1.0) << i;
        EXPECT_EQ(nero[i].second, expected[i].second);
    }
}

INSTANTIATE_TEST_SUITE_P(Sources, Mp4Cut, ::testing::ValuesIn(test_tools::all_cuts(kSources, kTimes)),
                         test_tools::CutCaseName());

}  // namespace
}  // namespace audio_stream
