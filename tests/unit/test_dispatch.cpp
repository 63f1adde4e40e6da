// cut_for_type: which cutter serves a media type, and the ETag suffix it gives every Ok cut.
#include "src/formats/dispatch.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "src/byte_source.h"

namespace audio_stream {
namespace {

// A PCM WAVE of `frames` 16-bit mono frames at 1000 Hz: one frame a millisecond.
std::string tiny_wav(std::uint32_t frames)
{
    auto le = [](std::uint32_t v, int n) {
        std::string s;
        for (int i = 0; i < n; ++i) {
            s.push_back(static_cast<char>(v >> (8 * i)));
        }
        return s;
    };
    const std::string fmt = le(1, 2) + le(1, 2) + le(1000, 4) + le(2000, 4) + le(2, 2) + le(16, 2);
    const std::string data(2 * frames, '\x11');
    return "RIFF" + le(4 + 8 + 16 + 8 + 2 * frames, 4) + "WAVE" + "fmt " + le(16, 4) + fmt + "data" +
           le(2 * frames, 4) + data;
}

TEST(Dispatch, RegisteredAndLegacyNamesAreKnown)
{
    for (const char* type : {"audio/mpeg", "audio/mp3", "audio/x-mpeg", "audio/flac", "audio/x-flac", "audio/ogg",
                             "audio/opus", "application/ogg", "audio/vorbis", "audio/wav", "audio/x-wav",
                             "audio/wave", "audio/vnd.wave", "audio/x-pn-wav", "audio/mp4",
                             "audio/x-m4a", "audio/x-m4b", "video/mp4"}) {
        EXPECT_TRUE(can_cut_type(type)) << type;
    }
}

// RFC 9110 §8.3.1: type and subtype are case-insensitive; parameters do not choose the cutter.
TEST(Dispatch, Rfc9110_8_3_1_CaseAndParametersDoNotMatter)
{
    EXPECT_TRUE(can_cut_type("Audio/FLAC"));
    EXPECT_TRUE(can_cut_type("audio/ogg; codecs=opus"));
    EXPECT_TRUE(can_cut_type("audio/mpeg \t;charset=x"));
}

TEST(Dispatch, OtherTypesAreNotCut)
{
    for (const char* type : {"", "audio/aac", "audio/flac2", "audio/fla", "text/plain", "audio"}) {
        EXPECT_FALSE(can_cut_type(type)) << type;
        MemorySource src("");
        EXPECT_FALSE(cut_for_type(type, src, 0).has_value()) << type;
    }
}

TEST(Dispatch, AnOkCutIsNamedByItsStart)
{
    const std::string file = tiny_wav(5000);
    MemorySource src(file);
    const auto cut = cut_for_type("audio/wav", src, 3000000);
    ASSERT_TRUE(cut.has_value());
    ASSERT_EQ(cut->status, Cut::Status::Ok) << cut->detail;
    EXPECT_EQ(cut->start, 3000000);
    EXPECT_EQ(cut->rep.etag_suffix, "-c3-t3000000");
    EXPECT_EQ(cut->rep.etag_suffix, cut_etag_suffix(*cut));
}

// Two times inside one frame start at that frame: one cut, one validator.
TEST(Dispatch, TimesThatStartAtTheSameFrameShareTheSuffix)
{
    const std::string file = tiny_wav(5000);
    MemorySource a(file);
    MemorySource b(file);
    EXPECT_EQ(cut_for_type("audio/wav", a, 1500000)->rep.etag_suffix, "-c3-t1500000");
    EXPECT_EQ(cut_for_type("audio/wav", b, 1500999)->rep.etag_suffix, "-c3-t1500000");
}

TEST(Dispatch, CutsThatAreNotOkAreNotNamed)
{
    const std::string file = tiny_wav(5000);
    MemorySource src(file);
    const auto past = cut_for_type("audio/wav", src, 5000000);
    ASSERT_TRUE(past.has_value());
    EXPECT_EQ(past->status, Cut::Status::PastEnd);
    EXPECT_EQ(past->rep.etag_suffix, "");
    MemorySource junk("not a wave file at all");
    const auto bad = cut_for_type("audio/wav", junk, 0);
    ASSERT_TRUE(bad.has_value());
    EXPECT_EQ(bad->status, Cut::Status::Malformed);
    EXPECT_EQ(bad->rep.etag_suffix, "");
}

// A clip through the dispatch: named by its start and its real end; an END past the end of the
// audio is the cut from START, under the cut's name.
TEST(Dispatch, AClipIsNamedByItsStartAndEndAndAnEndPastTheEndIsTheCut)
{
    const std::string file = tiny_wav(5000);
    MemorySource src(file);
    const auto clip = cut_for_type("audio/wav", src, Span{1500000, 2500000});
    ASSERT_EQ(clip->status, Cut::Status::Ok) << clip->detail;
    EXPECT_EQ(clip->rep.etag_suffix, "-c3-t1500000-2500000");
    const auto past = cut_for_type("audio/wav", src, Span{1500000, 9000000});
    const auto open = cut_for_type("audio/wav", src, Span{1500000});
    EXPECT_EQ(past->rep.etag_suffix, "-c3-t1500000");
    EXPECT_EQ(past->rep.extents, open->rep.extents);
}

TEST(Dispatch, EveryNameOfAFormatIsOneFormat)
{
    EXPECT_EQ(format_of_type("audio/mpeg"), format_of_type("audio/x-mpeg; charset=x"));
    EXPECT_EQ(format_of_type("audio/ogg"), format_of_type("audio/opus"));
    EXPECT_NE(format_of_type("audio/mpeg"), format_of_type("audio/ogg"));
    EXPECT_NE(format_of_type("audio/mp4"), 0u);
    EXPECT_EQ(format_of_type("text/plain"), 0u);
}

TEST(Dispatch, SuffixIsDashTAndTheMicroseconds)
{
    Cut cut;
    cut.start = 0;
    EXPECT_EQ(cut_etag_suffix(cut), "-c3-t0");
    cut.start = 1499954;
    EXPECT_EQ(cut_etag_suffix(cut), "-c3-t1499954");
}

// A clip is named by where it really starts and ends: distinct from the cut from its start and
// from every other clip.
TEST(Dispatch, AClipSuffixNamesItsStartAndEnd)
{
    Cut cut;
    cut.start = 1499954;
    cut.end = 3000000;
    EXPECT_EQ(cut_etag_suffix(cut), "-c3-t1499954-3000000");
    cut.end = 3000001;
    EXPECT_EQ(cut_etag_suffix(cut), "-c3-t1499954-3000001");
}

}  // namespace
}  // namespace audio_stream
