// The MP3 seek index (index.h): a stream that is not CBR is walked once; through the index a
// cut or clip at a new span reads only the file's first and last frames and the reservoir, the
// same cut as one made alone; the payload round-trips and damage is refused; 8 bytes a frame.
#include <gtest/gtest.h>

#include <string>

#include "src/formats/formats.h"
#include "src/formats/mp3/index.h"
#include "src/cache/seek_index.h"
#include "tests/unit/mp3_tools.h"

namespace audio_stream {
namespace {

using namespace mp3_test;

using test_tools::CountingSource;

const Fixture& fixture(const std::string& name)
{
    for (const Source& s : kSources) {
        if (name == s.name) {
            return Mp3Files::file(s);
        }
    }
    ADD_FAILURE() << "no source " << name;
    static const Fixture none;
    return none;
}

FileIdentity identity_of(const std::string& file)
{
    return FileIdentity{3, 4, file.size(), 5};
}

// Windows of mp3::kWindow bytes: the ID3v2 tag and first frames, the last bytes (ID3v1, APE),
// and the reservoir before the cut's first frame.
constexpr Offset kIndexedReads = 4 * mp3::kWindow;

TEST(Mp3SeekIndex, ACutAtANewTIsMadeFromTheIndexAndIsTheSameCut)
{
    // Five minutes, so that a whole walk reads far more than the indexed cut's windows.
    test_tools::TempDir dir("mp3_index");
    for (const char* options : {"-c:a libmp3lame -q:a 4", "-c:a libmp3lame -b:a 128k -write_xing 0",
                                "-c:a libmp3lame -q:a 6 -ac 1 -ar 22050"}) {
        SCOPED_TRACE(options);
        const std::string path = dir.path() + "/long.mp3";
        const Command made = run(std::string("ffmpeg -nostdin -v error -y -f lavfi -i "
                                             "'anoisesrc=c=pink:r=44100:a=0.3:d=300' ") +
                                 options + " '" + path + "'");
        ASSERT_EQ(made.status, 0) << made.output;
        const std::string file = slurp(path);
        ASSERT_GT(file.size(), 4 * kIndexedReads);
        SeekIndexCache cache(1 << 20);
        CountingSource first(file);
        IndexSource indexes(&cache, identity_of(file));
        ASSERT_EQ(cut_mp3(first, 2000000, indexes).status, Cut::Status::Ok);
        EXPECT_TRUE(indexes.built());
        EXPECT_GE(first.bytes_read, file.size());
        // Clips too: the index finds both ends, and a clip reads no more than a cut.
        const Span spans[] = {Span{0},          Span{30000},           Span{95500000},
                              Span{299000000},  Span{0, 5000000},      Span{95500000, 200000000},
                              Span{30000, 31000}, Span{298000000, 299999000}};
        for (const Span& span : spans) {
            CountingSource again(file);
            IndexSource cached(&cache, identity_of(file));
            const Cut b = cut_mp3(again, span, cached);
            ASSERT_EQ(b.status, Cut::Status::Ok) << b.detail;
            EXPECT_FALSE(cached.built());
            EXPECT_LE(again.bytes_read, kIndexedReads) << "span " << span.start << "-" << span.end;
            MemorySource fresh(file);
            const Cut c = cut_mp3(fresh, span);
            EXPECT_EQ(b.rep.extents, c.rep.extents) << "span " << span.start << "-" << span.end;
            EXPECT_EQ(b.start, c.start);
            EXPECT_EQ(b.end, c.end);
            EXPECT_EQ(b.duration, c.duration);
        }
    }
}

// A CBR stream's frames are found by arithmetic at both ends of a clip: no index. A clip whose
// END's frame lies in the window START's run reads reads no more than the cut from its START;
// one whose END is further (7 s -> 12.5 s: 88 kB at 128 kbit/s, more than a window) reads one
// window more, near END: the frames there are in no window read for the cut.
TEST(Mp3SeekIndex, ACbrStreamNeedsNoIndex)
{
    const Fixture& f = fixture("CbrStereo44k");
    ASSERT_TRUE(f.errors.empty()) << f.errors;
    SeekIndexCache cache(1 << 20);
    const auto bytes_read = [&](const Span& span) {
        CountingSource src(f.bytes);
        IndexSource indexes(&cache, identity_of(f.bytes));
        EXPECT_EQ(cut_mp3(src, span, indexes).status, Cut::Status::Ok);
        return src.bytes_read;
    };
    const Offset cut = bytes_read(Span{7000000});
    EXPECT_LE(cut, kIndexedReads);
    EXPECT_LE(bytes_read(Span{7000000, 12500000}), cut + mp3::kWindow);
    EXPECT_LE(bytes_read(Span{7000000, 8500000}), cut) << "24 kB after START: in its window";
    EXPECT_LE(bytes_read(Span{0, 1000}), bytes_read(Span{0}));
    EXPECT_EQ(cache.entries(), 0u);
}

// A CBR file whose last frame is cut short (a download stopped early): its Info frame counts
// that frame, but no resync verifies the frames just before it (four whole frames or the end of
// the audio), and the index leaves it out (one frame less than the Info frame says). A clip
// whose END's frame is one of those is the cut from START, byte for byte and under the same
// name (two bodies named -t<start> would let If-Range splice them), without a walk of the file.
TEST(Mp3SeekIndex, ACbrClipEndingInAShortLastFrameIsTheCutFromStart)
{
    const Fixture& f = fixture("CbrMono22k");
    ASSERT_TRUE(f.errors.empty()) << f.errors;
    const std::string file = f.bytes.substr(0, f.bytes.size() - 50);  // 104-byte frames
    CountingSource open_src(file);
    const Cut open = served_cut("audio/mpeg", open_src, Span{7000000});
    ASSERT_EQ(open.status, Cut::Status::Ok) << open.detail;
    // 768 frames of 576 samples, delay 576, padding 792: 441000 samples. Frame 765 (the first of
    // the last three, which no resync verifies) yields player samples from 765 * 576 - 576 - 529
    // = 439535 (19.9336 s) on: END's last sample is in frames 765, 766 and 767 at these ENDs.
    for (const Micros end : {Micros{19940000}, Micros{19970000}, Micros{19999000}}) {
        SCOPED_TRACE(end);
        CountingSource src(file);
        const Cut clip = served_cut("audio/mpeg", src, Span{7000000, end});
        ASSERT_EQ(clip.status, Cut::Status::Ok) << clip.detail;
        EXPECT_EQ(clip.rep.extents, open.rep.extents);
        EXPECT_EQ(clip.rep.etag_suffix, open.rep.etag_suffix);
        EXPECT_EQ(clip.end, Span::kToTheEnd);
        EXPECT_EQ(clip.start, open.start);
        EXPECT_EQ(clip.duration, open.duration);
        EXPECT_LE(src.bytes_read, open_src.bytes_read + mp3::kWindow);
    }
    // Frame 764 is followed by four whole frames: found, and a clip ends there.
    const Cut before = served_cut("audio/mpeg", file, Span{7000000, 19930000});
    ASSERT_EQ(before.status, Cut::Status::Ok) << before.detail;
    EXPECT_EQ(before.end, samples_to_micros(samples_before(19930000, 22050), 22050));
}

TEST(Mp3SeekIndex, APayloadRoundTripsAndDamageIsRefused)
{
    const Fixture& f = fixture("VbrStereo44k");
    ASSERT_TRUE(f.errors.empty()) << f.errors;
    SeekIndexCache cache(1 << 20, std::nullopt);
    MemorySource src(f.bytes);
    std::shared_ptr<const mp3::FrameIndex> index;
    bool built = false;
    IndexSource indexes(&cache, identity_of(f.bytes));
    ASSERT_EQ(cut_mp3(src, 1000000, indexes).status, Cut::Status::Ok);
    const auto any = cache.get(identity_of(f.bytes), IndexKind::Mp3, [] { return nullptr; },
                               [](std::string_view) { return nullptr; }, built);
    index = std::static_pointer_cast<const mp3::FrameIndex>(any);
    ASSERT_NE(index, nullptr);
    EXPECT_FALSE(built);
    // 20 s at 44.1 kHz: 766 frames, 8 bytes each.
    EXPECT_EQ(index->frames.size(), (20u * 44100 + 1151) / 1152 + 1);
    EXPECT_EQ(sizeof(mp3::FrameIndex::Entry), 8u);
    EXPECT_LE(index->footprint(), sizeof(mp3::FrameIndex) + index->frames.size() * 8);
    const std::string payload = index->payload();
    const auto back = mp3::FrameIndex::parse(payload, f.bytes.size());
    ASSERT_NE(back, nullptr);
    EXPECT_EQ(back->payload(), payload);
    EXPECT_EQ(mp3::FrameIndex::parse(payload.substr(0, payload.size() - 1), f.bytes.size()), nullptr);
    EXPECT_EQ(mp3::FrameIndex::parse(payload, f.bytes.size() / 2), nullptr);
    mp3::FrameIndex swapped = *index;
    std::swap(swapped.frames[10], swapped.frames[11]);
    EXPECT_EQ(mp3::FrameIndex::parse(swapped.payload(), f.bytes.size()), nullptr);
    mp3::FrameIndex bad_rate = *index;
    bad_rate.frames[3].packed |= 0xF000;  // bitrate index 15: reserved
    EXPECT_EQ(mp3::FrameIndex::parse(bad_rate.payload(), f.bytes.size()), nullptr);
}

}  // namespace
}  // namespace audio_stream
