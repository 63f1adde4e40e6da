// FLAC clips (?t=START,END): the frames from the one holding START through the one holding the
// last sample before END, renumbered from 0, STREAMINFO's total samples up to END. Judged by an
// independent frame walk, ffmpeg, ffprobe and the reference decoder; locate's arithmetic on
// hand-made indexes. What the decoders do with the samples of the last frame past STREAMINFO's
// total is measured here (ffmpeg 5.1 and flac 1.4.2 decode them all; ffprobe's duration is the
// total).
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "src/formats/flac/locate.h"
#include "tests/unit/flac_tools.h"
#include "tests/unit/printers.h"

namespace audio_stream {
namespace {

using namespace flac_test;
using test_tools::TimeCase;

const TimeCase kClips[] = {
    {"Clip1500To1501ms", 1500000, Cut::Status::Ok, 1501000},
    {"ClipOneMicrosecond", 3000000, Cut::Status::Ok, 3000001},
    {"ClipFromZeroTo5s", 0, Cut::Status::Ok, 5000000},  // ?t=,5
    {"Clip7To12_5s", 7000000, Cut::Status::Ok, 12500000},
    // In every source's last frame (the shortest starts at 19.992 s).
    {"ClipEndInTheLastFrame", 7000000, Cut::Status::Ok, 19995000},
    {"ClipEndAtTheEnd", 7000000, Cut::Status::Ok, 20000000},
    {"ClipEndPastTheEnd", 7000000, Cut::Status::Ok, 25000000},
    {"ClipStartPastTheEnd", 20000000, Cut::Status::PastEnd, 25000000},
};

Micros micros(std::uint64_t samples, unsigned rate)
{
    return static_cast<Micros>(samples * 1000000 / rate);
}

// What a clip of the original must be, from the independent walk: frames [first, last].
struct Expected {
    std::size_t first = 0;
    std::size_t last = 0;
    std::uint64_t start = 0;  // the first frame's first sample
    std::uint64_t end = 0;    // ceil(END * rate), or the total when that is past it
    std::uint64_t held = 0;   // samples in frames [first, last]
    bool to_the_end = false;
};

Expected expected(const std::string& original, unsigned rate, const TimeCase& time)
{
    const Walk w = walk_frames(original);
    const std::uint64_t total = total_samples(metadata(original)[0].body);
    const std::uint64_t at = static_cast<std::uint64_t>(time.t) * rate / 1000000;
    const std::uint64_t e = (static_cast<std::uint64_t>(time.end) * rate + 999999) / 1000000;
    Expected x;
    x.to_the_end = e >= total;
    x.end = x.to_the_end ? total : e;
    std::uint64_t sample = 0;
    for (std::size_t i = 0; i < w.frames.size(); ++i) {
        if (sample <= at) {
            x.first = i;
            x.start = sample;
        }
        if (sample < x.end) {
            x.last = i;
        }
        sample += w.frames[i].block;
    }
    for (std::size_t i = x.first; i <= x.last; ++i) {
        x.held += w.frames[i].block;
    }
    return x;
}

class FlacClip : public test_tools::FormatCut<FlacFormat> {
protected:
    Expected wanted() const { return expected(file().bytes, src_.rate, time_); }

    // What flac -d writes of one sample as raw PCM: the bits of STREAMINFO (§8.2) in bytes.
    unsigned bytes_per_sample() const
    {
        const std::string info = metadata(bytes_)[0].body;
        const auto* s = reinterpret_cast<const unsigned char*>(info.data());
        const unsigned bits = ((s[12] & 1u) << 4 | s[13] >> 4) + 1;
        return (bits + 7) / 8;
    }
};

TEST_P(FlacClip, EndsWithTheFrameHoldingTheLastSampleBeforeEnd)
{
    if (!ok()) {
        return;
    }
    const Expected x = wanted();
    EXPECT_EQ(cut_.start, micros(x.start, src_.rate));
    EXPECT_EQ(cut_.end, x.to_the_end ? Span::kToTheEnd : micros(x.end, src_.rate));
    EXPECT_EQ(cut_.duration, micros(x.end - x.start, src_.rate));
    // RFC 9639 §8.2: the total up to END, whatever the last frame holds past it; no MD5.
    const std::string info = metadata(bytes_)[0].body;
    EXPECT_EQ(total_samples(info), x.end - x.start);
    EXPECT_EQ(info.substr(18), std::string(16, '\0'));
    const Walk w = walk_frames(bytes_);
    ASSERT_TRUE(w.complete) << "every CRC-16 holds and the last frame ends the file";
    ASSERT_EQ(w.frames.size(), x.last - x.first + 1);
    const bool variable = w.frames.front().variable;
    std::uint64_t sample = 0;
    for (std::size_t i = 0; i < w.frames.size(); ++i) {
        ASSERT_EQ(w.frames[i].number, variable ? sample : i) << "frame " << i;
        sample += w.frames[i].block;
    }
    EXPECT_EQ(sample, x.held);
    expect_frames_within_stream_info_sizes(bytes_);
}

TEST_P(FlacClip, AnEndAtOrPastTheEndIsTheCutFromStart)
{
    if (!ok()) {
        return;
    }
    MemorySource in(file().bytes);
    const Cut open = cut_served(in, time_.t);
    ASSERT_EQ(open.status, Cut::Status::Ok);
    EXPECT_EQ(cut_.start, open.start);
    if (wanted().to_the_end) {
        EXPECT_EQ(cut_.rep.extents, open.rep.extents);
        EXPECT_EQ(cut_.rep.etag_suffix, open.rep.etag_suffix);
        EXPECT_EQ(cut_.end, Span::kToTheEnd);
        EXPECT_EQ(cut_.duration, open.duration);
    }
    else {
        // No more than the cut: as long when END is in the last frame (only STREAMINFO differs).
        EXPECT_LE(cut_.rep.length, open.rep.length);
        EXPECT_LE(cut_.rep.extents.size(), open.rep.extents.size());
        EXPECT_NE(cut_.rep.etag_suffix, open.rep.etag_suffix);
    }
}

TEST_P(FlacClip, FfmpegDecodesTheOriginalThroughTheLastFrameAndProbesTheTotal)
{
    if (!ok()) {
        return;
    }
    const Expected x = wanted();
    const Output r = run("ffmpeg -v error -i '" + path_ + "' -f null -");
    EXPECT_EQ(r.status, 0);
    EXPECT_EQ(r.output, "");
    // ffmpeg 5.1 ignores STREAMINFO's total: it decodes every sample of the last frame.
    const auto& original = source(src_).pcm;
    const auto clip = decode(path_);
    ASSERT_EQ(clip.size(), x.held * src_.channels);
    const auto from = original.begin() + static_cast<std::ptrdiff_t>(x.start * src_.channels);
    EXPECT_TRUE(std::equal(clip.begin(), clip.end(), from));
    // ... but ffprobe's duration is the total: END, to the sample.
    EXPECT_NEAR(probe_duration(path_), static_cast<double>(x.end - x.start) / src_.rate, 1.0 / src_.rate + 1e-6);
}

TEST_P(FlacClip, ReferenceDecoderTestsItAndDecodesThroughTheLastFrame)
{
    if (!ok()) {
        return;
    }
    const Output t = run("flac -t -s '" + path_ + "'");
    EXPECT_EQ(t.status, 0) << t.output;
    EXPECT_EQ(t.output.find("ERROR"), std::string::npos) << t.output;
    // flac 1.4.2 -d writes every sample of the last frame too.
    const std::string raw = path_ + ".raw";
    const Output d = run("flac -d -s -f --force-raw-format --endian=little --sign=signed -o '" + raw + "' '" + path_ + "'");
    EXPECT_EQ(d.status, 0) << d.output;
    EXPECT_EQ(slurp(raw).size(), wanted().held * src_.channels * bytes_per_sample());
    std::filesystem::remove(raw);
}

INSTANTIATE_TEST_SUITE_P(Sources, FlacClip, ::testing::ValuesIn(test_tools::all_cuts(kSources, kClips)),
                         test_tools::CutCaseName());

// ---------------------------------------------------------------------------------------------
// What a clip keeps besides frames.

// The SEEKTABLE of a FLAC stream, as (sample, offset) pairs.
std::vector<std::pair<std::uint64_t, std::uint64_t>> seek_points(const std::string& flac)
{
    std::vector<std::pair<std::uint64_t, std::uint64_t>> points;
    for (const auto& b : metadata(flac)) {
        const auto* p = reinterpret_cast<const unsigned char*>(b.body.data());
        for (std::size_t i = 0; b.type == 3 && i + 18 <= b.body.size(); i += 18) {
            std::uint64_t sample = 0;
            std::uint64_t offset = 0;
            for (std::size_t k = 0; k < 8; ++k) {
                sample = sample << 8 | p[i + k];
                offset = offset << 8 | p[i + 8 + k];
            }
            points.emplace_back(sample, offset);
        }
    }
    return points;
}

TEST(FlacClipMetadata, Rfc9639_8_5_SeekPointsBeforeEndKeptAfterItDropped)
{
    ASSERT_TRUE(have_tools());
    const std::string& file = source(kSources[2]).bytes;  // the flac CLI: a point every 10 s
    const auto original = seek_points(file);
    ASSERT_GE(original.size(), 2u);
    const std::uint64_t ten = original[1].first;  // the frame holding 10 s starts there
    ASSERT_LT(ten, 441000u);
    ASSERT_GT(ten + 4096, 441000u);
    for (const Micros end : {Micros{9000000}, Micros{10000000}, Micros{12500000}}) {
        SCOPED_TRACE(end);
        MemorySource in(file);
        const Cut cut = cut_served(in, Span{3000000, end});
        ASSERT_EQ(cut.status, Cut::Status::Ok);
        const std::string out = materialise(file, cut.rep);
        const auto points = seek_points(out);
        const std::uint64_t skipped = (static_cast<std::uint64_t>(cut.start) * 44100 + 999999) / 1000000;
        if (end == 9000000) {
            EXPECT_TRUE(points.empty()) << "the point at 10 s is past END";
            continue;
        }
        // At 10 s END falls in the frame the point targets: the clip's last frame, kept.
        ASSERT_EQ(points.size(), 1u);
        EXPECT_EQ(points[0].first, ten - skipped);
        const Walk w = walk_frames(out);
        ASSERT_FALSE(w.frames.empty());
        EXPECT_EQ(w.frames[(ten - skipped) / 4096].offset, w.audio_start + points[0].second);
        EXPECT_EQ(w.frames.size() - 1 == (ten - skipped) / 4096, end == 10000000);
    }
}

TEST(FlacClipMetadata, BytesAfterTheLastFrameAreNotPartOfAClip)
{
    ASSERT_TRUE(have_tools());
    const std::string tag = "TAG" + std::string(125, 'x');  // ID3v1 after the audio
    const std::string file = source(kSources[0]).bytes + tag;
    for (const Micros end : {Micros{12500000}, Micros{19995000}, Micros{25000000}}) {
        SCOPED_TRACE(end);
        MemorySource in(file);
        const Cut cut = cut_served(in, Span{7000000, end});
        expect_invariants(cut, file.size(), Span{7000000, end});
        ASSERT_EQ(cut.status, Cut::Status::Ok) << cut.detail;
        const std::string out = materialise(file, cut.rep);
        const bool clip = end != 25000000;
        EXPECT_EQ(out.substr(out.size() - tag.size()) == tag, !clip) << "the tag follows only a cut to the end";
        EXPECT_TRUE(walk_frames(clip ? out : out.substr(0, out.size() - tag.size())).complete);
    }
}

TEST(FlacClipMetadata, ASecondClipFromTheSeekIndexReadsOnlyTheMetadata)
{
    ASSERT_TRUE(have_tools());
    const std::string& file = source(kSources[2]).bytes;
    SeekIndexCache cache(1 << 20);
    MemorySource first(file);
    IndexSource indexes(&cache, FileIdentity{7, 8, file.size(), 9});
    ASSERT_EQ(cut_flac(first, 3000000, indexes).status, Cut::Status::Ok);
    CountingSource again(file);
    IndexSource cached(&cache, FileIdentity{7, 8, file.size(), 9});
    const Cut clip = cut_flac(again, Span{7000000, 12500000}, cached);
    ASSERT_EQ(clip.status, Cut::Status::Ok);
    EXPECT_FALSE(cached.built());
    EXPECT_LE(again.bytes_read, Offset{8192});
}

// ---------------------------------------------------------------------------------------------
// locate's arithmetic on hand-made indexes: 1000 Hz, so a sample is a millisecond.

flac::FrameIndex made_index(std::uint64_t first_number, std::vector<std::uint32_t> blocks, bool variable = false)
{
    flac::FrameIndex index;
    index.variable = variable;
    index.fixed_block = blocks.front();
    std::uint64_t number = first_number;
    for (std::size_t i = 0; i < blocks.size(); ++i) {
        flac::IndexedFrame f{};
        f.offset = 1000 + 100 * i;
        f.number = number;
        f.block = blocks[i];
        index.frames.push_back(f);
        number += variable ? blocks[i] : 1;
    }
    index.last_end = 1000 + 100 * blocks.size();
    return index;
}

flac::StreamInfo info_of(std::uint64_t total)
{
    flac::StreamInfo info;
    info.rate = 1000;
    info.total = total;
    return info;
}

struct Located {
    std::size_t first, last;
    std::uint64_t skipped, end, total;
    bool to_the_end;
};

Located located(const flac::StreamInfo& info, const flac::FrameIndex& index, const Span& span)
{
    const flac::Clip c = flac::locate(info, index, span);
    return {c.first, c.last, c.skipped, c.end, c.total, c.to_the_end};
}

bool operator==(const Located& a, const Located& b)
{
    return a.first == b.first && a.last == b.last && a.skipped == b.skipped && a.end == b.end &&
           a.total == b.total && a.to_the_end == b.to_the_end;
}

std::ostream& operator<<(std::ostream& os, const Located& l)
{
    return os << "[" << l.first << ", " << l.last << "] skipped " << l.skipped << " end " << l.end << " total "
              << l.total << (l.to_the_end ? " to the end" : "");
}

TEST(FlacLocate, TheLastFrameHoldsTheSampleBeforeEnd)
{
    const flac::FrameIndex index = made_index(0, {100, 100, 100, 50});  // 350 samples
    const flac::StreamInfo info = info_of(350);
    EXPECT_EQ(located(info, index, 0), (Located{0, 3, 0, 0, 350, true}));
    EXPECT_EQ(located(info, index, Span{0, 100000}), (Located{0, 0, 0, 100, 100, false}));  // sample 99
    EXPECT_EQ(located(info, index, Span{0, 100001}), (Located{0, 1, 0, 101, 101, false}));  // ceil: 101
    EXPECT_EQ(located(info, index, Span{150000, 150001}), (Located{1, 1, 100, 151, 51, false}));
    EXPECT_EQ(located(info, index, Span{150999, 151000}), (Located{1, 1, 100, 151, 51, false}));
    EXPECT_EQ(located(info, index, Span{120000, 320000}), (Located{1, 3, 100, 320, 220, false}));
    EXPECT_EQ(located(info, index, Span{120000, 349999}), (Located{1, 3, 100, 0, 250, true}));  // the end: open
    EXPECT_EQ(located(info, index, Span{120000, 349000}), (Located{1, 3, 100, 349, 249, false}));
    EXPECT_EQ(located(info, index, Span{120000, Micros{1} << 62}), (Located{1, 3, 100, 0, 250, true}));
}

TEST(FlacLocate, TheEndOfTheAudioIsTheTotalOrWhatTheFramesHold)
{
    const flac::FrameIndex index = made_index(0, {100, 100, 100});
    // Unknown total: the frames'. A total past them (truncated file): the frames'.
    for (const std::uint64_t total : {0u, 1000u}) {
        SCOPED_TRACE(total);
        EXPECT_EQ(flac::audio_samples(info_of(total), index), 300u);
        EXPECT_TRUE(located(info_of(total), index, Span{0, 300000}).to_the_end);
        EXPECT_EQ(located(info_of(total), index, Span{0, 299000}), (Located{0, 2, 0, 299, 299, false}));
    }
    // A total short of the frames (a clip, cut again): the total.
    EXPECT_EQ(flac::audio_samples(info_of(250), index), 250u);
    EXPECT_EQ(located(info_of(250), index, Span{10000, 260000}), (Located{0, 2, 0, 0, 250, true}));
    EXPECT_EQ(located(info_of(250), index, Span{10000, 240000}), (Located{0, 2, 0, 240, 240, false}));
    EXPECT_THROW(flac::locate(info_of(250), index, Span{250000, 260000}), Refusal);
    EXPECT_THROW(flac::locate(info_of(0), index, Span{300000, 400000}), Refusal);
}

TEST(FlacLocate, SamplesCountFromTheStreamsFirstFrame)
{
    // A stream whose first frame is number 5 (itself cut by another tool), and one numbered by
    // sample from 1000.
    for (const bool variable : {false, true}) {
        SCOPED_TRACE(variable);
        const flac::FrameIndex index = made_index(variable ? 1000 : 5, {100, 100, 100}, variable);
        EXPECT_EQ(located(info_of(300), index, Span{150000, 250000}), (Located{1, 2, 100, 250, 150, false}));
        EXPECT_EQ(located(info_of(300), index, Span{0, 1000}), (Located{0, 0, 0, 1, 1, false}));
    }
}

}  // namespace
}  // namespace audio_stream
