// cut_ogg with an END (?t=START,END): a clip is the cut from START whose last page is the one on
// which END's packet ends, cut after that packet, with END's granule position and end-of-stream
// (decoders trim the last packet to it: Vorbis I §A.2, RFC 7845 §4.4). Every generated source at
// every pair, judged by ffmpeg (sample counts, the audio at both ends), the reference decoders
// (oggdec: libvorbisfile, opusdec: libopusfile), ogginfo/opusinfo, ffprobe and the page walker
// of ogg_tools.h. END at or past the end is the cut from START.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "src/formats/toolbox.h"
#include "tests/unit/ogg_tools.h"
#include "tests/unit/printers.h"

namespace audio_stream {
namespace {

using namespace ogg_test;
using test_tools::TimeCase;

const TimeCase kClips[] = {
    {"ClipFromZeroTo5s", 0, Cut::Status::Ok, 5000000},  // ?t=,5
    {"Clip7To12_5s", 7000000, Cut::Status::Ok, 12500000},
    {"Clip1500To1501ms", 1500000, Cut::Status::Ok, 1501000},  // END = START + 1 ms
    {"ClipFromZeroTo1ms", 0, Cut::Status::Ok, 1000},
    {"ClipOneMicrosecond", 3000000, Cut::Status::Ok, 3000001},
    {"ClipEndInTheLastPage", 7000000, Cut::Status::Ok, 19950000},
    {"ClipEndInTheLastPacket", 7000000, Cut::Status::Ok, 19999000},
    {"ClipWithinTheLastPage", 19990000, Cut::Status::Ok, 19995000},
    {"ClipEndAtTheEnd", 7000000, Cut::Status::Ok, 20000000},
    {"ClipEndPastTheEnd", 7000000, Cut::Status::Ok, 25000000},
    {"ClipStartPastTheEnd", 20000000, Cut::Status::PastEnd, 25000000},
};

class OggClip : public test_tools::FormatCut<OggFormat> {
protected:
    std::uint64_t total() const { return file().pcm.size(); }  // the source's samples (mono)
    std::uint64_t end_sample() const { return samples_before(time_.end, src_.rate); }
    bool to_the_end() const { return end_sample() >= total(); }
    // The clip's first sample: cut.start is that sample's time, floored to the microsecond.
    std::uint64_t first_sample() const { return samples_before(cut_.start, src_.rate); }
    std::int64_t expected_samples() const { return static_cast<std::int64_t>(end_sample() - first_sample()); }

    // Shorter than a packet after START: a Vorbis clip then starts where its primed packet's
    // output does, an Opus one where the packet holding START and END does (ffmpeg would cancel
    // what remains of the pre-skip on the packet that carries the end trim). The Vorbis clip's
    // first page then holds just the primed packet, and its granule position 1 rather than 0
    // (ogginfo rejects 0): decoders start at the sample after the one its base names.
    bool short_clip() const { return time_.end - time_.t < 25000; }
    double sample_slack() const { return short_clip() && src_.codec == Codec::Vorbis ? 1.0 : 0.0; }

    Cut open_cut() const
    {
        MemorySource in(file().bytes);
        return cut_served(in, time_.t);
    }

    std::vector<std::int16_t> played() const { return src_.codec == Codec::Opus ? decode(path_) : decode_played(path_); }

    // Samples of the file at `path` as libvorbisfile or libopusfile decode them (what oggdec and
    // opusdec write).
    std::int64_t reference_samples(const std::string& path) const
    {
        const std::string wav = path + ".wav";
        const std::string tool = src_.codec == Codec::Opus ? "opusdec --quiet --rate 48000 '" : "oggdec -Q -o '";
        const Output r = run(tool + (src_.codec == Codec::Opus ? path + "' '" + wav : wav + "' '" + path) + "'");
        EXPECT_EQ(r.status, 0) << r.output;
        const std::string probe = run("ffprobe -v error -show_entries stream=duration_ts -of csv=p=0 '" + wav + "'").output;
        std::remove(wav.c_str());
        return std::atoll(probe.c_str());
    }
};

TEST_P(OggClip, EndsAtEndsSampleAndStartsAsTheCutFromStart)
{
    if (!ok()) {
        return;
    }
    const Cut open = open_cut();
    if (to_the_end()) {
        EXPECT_EQ(cut_.end, Span::kToTheEnd);
        EXPECT_EQ(cut_.rep.extents, open.rep.extents) << "an END at or past the end is the cut from START";
        EXPECT_EQ(cut_.rep.etag_suffix, open.rep.etag_suffix);
        EXPECT_EQ(cut_.duration, open.duration);
        return;
    }
    EXPECT_EQ(cut_.end, samples_to_micros(end_sample(), src_.rate));
    // (A Vorbis clip from 0 shorter than a packet has its base one sample before 0.)
    EXPECT_NEAR(static_cast<double>(cut_.duration),
                static_cast<double>(samples_to_micros(end_sample() - first_sample(), src_.rate)),
                sample_slack() * 1e6 / src_.rate + 1);
    if (short_clip()) {
        EXPECT_LE(cut_.start, open.start);
        EXPECT_LE(open.start - cut_.start, samples_to_micros(1024, src_.rate)) << "at most a packet earlier";
        return;
    }
    EXPECT_EQ(cut_.start, open.start);
    // The same first audio page: the clip's differs from the cut's only in its last page.
    std::string error;
    const auto pages = parse_pages(bytes_, error);
    const auto cut_pages = parse_pages(materialise(file().bytes, open.rep), error);
    ASSERT_EQ(error, "");
    ASSERT_GT(pages.size(), 3u);
    EXPECT_EQ(pages[0].body, cut_pages[0].body) << "the same OpusHead pre-skip";
    EXPECT_EQ(pages[2].body, cut_pages[2].body);
    EXPECT_EQ(pages[2].granule, cut_pages[2].granule);
}

TEST_P(OggClip, FfmpegPlaysFromStartToEnd)
{
    if (!ok() || to_the_end()) {
        return;
    }
    const Output r = run("ffmpeg -v error -i '" + path_ + "' -f null -");
    EXPECT_EQ(r.status, 0);
    EXPECT_EQ(r.output, "");
    const auto played = this->played();
    EXPECT_NEAR(static_cast<double>(played.size()), static_cast<double>(expected_samples()), sample_slack())
        << "the output ends at END's sample";
    if (short_clip()) {
        return;
    }
    // The audio is the original's at both ends: its first samples from the clip's start, its
    // last ones up to END's sample.
    const auto& original = file().pcm;
    const std::size_t window = std::min<std::size_t>(4096, played.size());
    double correlation = 0;
    EXPECT_EQ(best_lag(original, first_sample(), played, 0, window, 64, correlation), 0);
    EXPECT_GT(correlation, 0.99);
    EXPECT_EQ(best_lag(original, end_sample() - window, played, played.size() - window, window, 64, correlation), 0);
    EXPECT_GT(correlation, 0.99);
}

// libvorbisfile trims at most a block at the start of a stream: a cut whose first page with a
// granule position holds many packets (a straddling source's, cut at the packet its page before
// leaves open) plays some before START, clip or not. The end is the clip's own: it adds nothing.
// (A short straddling clip's first page is a part of the cut's, which libvorbisfile trims
// differently: nothing to compare.)
TEST_P(OggClip, ReferenceDecodersEndAtEndToo)
{
    if (!ok() || to_the_end() || (src_.straddle && src_.codec == Codec::Vorbis && short_clip())) {
        return;
    }
    const Cut open = open_cut();
    const std::string open_path = path_ + ".open.ogg";
    spit(open_path, materialise(file().bytes, open.rep));
    const auto open_expected = static_cast<std::int64_t>(total() - samples_before(open.start, src_.rate));
    const std::int64_t start_error = reference_samples(open_path) - open_expected;
    std::remove(open_path.c_str());
    if (!src_.straddle) {
        EXPECT_EQ(start_error, 0);
    }
    EXPECT_NEAR(static_cast<double>(reference_samples(path_) - expected_samples()), static_cast<double>(start_error),
                sample_slack());
}

TEST_P(OggClip, InfoToolIsCleanAndDurationsAgree)
{
    if (!ok()) {
        return;
    }
    const std::string info = expect_info_clean(src_.codec, path_);
    const double duration = static_cast<double>(cut_.duration) / 1e6;
    if (src_.codec == Codec::Vorbis) {
        EXPECT_NEAR(probe_duration(path_), duration, 2e-6);  // printed to the microsecond
        return;
    }
    // ffprobe counts an Opus stream from granule 0, the pre-skip included; opusinfo does not
    // (and prints whole milliseconds).
    EXPECT_NEAR(probe_duration(path_), duration + static_cast<double>(pre_skip(bytes_)) / 48000, 2e-6);
    EXPECT_NEAR(playback_seconds(info), duration, 1e-3);
}

// RFC 3533 §6: a stream of its own, its last page's granule position END's (rebased).
TEST_P(OggClip, Rfc3533_LastPageCarriesEndsGranule)
{
    if (!ok() || to_the_end()) {
        return;
    }
    std::string error;
    const auto pages = parse_pages(bytes_, error);
    ASSERT_EQ(error, "");
    ASSERT_GE(pages.size(), 3u);
    const std::size_t first_granule_page = expect_one_stream(pages);
    const std::int64_t skip = src_.codec == Codec::Opus ? pre_skip(bytes_) : 0;
    EXPECT_NEAR(static_cast<double>(pages.back().granule - skip), static_cast<double>(expected_samples()),
                sample_slack());
    if (src_.codec == Codec::Vorbis) {
        // ffmpeg times a Vorbis stream's start from its first page with a granule position and
        // its end from the last page's: one page cannot do both (Vorbis I §A.2).
        EXPECT_LT(first_granule_page + 1, pages.size());
    }
}

// END in the last packet: the clip ends with the original's last packet, trimmed earlier.
TEST_P(OggClip, EndInTheLastPacketKeepsTheLastPacket)
{
    if (!ok() || std::string(time_.name) != "ClipEndInTheLastPacket") {
        return;
    }
    std::string error;
    const auto pages = parse_pages(bytes_, error);
    const auto originals = parse_pages(file().bytes, error);
    ASSERT_EQ(error, "");
    const auto tail = [](const TestPage& p) {
        std::size_t start = p.lacing.size() - 1;
        while (start > 0 && p.lacing[start - 1] == 255) {
            --start;
        }
        std::size_t skip = 0;
        for (std::size_t i = 0; i < start; ++i) {
            skip += p.lacing[i];
        }
        return p.body.substr(skip);
    };
    EXPECT_EQ(tail(pages.back()), tail(originals.back()));
    EXPECT_LT(pages.back().granule, originals.back().granule);
}

INSTANTIATE_TEST_SUITE_P(Sources, OggClip, ::testing::ValuesIn(test_tools::all_cuts(kSources, kClips)),
                         test_tools::CutCaseName());

// Budget: a clip reads what the cut from its START reads, but for the pages after END (not
// walked) and END's page, which it rewrites, so reads whole: END's page needs no search of its
// own, the walk that writes the clip reaches it. END at or past the end: exactly the cut's reads.
TEST(OggClipShape, ReadsWhatTheCutFromStartReadsAndEndsPage)
{
    ASSERT_TRUE(have_tools());
    constexpr Offset kMaxPage = 27 + 255 + 255 * 255;
    for (const Source& s : kSources) {
        for (const TimeCase& c : kClips) {
            test_tools::CountingSource clip_in(source(s).bytes);
            test_tools::CountingSource cut_in(source(s).bytes);
            const Cut clip = test_tools::served_cut("audio/ogg", clip_in, c.span());
            const Cut cut = test_tools::served_cut("audio/ogg", cut_in, c.t);
            ASSERT_EQ(clip.status, cut.status) << s.name << " " << c.name;
            if (clip.end == Span::kToTheEnd) {
                EXPECT_EQ(clip_in.bytes_read, cut_in.bytes_read) << s.name << " " << c.name;
            }
            EXPECT_LE(clip_in.bytes_read, cut_in.bytes_read + kMaxPage) << s.name << " " << c.name;
        }
    }
}

// The source's pages through page k, then one page of the same stream that carries no granule
// position (RFC 3533 §6: no packet ends on it): an empty end-of-stream page (`truncated`
// false, k the last page, whose own end-of-stream flag goes), or the start of a packet the file
// ends in (`truncated`).
std::string with_untimed_tail(const std::string& file, std::size_t k, bool truncated)
{
    std::string error;
    auto pages = parse_pages(file, error);
    EXPECT_EQ(error, "");
    TestPage tail;
    tail.granule = -1;
    tail.serial = pages[0].serial;
    tail.sequence = static_cast<std::uint32_t>(k + 1);
    tail.type = 4;
    if (truncated) {
        tail.type = pages.at(k + 1).type & 1;
        tail.lacing = {255};
        tail.body = (pages[k + 1].body + std::string(255, '\0')).substr(0, 255);
    }
    pages.resize(k + 1);
    pages[k].type &= ~4u;
    pages.push_back(tail);
    return serialise(pages);
}

// Contract rule 4: END at the last granule position is the cut from START, also when pages that
// carry none follow it. END one sample before it is a clip.
TEST(OggClipShape, EndAtTheLastGranuleBeforeUntimedPagesIsTheCutFromStart)
{
    ASSERT_TRUE(have_tools());
    for (const Source& s : kSources) {
        std::string error;
        const std::size_t count = parse_pages(source(s).bytes, error).size();
        for (const bool truncated : {false, true}) {
            const std::size_t k = truncated ? count / 2 : count - 1;
            const std::string file = with_untimed_tail(source(s).bytes, k, truncated);
            const std::int64_t skip = s.codec == Codec::Opus ? pre_skip(file) : 0;
            const auto last = static_cast<std::uint64_t>(parse_pages(file, error)[k].granule - skip);
            const Micros start = truncated ? 3000000 : 7000000;
            const Cut open = test_tools::served_cut("audio/ogg", file, start);
            const Cut clip = test_tools::served_cut("audio/ogg", file, Span{start, samples_to_micros(last, s.rate)});
            ASSERT_EQ(open.status, Cut::Status::Ok) << s.name << " " << open.detail;
            EXPECT_EQ(clip.end, Span::kToTheEnd) << s.name << " " << truncated;
            EXPECT_TRUE(clip.rep.extents == open.rep.extents) << s.name << " " << truncated;
            EXPECT_EQ(clip.rep.etag_suffix, open.rep.etag_suffix) << s.name << " " << truncated;
            EXPECT_EQ(clip.duration, open.duration) << s.name << " " << truncated;
            const Cut shorter = test_tools::served_cut("audio/ogg", file, Span{start, samples_to_micros(last - 1, s.rate)});
            EXPECT_EQ(shorter.end, samples_to_micros(last - 1, s.rate)) << s.name << " " << truncated;
        }
    }
}

// Found by the fuzzer: a damaged Opus file whose last page carries a granule position far past the
// audio but ends no packet (RFC 3533 §6: such a page says -1). END before that granule but after
// the audio's end is past the end: the cut from START, by bytes and by name, not a clip that ends
// before END.
TEST(OggClipShape, AnEndPageThatEndsNoPacketMakesTheCutFromStart)
{
    const std::string hex =
        "4f67675300020000000000000000000000000000000011dac164011e01766f726269730000000001401f000000000000"
        "b03600000000000099014f67675300000000000000000000000000000100003bffffffb5004f67675300020000000000"
        "000000000000000000000011dac164011e01766f726269730000000001401f000000000000b0363c000080000000004f"
        "67675300020000000000000000000000000000000064b9c46a01134f70757348656164010136a84fb7b2ff7f00004f67"
        "67530000008000000000000000000000010000004995be54012e4f707573546167730600000066666d70656701000000"
        "14000000656e636f6465723d4c617663206c69626f7075734f6767530024384c00f40001100000000000006401013801"
        "bd1f00000000004f00000000000000000000000000000000000000084ab7b2ff7f000000000000000000000000000000"
        "00000000";
    std::string file;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
        file.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
    }
    const Cut open = test_tools::served_cut("audio/ogg", file, 300000);
    const Cut clip = test_tools::served_cut("audio/ogg", file, Span{300000, 20300000});
    ASSERT_EQ(open.status, Cut::Status::Ok) << open.detail;
    EXPECT_EQ(clip.end, Span::kToTheEnd);
    EXPECT_TRUE(clip.rep.extents == open.rep.extents);
    EXPECT_EQ(clip.rep.etag_suffix, open.rep.etag_suffix);
}

}  // namespace
}  // namespace audio_stream
