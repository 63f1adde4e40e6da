// The ID3v2 tags of an MP3 cut or clip (id3.h, id3_write.h, through cut_mp3): a tag whose
// frames describe the original's timeline is rewritten, not dropped. Chapters (ID3v2 Chapter
// Frame Addendum: CHAP, CTOC) overlapping the cut are kept with their times rebased to it and
// their byte offsets unused, the others dropped, tables of contents list what remains; TLEN says
// the cut's length; SYLT, ETCO, SYTC, POSS, MLLT, ASPI, SEEK and iTunes gapless comments go;
// every other frame (titles, cover art, the chapters' own titles and images) is the original's
// bytes, referenced from the file. Checked on hand-made tags before a real stream.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "src/formats/mp3/id3.h"
#include "tests/unit/mp3_tools.h"
#include "tests/unit/printers.h"

namespace audio_stream {
namespace {

using namespace test_tools;
using namespace mp3_test;

// A frame in ID3v2.`major` (3 or 4), with its format flags.
std::string frame(const std::string& id, const std::string& body, unsigned major, unsigned char format = 0)
{
    const auto size = static_cast<std::uint32_t>(body.size());
    return id + (major == 4 ? syncsafe(size) : be32s(size)) + '\0' + static_cast<char>(format) + body;
}

// A tag of these frames and `padding` zero bytes.
std::string tag(const std::string& frames, unsigned major, std::size_t padding = 16)
{
    const std::string body = frames + std::string(padding, '\0');
    return std::string("ID3") + static_cast<char>(major) + '\0' + '\0' + syncsafe(static_cast<std::uint32_t>(body.size())) +
           body;
}

std::string text(const std::string& s) { return '\0' + s; }

std::string chap(const std::string& id, std::uint32_t start, std::uint32_t end, std::uint32_t start_byte,
                 std::uint32_t end_byte, const std::string& embedded)
{
    return id + '\0' + be32s(start) + be32s(end) + be32s(start_byte) + be32s(end_byte) + embedded;
}

std::string ctoc(const std::string& id, unsigned char flags, const std::vector<std::string>& children,
                 const std::string& embedded)
{
    std::string b = id + '\0' + static_cast<char>(flags) + static_cast<char>(children.size());
    for (const auto& c : children) {
        b += c + '\0';
    }
    return b + embedded;
}

// Bytes that no tag builder writes by chance: a picture's stand-in.
std::string picture(std::size_t n, char seed)
{
    std::string p = std::string("\0image/jpeg\0\3\0", 14);
    for (std::size_t i = 0; p.size() < n; ++i) {
        p.push_back(static_cast<char>(seed + i * 7));
    }
    return p;
}

constexpr std::uint32_t kUnused = 0xFFFFFFFF;

// A podcast's tag: a title, a table of contents, four chapters with titles (one with an image),
// its length, synced lyrics, iTunes' gapless comment, a comment, the cover.
std::string podcast_tag(unsigned major)
{
    const auto title = [&](const std::string& t) { return frame("TIT2", text(t), major); };
    return tag(frame("TIT2", text("Show"), major) +
                   frame("CTOC", ctoc("toc", 0x03, {"chp0", "chp1", "chp2", "chp3"}, title("Contents")), major) +
                   frame("CHAP", chap("chp0", 0, 4000, 0, 1000, title("Intro")), major) +
                   frame("CHAP", chap("chp1", 4000, 9000, 1000, 2000, title("One") + frame("APIC", picture(3000, 'a'), major)), major) +
                   frame("CHAP", chap("chp2", 9000, 15000, 2000, 3000, title("Two")), major) +
                   frame("CHAP", chap("chp3", 15000, 20000, 3000, 4000, title("Three")), major) +
                   frame("TLEN", text("20000"), major) + frame("SYLT", std::string(12, '\0'), major) +
                   frame("COMM", std::string("\0eng" "iTunSMPB\0 00000000 00000210", 31), major) +
                   frame("COMM", std::string("\0eng\0hello", 10), major) + frame("APIC", picture(5000, 'c'), major),
               major);
}

class Mp3Id3Rewrite : public Mp3Files, public ::testing::WithParamInterface<unsigned> {
protected:
    // The cut of the podcast tag before the fixture's audio over `span`: its bytes, and the same
    // cut's audio without the tag (what follows the tag in it).
    std::string cut_with(const std::string& tag_bytes, const Span& span, Cut* out = nullptr)
    {
        const std::string& original = fixture("CbrStereo44k").bytes;
        const std::string audio = original.substr(id3_size(original));
        const std::string file = tag_bytes + audio;
        const Cut cut = served_cut("audio/mpeg", file, span);
        EXPECT_EQ(cut.status, Cut::Status::Ok) << cut.detail;
        expect_invariants(cut, file.size());
        const std::string bytes = materialise(cut, file);
        const Cut bare = served_cut("audio/mpeg", audio, span);
        EXPECT_EQ(bytes.substr(bytes.size() - bare.rep.length), materialise(bare, audio));
        if (out) {
            *out = cut;
        }
        return bytes.substr(0, bytes.size() - bare.rep.length);
    }
};

TEST_P(Mp3Id3Rewrite, ACutKeepsTheTagWithItsChaptersRebased)
{
    ASSERT_EQ(errors(), "");
    const unsigned major = GetParam();
    const auto title = [&](const std::string& t) { return frame("TIT2", text(t), major); };
    Cut cut;
    const std::string got = cut_with(podcast_tag(major), Span{5000000, Span::kToTheEnd}, &cut);
    ASSERT_EQ(cut.start, 5000000);
    ASSERT_EQ(cut.duration, 15000000);
    // chp0 ends before 5 s: gone. chp1 holds 5 s: from 0. The others 5 s earlier.
    const std::string expected =
        tag(frame("TIT2", text("Show"), major) +
                frame("CTOC", ctoc("toc", 0x03, {"chp1", "chp2", "chp3"}, title("Contents")), major) +
                frame("CHAP", chap("chp1", 0, 4000, kUnused, kUnused, title("One") + frame("APIC", picture(3000, 'a'), major)), major) +
                frame("CHAP", chap("chp2", 4000, 10000, kUnused, kUnused, title("Two")), major) +
                frame("CHAP", chap("chp3", 10000, 15000, kUnused, kUnused, title("Three")), major) +
                frame("TLEN", text("15000"), major) + frame("COMM", std::string("\0eng\0hello", 10), major) +
                frame("APIC", picture(5000, 'c'), major),
            major, 0);
    EXPECT_EQ(got, expected);
    // The pictures are the file's bytes, never copied into memory.
    for (const auto& e : cut.rep.extents) {
        if (const auto* m = std::get_if<MemoryBlock>(&e)) {
            EXPECT_EQ(m->bytes.find(picture(3000, 'a').substr(20, 200)), std::string::npos);
            EXPECT_EQ(m->bytes.find(picture(5000, 'c').substr(20, 200)), std::string::npos);
        }
    }
}

TEST_P(Mp3Id3Rewrite, AClipKeepsTheChaptersItOverlapsEndingAtItsEnd)
{
    ASSERT_EQ(errors(), "");
    const unsigned major = GetParam();
    const auto title = [&](const std::string& t) { return frame("TIT2", text(t), major); };
    const std::string got = cut_with(podcast_tag(major), Span{5000000, 12000000});
    const std::string expected =
        tag(frame("TIT2", text("Show"), major) +
                frame("CTOC", ctoc("toc", 0x03, {"chp1", "chp2"}, title("Contents")), major) +
                frame("CHAP", chap("chp1", 0, 4000, kUnused, kUnused, title("One") + frame("APIC", picture(3000, 'a'), major)), major) +
                frame("CHAP", chap("chp2", 4000, 7000, kUnused, kUnused, title("Two")), major) +
                frame("TLEN", text("7000"), major) + frame("COMM", std::string("\0eng\0hello", 10), major) +
                frame("APIC", picture(5000, 'c'), major),
            major, 0);
    EXPECT_EQ(got, expected);
}

INSTANTIATE_TEST_SUITE_P(Versions, Mp3Id3Rewrite, ::testing::Values(3u, 4u),
                         [](const auto& info) { return "Id3v2_" + std::to_string(info.param); });

TEST_F(Mp3Files, Id3v22LengthIsRewrittenAndLyricsDropped)
{
    ASSERT_EQ(errors(), "");
    const auto v22 = [](const std::string& frames) {
        return std::string("ID3\2\0\0", 6) + syncsafe(static_cast<std::uint32_t>(frames.size())) + frames;
    };
    const auto f22 = [](const std::string& id, const std::string& body) {
        return id + be32s(static_cast<std::uint32_t>(body.size())).substr(1) + body;
    };
    const std::string& original = fixture("CbrStereo44k").bytes;
    const std::string audio = original.substr(id3_size(original));
    const std::string file = v22(f22("TT2", text("Show")) + f22("TLE", text("20000")) + f22("SLT", std::string(8, '\0'))) + audio;
    const Cut cut = served_cut("audio/mpeg", file, Span{5000000, Span::kToTheEnd});
    ASSERT_EQ(cut.status, Cut::Status::Ok) << cut.detail;
    const std::string expected = v22(f22("TT2", text("Show")) + f22("TLE", text("15000")));
    EXPECT_EQ(materialise(cut, file).substr(0, expected.size()), expected);
}

// What a cut cannot vouch for leaves the tag out; the cut is made all the same.
struct LeftOut {
    const char* name;
    std::string tag;
};

std::vector<LeftOut> left_out_cases()
{
    std::string many;
    for (unsigned i = 0; i <= mp3::kMaxId3Edits; ++i) {
        many += frame("CHAP", chap("c" + std::to_string(i), i, i + 1, 0, 0, ""), 3);
    }
    return {
        {"CompressedChapter", tag(frame("CHAP", chap("chp0", 0, 4000, 0, 0, ""), 4, 0x08), 4)},
        {"ChapterIdWithoutTerminator", tag(frame("CHAP", std::string(300, 'x'), 3), 3)},
        {"ChapterTooShortForItsTimes", tag(frame("CHAP", std::string("chp0\0\0\0\0\0", 9), 3), 3)},
        {"TocWithMissingChildren", tag(frame("CTOC", std::string("toc\0\3\4a\0b\0", 10), 3), 3)},
        {"MoreEditsThanTheCap", tag(many, 3)},
        {"MoreElementIdBytesThanTheCap",
         tag(frame("CTOC", ctoc("toc", 0, std::vector<std::string>(70, std::string(250, 'i')), ""), 3), 3)},
    };
}

class Mp3Id3LeftOut : public Mp3Files, public ::testing::WithParamInterface<LeftOut> {};

TEST_P(Mp3Id3LeftOut, TheCutStartsWithItsHeaderFrame)
{
    ASSERT_EQ(errors(), "");
    const std::string& original = fixture("CbrStereo44k").bytes;
    const std::string audio = original.substr(id3_size(original));
    const std::string file = GetParam().tag + audio;
    const Cut cut = served_cut("audio/mpeg", file, Span{5000000, Span::kToTheEnd});
    ASSERT_EQ(cut.status, Cut::Status::Ok) << cut.detail;
    const std::string bytes = materialise(cut, file);
    EXPECT_TRUE(read_xing(bytes, 0).ok);
    const Cut bare = served_cut("audio/mpeg", audio, Span{5000000, Span::kToTheEnd});
    EXPECT_EQ(bytes, materialise(bare, audio));
}

INSTANTIATE_TEST_SUITE_P(Tags, Mp3Id3LeftOut, ::testing::ValuesIn(left_out_cases()),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace audio_stream
